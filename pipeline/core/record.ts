import { type Static, Type } from '@sinclair/typebox';
import { boundedKeyRecord } from './bounded-key-record.js';

/**
 * ApiCallRecord v1: one observed API call. Field names follow OpenTelemetry's HTTP semantic conventions in spirit
 * (method ~ http.request.method, status ~ http.response.status_code, source.ip ~ client.address). A record never
 * carries a raw bearer token or secret: tokens are keyed hashes (`user.tokenHash`).
 */
export const SensorRef = Type.Object(
  {
    kind: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'sensor kind, e.g. envoy_wasm, fastify, nginx, bus, idp',
    }),
    id: Type.String({ minLength: 1, maxLength: 256, description: 'sensor instance id' }),
  },
  { additionalProperties: false },
);

export const RecordSource = Type.Object(
  {
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    service: Type.Optional(Type.String({ maxLength: 256 })),
    principal: Type.Optional(Type.String({ maxLength: 512, description: 'SPIFFE ID of the peer certificate' })),
    mtls: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const RecordUser = Type.Object(
  {
    sub: Type.Optional(Type.String({ maxLength: 256 })),
    tokenHash: Type.Optional(
      Type.String({ maxLength: 128, description: 'keyed hash of the bearer token, never the token' }),
    ),
    sessionId: Type.Optional(Type.String({ maxLength: 256 })),
    clientId: Type.Optional(Type.String({ maxLength: 256 })),
    authOutcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('none')])),
  },
  { additionalProperties: false },
);

export const RecordTrace = Type.Object(
  {
    traceId: Type.Optional(Type.String({ maxLength: 64 })),
    spanId: Type.Optional(Type.String({ maxLength: 32 })),
    parentSpanId: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

/**
 * The bounds on what a caller writes into a record, lengths in UTF-16 code units (JavaScript's `length`): the longest
 * `host`, `path`, `params` key and string value, `tags` key and value, and the most `params` and `tags` entries. The
 * collector cuts a longer value to these (record-bounds.ts) before it checks a record, so a caller's long or many
 * query parameters never cost the record.
 */
/** the most a record's `reqBytes` / `respBytes` hold: summed by the detectors, a larger count could reach Infinity */
export const BYTES_MAX = Number.MAX_SAFE_INTEGER;
/** a byte count as a record holds it: a non-negative integer, at most BYTES_MAX (0 for what is not a count) */
export const byteCount = (n: number | undefined): number =>
  n === undefined || !(n > 0) ? 0 : Math.min(BYTES_MAX, Math.round(n));

export const HOST_MAX = 512;
export const PATH_MAX = 8192;
export const PARAM_KEY_MAX = 256;
export const PARAM_VALUE_MAX = 4096;
export const PARAMS_MAX = 256;
export const TAG_KEY_MAX = 128;
export const TAG_VALUE_MAX = 1024;
export const TAGS_MAX = 64;

const ParamValue = Type.Union([
  Type.String({ maxLength: PARAM_VALUE_MAX }),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
]);

export const ApiCallRecordSchema = Type.Object(
  {
    v: Type.Optional(Type.Literal(1)),
    id: Type.String({ minLength: 1, maxLength: 64, description: 'unique id (ULID)' }),
    ts: Type.Number({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'epoch ms of request start' }),
    durationMs: Type.Number({ minimum: 0, maximum: 86_400_000 }),
    sensor: SensorRef,
    service: Type.String({ minLength: 1, maxLength: 256, description: 'destination service' }),
    method: Type.String({ minLength: 1, maxLength: 32 }),
    host: Type.String({ maxLength: HOST_MAX }),
    path: Type.String({ minLength: 1, maxLength: PATH_MAX, description: 'raw path, query included' }),
    route: Type.Optional(Type.String({ maxLength: 1024, description: 'route template when the source knows it' })),
    status: Type.Integer({ minimum: 0, maximum: 999 }),
    reqBytes: Type.Integer({ minimum: 0, maximum: BYTES_MAX }),
    respBytes: Type.Integer({ minimum: 0, maximum: BYTES_MAX }),
    source: RecordSource,
    user: Type.Optional(RecordUser),
    trace: Type.Optional(RecordTrace),
    params: Type.Optional(
      boundedKeyRecord({ minLength: 0, maxLength: PARAM_KEY_MAX, anyCharacter: true }, ParamValue, {
        maxProperties: PARAMS_MAX,
      }),
    ),
    region: Type.Optional(Type.String({ maxLength: 64 })),
    tags: Type.Optional(
      boundedKeyRecord(
        { minLength: 0, maxLength: TAG_KEY_MAX, anyCharacter: true },
        Type.String({ maxLength: TAG_VALUE_MAX }),
        {
          maxProperties: TAGS_MAX,
        },
      ),
    ),
  },
  { $id: 'https://meshward.dev/schemas/api-call-record-v1.json', title: 'ApiCallRecord', additionalProperties: false },
);

export type ApiCallRecord = Static<typeof ApiCallRecordSchema>;
