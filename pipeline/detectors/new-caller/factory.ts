import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type NewCallerConfig, NewCallerConfigSchema } from './config.js';
import { NewCallerDetector } from './new-caller.js';

export const newCallerFactory: DetectorFactory<NewCallerConfig> = {
  type: 'new_caller',
  configSchema: NewCallerConfigSchema,
  defaultConfig: defaultsOf(NewCallerConfigSchema),
  create: (config) => new NewCallerDetector(config),
};
