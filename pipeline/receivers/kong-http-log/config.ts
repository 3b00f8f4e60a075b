import { type Static, Type } from '@sinclair/typebox';
import { REDACT_FIELDS, redactDefaults } from '../../../sensors/common/redact-config.js';
import { SharedSecret } from '../../config/shared-secret.js';

export const KongHttpLogConfigSchema = Type.Object(
  {
    /**
     * sensor id carried in records, in the ingest origin and in the `receiver` label of the metrics; in the
     * `receivers:` section a receiver named after a slash (`kong_http_log/eu`) takes its key when not given
     */
    sensor_id: Type.String({ minLength: 1, maxLength: 256, default: 'kong' }),
    /** the route on the collector Kong's http-log plugin posts to (each Kong receiver needs its own) */
    path: Type.String({ pattern: '^/', maxLength: 256, default: '/v1/kong/http-log' }),
    /**
     * bearer tokens Kong's http-log plugin must send (its `headers` option: `Authorization: Bearer <token>`);
     * empty = no authentication (only on a trusted network). Never logged.
     */
    tokens: Type.Array(SharedSecret(), { default: [] }),
    /**
     * file holding the key of the token hash of the callers' Authorization header (the same key as every meshward
     * sensor); this or token_hash_key is required, there is no default key. Never logged
     */
    token_hash_key_file: Type.Optional(Type.String({ minLength: 1 })),
    /** the key inline (prefer token_hash_key_file) */
    token_hash_key: Type.Optional(SharedSecret()),
    /** the service when the payload names none (no `service.name` / `service.host`) */
    service_fallback: Type.String({ minLength: 1, maxLength: 256, default: 'kong' }),
    /** query parameters copied into record params, `*` = all (values redacted by name and by secret-looking value) */
    query_params: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 256, default: [] }),
    /** request headers copied into record tags as `header.<name>` (redacted like params), e.g. user-agent */
    header_tags: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 32, default: [] }),
    ...REDACT_FIELDS,
    /** entries per request at most (Kong's queue.max_batch_size must not exceed it) */
    max_batch: Type.Integer({ minimum: 1, maximum: 100_000, default: 1_000 }),
    /** request body limit in bytes */
    body_limit: Type.Integer({ minimum: 1024, maximum: 268_435_456, default: 10_485_760 }),
  },
  { additionalProperties: false },
);
export type KongHttpLogConfig = Static<typeof KongHttpLogConfigSchema>;

/** the defaults; a key (token_hash_key_file or token_hash_key) has none and must be given */
export const defaultKongHttpLogConfig: KongHttpLogConfig = {
  sensor_id: 'kong',
  path: '/v1/kong/http-log',
  tokens: [],
  service_fallback: 'kong',
  query_params: [],
  header_tags: [],
  ...redactDefaults(),
  max_batch: 1_000,
  body_limit: 10_485_760,
};
