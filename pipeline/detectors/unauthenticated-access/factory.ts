import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type UnauthenticatedAccessConfig, UnauthenticatedAccessConfigSchema } from './config.js';
import { UnauthenticatedAccessDetector } from './unauthenticated-access.js';

export const unauthenticatedAccessFactory: DetectorFactory<UnauthenticatedAccessConfig> = {
  type: 'unauthenticated_access',
  configSchema: UnauthenticatedAccessConfigSchema,
  defaultConfig: defaultsOf(UnauthenticatedAccessConfigSchema),
  create: (config) => new UnauthenticatedAccessDetector(config),
};
