import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type TokenMismatchConfig, TokenMismatchConfigSchema } from './config.js';
import { TokenMismatchDetector } from './token-mismatch.js';

export const tokenMismatchFactory: DetectorFactory<TokenMismatchConfig> = {
  type: 'token_mismatch',
  configSchema: TokenMismatchConfigSchema,
  defaultConfig: defaultsOf(TokenMismatchConfigSchema),
  create: (config) => new TokenMismatchDetector(config),
};
