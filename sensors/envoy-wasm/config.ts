import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { problemMessage } from '../../pipeline/config/schema-problems.js';
import { SharedSecret } from '../../pipeline/config/shared-secret.js';
import { mwError } from '../../pipeline/core/errors.js';

/**
 * Plugin configuration of the Envoy proxy-wasm sensor: the JSON given to Envoy as the filter's `configuration`
 * (Istio: `pluginConfig`). The module parses it itself (assembly/plugin-config.ts); this is its twin for Node, for
 * docs, JSON Schema, deployment files and tests. Both must accept and reject the same documents.
 */
export const EnvoyWasmConfigSchema = Type.Object(
  {
    /** Envoy cluster the batches are sent to (must exist in the proxy's clusters) */
    collector_cluster: Type.String({
      minLength: 1,
      maxLength: 256,
      default: 'meshward_collector',
      description: 'Envoy cluster of the collector',
    }),
    /** `:authority` of the batch requests */
    collector_authority: Type.String({
      minLength: 1,
      maxLength: 256,
      default: 'meshward-collector',
      description: ':authority of batch requests',
    }),
    /** path of the collector's record endpoint */
    collector_path: Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: '^/',
      default: '/v1/records',
      description: 'collector endpoint path',
    }),
    /** bearer token the collector knows this sensor by (never logged) */
    sensor_token: Type.String({
      minLength: 1,
      maxLength: 512,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'sensor bearer token for the collector',
    }),
    /** sensor id in records; empty: the Envoy node id */
    sensor_id: Type.String({ maxLength: 256, default: '', description: 'sensor id; empty uses the Envoy node id' }),
    /** destination service name in records; empty: the upstream cluster name */
    service: Type.String({ maxLength: 256, default: '', description: 'service name; empty uses xds.cluster_name' }),
    /** records per batch; a full batch is sent at once */
    batch_size: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'records per batch' }),
    /** flush period: whatever is buffered is sent at each tick */
    tick_ms: Type.Integer({ minimum: 10, maximum: 600_000, default: 1000, description: 'flush period in ms' }),
    /** batches awaiting an answer at most; beyond, records wait in the buffer */
    max_in_flight: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'batch calls in flight at most' }),
    /** records buffered at most (per worker); beyond, records are dropped and counted */
    max_buffer: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'buffered records at most' }),
    /** fraction of requests recorded */
    sample_rate: Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'fraction of requests recorded' }),
    /** HMAC key for user.tokenHash; the same key as the Node sensors' token hashing */
    token_hash_key: SharedSecret({ maxLength: 256, description: 'HMAC-SHA256 key for token hashes' }),
    /** query parameters copied into `params` (exact names) */
    keep_params: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      maxItems: 64,
      default: [],
      description: 'query params kept in params',
    }),
    /** query parameters whose values become `[redacted]` in path and params (case-insensitive) */
    redact_params: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      maxItems: 64,
      default: [
        'access_token',
        'id_token',
        'refresh_token',
        'token',
        'api_key',
        'apikey',
        'key',
        'password',
        'passwd',
        'secret',
        'client_secret',
        'code',
        'sig',
        'signature',
        'session',
        'auth',
      ],
      description: 'query params redacted',
    }),
    /** request headers copied into `tags` */
    tag_headers: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      maxItems: 64,
      default: ['x-request-id'],
      description: 'request headers kept as tags',
    }),
    /** timeout of one batch call */
    http_timeout_ms: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 5000,
      description: 'batch call timeout in ms',
    }),
  },
  { additionalProperties: false, title: 'EnvoyWasmSensorConfig' },
);

export type EnvoyWasmConfig = Static<typeof EnvoyWasmConfigSchema>;

const compiled = TypeCompiler.Compile(EnvoyWasmConfigSchema);

/** the defaults; `sensor_token` and `token_hash_key` have none and must be set */
export const defaultConfig: Omit<EnvoyWasmConfig, 'sensor_token' | 'token_hash_key'> = Value.Default(
  Type.Omit(EnvoyWasmConfigSchema, ['sensor_token', 'token_hash_key']),
  {},
) as Omit<EnvoyWasmConfig, 'sensor_token' | 'token_hash_key'>;

/** problems with a plugin configuration, [] when it is acceptable (cross-field checks included) */
export function configProblems(input: unknown): string[] {
  const candidate = Value.Default(EnvoyWasmConfigSchema, Value.Clone(input));
  const problems = [...compiled.Errors(candidate)].map((e) => `${e.path || '/'}: ${problemMessage(e)}`);
  if (problems.length > 0) return problems;
  const c = candidate as EnvoyWasmConfig;
  if (c.max_buffer < c.batch_size) problems.push('max_buffer must be at least batch_size');
  return problems;
}

/** the configuration with defaults applied; throws MW_ERR_CONFIG_INVALID saying what to fix */
export function parseConfig(input: unknown): EnvoyWasmConfig {
  const problems = configProblems(input);
  if (problems.length > 0) throw mwError('CONFIG_INVALID', `envoy_wasm sensor: ${problems.join('; ')}`, { problems });
  return Value.Default(EnvoyWasmConfigSchema, Value.Clone(input)) as EnvoyWasmConfig;
}
