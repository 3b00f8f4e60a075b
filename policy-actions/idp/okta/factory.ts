import type { Logger } from '../../../pipeline/core/logger.js';
import type { AdapterFactory } from '../../adapter.js';
import { type OktaConfig, OktaConfigSchema, defaultOktaConfig } from './config.js';
import { OktaAdapter } from './okta.js';

export const oktaFactory = {
  type: 'idp/okta',
  configSchema: OktaConfigSchema,
  defaultConfig: defaultOktaConfig,
  create(config: OktaConfig, deps: { logger: Logger }) {
    return new OktaAdapter(config, deps);
  },
} satisfies AdapterFactory<OktaConfig>;
