import type { Logger } from '../../../pipeline/core/logger.js';
import type { AdapterFactory } from '../../adapter.js';
import { type KeycloakConfig, KeycloakConfigSchema, defaultKeycloakConfig } from './config.js';
import { KeycloakAdapter } from './keycloak.js';

export const keycloakFactory = {
  type: 'idp/keycloak',
  configSchema: KeycloakConfigSchema,
  defaultConfig: defaultKeycloakConfig,
  create(config: KeycloakConfig, deps: { logger: Logger; clock?: () => number }) {
    return new KeycloakAdapter(config, deps);
  },
} satisfies AdapterFactory<KeycloakConfig>;
