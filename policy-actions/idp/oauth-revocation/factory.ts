import type { Logger } from '../../../pipeline/core/logger.js';
import type { AdapterFactory } from '../../adapter.js';
import { type OAuthRevocationConfig, OAuthRevocationConfigSchema, defaultOAuthRevocationConfig } from './config.js';
import { OAuthRevocationAdapter, type TokenSource } from './oauth-revocation.js';

export const oauthRevocationFactory = {
  type: 'idp/oauth_revocation',
  configSchema: OAuthRevocationConfigSchema,
  defaultConfig: defaultOAuthRevocationConfig,
  create(config: OAuthRevocationConfig, deps: { logger: Logger; tokenSource?: TokenSource }) {
    return new OAuthRevocationAdapter(config, deps);
  },
} satisfies AdapterFactory<OAuthRevocationConfig>;
