import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type CredentialStuffingConfig, CredentialStuffingConfigSchema } from './config.js';
import { CredentialStuffingDetector } from './credential-stuffing.js';

export const credentialStuffingFactory: DetectorFactory<CredentialStuffingConfig> = {
  type: 'credential_stuffing',
  configSchema: CredentialStuffingConfigSchema,
  defaultConfig: defaultsOf(CredentialStuffingConfigSchema),
  create: (config) => new CredentialStuffingDetector(config),
};
