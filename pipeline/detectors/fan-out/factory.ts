import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type FanOutConfig, FanOutConfigSchema } from './config.js';
import { FanOutDetector } from './fan-out.js';

export const fanOutFactory: DetectorFactory<FanOutConfig> = {
  type: 'fan_out',
  configSchema: FanOutConfigSchema,
  defaultConfig: defaultsOf(FanOutConfigSchema),
  create: (config) => new FanOutDetector(config),
};
