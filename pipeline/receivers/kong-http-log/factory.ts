import type { FastifyInstance } from 'fastify';
import type { RecordIngest } from '../../collector/ingest.js';
import type { Logger } from '../../core/logger.js';
import { type KongHttpLogConfig, KongHttpLogConfigSchema, defaultKongHttpLogConfig } from './config.js';
import { kongHttpLogPlugin } from './kong-http-log.js';

/** Kong http-log receiver: a route on the collector's HTTP server. `create` gives the function to register. */
export const kongHttpLogFactory = {
  type: 'kong_http_log',
  configSchema: KongHttpLogConfigSchema,
  defaultConfig: defaultKongHttpLogConfig,
  create(config: KongHttpLogConfig, deps: { ingest: RecordIngest; logger?: Logger }) {
    return (app: FastifyInstance) => app.register(kongHttpLogPlugin, { config, ...deps });
  },
};
