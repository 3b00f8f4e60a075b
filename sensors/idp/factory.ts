import type { FastifyInstance } from 'fastify';
import type { RecordIngest } from '../../pipeline/collector/ingest.js';
import { readSecretFile } from '../../pipeline/config/secret-file.js';
import { checkSharedSecret } from '../../pipeline/config/shared-secret.js';
import { mwError } from '../../pipeline/core/errors.js';
import type { Logger } from '../../pipeline/core/logger.js';
import { readTokenHashKey, tokenHashKeyProblem } from '../common/token-hash-key.js';
import { type IdpSensorConfig, IdpSensorConfigSchema, defaultIdpSensorConfig } from './config.js';
import { idpWebhook } from './receiver.js';

/** a secret of the receiver declared as `receivers.<key>` (`where`): from its file, or inline */
const readSecret = (inline: string | undefined, file: string | undefined, name: string, where: string): string => {
  if (file) return checkSharedSecret(readSecretFile(file, `${where}.${name}_file`), `${where}.${name}_file`, file);
  if (inline) return inline;
  throw mwError('CONFIG_INVALID', `${where}: ${name} or ${name}_file is required`);
};

/** The IdP callback sensor: registers its webhook route on a Fastify instance (the collector's, usually). */
export const idpSensorFactory = {
  type: 'idp',
  configSchema: IdpSensorConfigSchema,
  defaultConfig: defaultIdpSensorConfig,
  /** the cross-field check of a schema-valid config (checked with the config, before anything starts) */
  configProblem: (config: IdpSensorConfig) => tokenHashKeyProblem(config),
  /**
   * `deps.key`: the key the receiver is declared under in the `receivers:` section (`idp`, `idp/keycloak`; default
   * `idp`), which its errors name as the operator wrote it (`receivers.idp/keycloak.webhook_token_file: …`)
   */
  async create(
    config: IdpSensorConfig,
    deps: { app: FastifyInstance; ingest: RecordIngest; logger: Logger; key?: string },
  ) {
    const where = `receivers.${deps.key ?? 'idp'}`;
    const tokenHashKey = readTokenHashKey(config, where);
    const webhookToken =
      config.webhook_token || config.webhook_token_file
        ? readSecret(config.webhook_token, config.webhook_token_file, 'webhook_token', where)
        : undefined;
    await deps.app.register(idpWebhook, {
      config,
      ingest: deps.ingest,
      logger: deps.logger,
      tokenHashKey,
      webhookToken,
      key: deps.key,
    });
  },
};
