import type { FastifyInstance } from 'fastify';
import type { RecordIngest } from '../../collector/ingest.js';
import type { Logger } from '../../core/logger.js';
import {
  type OtlpTracesConfig,
  OtlpTracesConfigSchema,
  defaultOtlpTracesConfig,
  otlpTracesConfigProblem,
} from './config.js';
import { otlpTracesPlugin } from './otlp-traces.js';

/** OTLP/HTTP trace receiver: a route on the collector's HTTP server. `create` gives the function to register. */
export const otlpTracesFactory = {
  type: 'otlp_traces',
  configSchema: OtlpTracesConfigSchema,
  defaultConfig: defaultOtlpTracesConfig,
  /** the cross-field check of a schema-valid config (checked with the config, before anything starts) */
  configProblem: (config: OtlpTracesConfig) => otlpTracesConfigProblem(config),
  /** `deps.key`: the key the receiver is declared under in the `receivers:` section (`otlp_traces`, `otlp_traces/mesh`) */
  create(config: OtlpTracesConfig, deps: { ingest: RecordIngest; logger?: Logger; key?: string }) {
    return (app: FastifyInstance) => app.register(otlpTracesPlugin, { config, ...deps });
  },
};
