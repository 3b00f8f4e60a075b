import type { FastifyInstance } from 'fastify';
import type { RecordIngest } from '../../pipeline/collector/ingest.js';
import { readSecretFile } from '../../pipeline/config/secret-file.js';
import { checkSharedSecret } from '../../pipeline/config/shared-secret.js';
import { mwError } from '../../pipeline/core/errors.js';
import type { Logger } from '../../pipeline/core/logger.js';
import { readTokenHashKey, tokenHashKeyProblem } from '../common/token-hash-key.js';
import { type IdpSensorConfig, IdpSensorConfigSchema, defaultIdpSensorConfig } from './config.js';
import { idpWebhook } from './receiver.js';

const readSecret = (inline: string | undefined, file: string | undefined, name: string): string => {
  if (file)
    return checkSharedSecret(readSecretFile(file, `sensors.idp.${name}_file`), `sensors.idp.${name}_file`, file);
  if (inline) return inline;
  throw mwError('CONFIG_INVALID', `sensors.idp: ${name} or ${name}_file is required`);
};

/** The IdP callback sensor: registers its webhook route on a Fastify instance (the collector's, usually). */
export const idpSensorFactory = {
  type: 'idp',
  configSchema: IdpSensorConfigSchema,
  defaultConfig: defaultIdpSensorConfig,
  /** the cross-field check of a schema-valid config (checked with the config, before anything starts) */
  configProblem: (config: IdpSensorConfig) => tokenHashKeyProblem(config),
  async create(config: IdpSensorConfig, deps: { app: FastifyInstance; ingest: RecordIngest; logger: Logger }) {
    const tokenHashKey = readTokenHashKey(config, 'sensors.idp');
    const webhookToken =
      config.webhook_token || config.webhook_token_file
        ? readSecret(config.webhook_token, config.webhook_token_file, 'webhook_token')
        : undefined;
    await deps.app.register(idpWebhook, {
      config,
      ingest: deps.ingest,
      logger: deps.logger,
      tokenHashKey,
      webhookToken,
    });
  },
};
