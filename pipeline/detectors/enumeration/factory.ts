import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type EnumerationConfig, EnumerationConfigSchema } from './config.js';
import { EnumerationDetector } from './enumeration.js';

export const enumerationFactory: DetectorFactory<EnumerationConfig> = {
  type: 'enumeration',
  configSchema: EnumerationConfigSchema,
  defaultConfig: defaultsOf(EnumerationConfigSchema),
  create: (config) => new EnumerationDetector(config),
};
