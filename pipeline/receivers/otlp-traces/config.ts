import { type Static, Type } from '@sinclair/typebox';
import { REDACT_FIELDS, redactDefaults } from '../../../sensors/common/redact-config.js';
import { tokenHashKeyProblem } from '../../../sensors/common/token-hash-key.js';
import { SharedSecret } from '../../config/shared-secret.js';

export const OtlpTracesConfigSchema = Type.Object(
  {
    /**
     * sensor id carried in records, in the ingest origin and in the `receiver` label of the metrics; in the
     * `receivers:` section a receiver named after a slash (`otlp_traces/mesh`) takes its key when not given
     */
    sensor_id: Type.String({ minLength: 1, maxLength: 256, default: 'otlp' }),
    /** the route on the collector an OTLP/HTTP exporter posts to (OTLP's own path; each OTLP receiver needs its own) */
    path: Type.String({ pattern: '^/', maxLength: 256, default: '/v1/traces' }),
    /**
     * bearer tokens the exporter must send (its `headers`: `Authorization: Bearer <token>`); empty = no
     * authentication (only on a trusted network). Never logged.
     */
    tokens: Type.Array(SharedSecret(), { default: [] }),
    /**
     * file holding the key of the token hash (the same key as every meshward sensor): a span's
     * `http.request.header.authorization` attribute becomes the record's `user.tokenHash`. Optional: without a key
     * that attribute is dropped. Never logged
     */
    token_hash_key_file: Type.Optional(Type.String({ minLength: 1 })),
    /** the key inline (prefer token_hash_key_file) */
    token_hash_key: Type.Optional(SharedSecret()),
    /** the service when the span's resource names none (no `istio.canonical_service`, no `service.name`) */
    service_fallback: Type.String({ minLength: 1, maxLength: 256, default: 'otlp' }),
    /**
     * query parameters (of url.query, http.target or the full URL) copied into record params, `*` = all (values
     * redacted by name and by secret-looking value); the record's path never carries the query
     */
    query_params: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 256, default: ['*'] }),
    ...REDACT_FIELDS,
    /** spans per request at most (413 past it; the OpenTelemetry Collector's batch processor sends 8192) */
    max_spans: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20_000 }),
    /** request body limit in bytes, decompressed */
    body_limit: Type.Integer({ minimum: 1024, maximum: 268_435_456, default: 10_485_760 }),
  },
  { additionalProperties: false },
);
export type OtlpTracesConfig = Static<typeof OtlpTracesConfigSchema>;

export const defaultOtlpTracesConfig: OtlpTracesConfig = {
  sensor_id: 'otlp',
  path: '/v1/traces',
  tokens: [],
  service_fallback: 'otlp',
  query_params: ['*'],
  ...redactDefaults(),
  max_spans: 20_000,
  body_limit: 10_485_760,
};

/** the cross-field check: at most one key source, as every receiver's (tokenHashKeyProblem), but the key is optional */
export function otlpTracesConfigProblem(config: OtlpTracesConfig): string | undefined {
  return config.token_hash_key || config.token_hash_key_file ? tokenHashKeyProblem(config) : undefined;
}
