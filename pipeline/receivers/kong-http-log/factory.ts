import type { FastifyInstance } from 'fastify';
import type { RecordIngest } from '../../collector/ingest.js';
import type { Logger } from '../../core/logger.js';
import { tokenHashKeyProblem } from '../../../sensors/common/token-hash-key.js';
import { type KongHttpLogConfig, KongHttpLogConfigSchema, defaultKongHttpLogConfig } from './config.js';
import { kongHttpLogPlugin } from './kong-http-log.js';

/** Kong http-log receiver: a route on the collector's HTTP server. `create` gives the function to register. */
export const kongHttpLogFactory = {
  type: 'kong_http_log',
  configSchema: KongHttpLogConfigSchema,
  defaultConfig: defaultKongHttpLogConfig,
  /** the cross-field check of a schema-valid config (checked with the config, before anything starts) */
  configProblem: (config: KongHttpLogConfig) => tokenHashKeyProblem(config),
  /**
   * `deps.key`: the key the receiver is declared under in the `receivers:` section (`kong_http_log`,
   * `kong_http_log/edge`; default `kong_http_log`), which its errors name as the operator wrote it
   */
  create(config: KongHttpLogConfig, deps: { ingest: RecordIngest; logger?: Logger; key?: string }) {
    return (app: FastifyInstance) => app.register(kongHttpLogPlugin, { config, ...deps });
  },
};
