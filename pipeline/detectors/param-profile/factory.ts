import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type ParamProfileConfig, ParamProfileConfigSchema } from './config.js';
import { ParamProfileDetector } from './param-profile.js';

export const paramProfileFactory: DetectorFactory<ParamProfileConfig> = {
  type: 'param_profile',
  configSchema: ParamProfileConfigSchema,
  defaultConfig: defaultsOf(ParamProfileConfigSchema),
  create: (config) => new ParamProfileDetector(config),
};
