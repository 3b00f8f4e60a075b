/**
 * The one catalogue of meshward errors. Every error has a stable code, carried to logs, HTTP answers and metrics.
 * `retryable` tells callers (adapters, sinks, the bus) whether to back off and try again; `retryAfterSeconds`, when
 * the server knows how long that should be, is sent as the answer's `Retry-After` header.
 */
export interface ErrorSpec {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

const spec = (
  code: string,
  status: number,
  retryable: boolean,
  message: string,
  retryAfterSeconds?: number,
): ErrorSpec => ({ code, status, retryable, message, retryAfterSeconds });

export const ERRORS = {
  CONFIG_INVALID: spec('MW_ERR_CONFIG_INVALID', 500, false, 'configuration is invalid'),
  RECORD_INVALID: spec('MW_ERR_RECORD_INVALID', 400, false, 'record failed validation'),
  RECORD_PARSE: spec('MW_ERR_RECORD_PARSE', 400, false, 'record is not valid JSON'),
  BODY_TOO_LARGE: spec('MW_ERR_BODY_TOO_LARGE', 413, false, 'request body is too large'),
  UNSUPPORTED_ENCODING: spec('MW_ERR_UNSUPPORTED_ENCODING', 415, false, 'the content encoding is not supported'),
  UNSUPPORTED_MEDIA_TYPE: spec('MW_ERR_UNSUPPORTED_MEDIA_TYPE', 415, false, 'the content type is not supported'),
  BATCH_TOO_LARGE: spec('MW_ERR_BATCH_TOO_LARGE', 413, false, 'too many records in one request'),
  UNAUTHENTICATED: spec('MW_ERR_UNAUTHENTICATED', 401, false, 'missing or invalid credentials'),
  FORBIDDEN: spec('MW_ERR_FORBIDDEN', 403, false, 'credentials do not allow this operation'),
  // the collector's backpressure, answered with Retry-After: a full queue drains within seconds as its consumer (the
  // correlator, or Kafka for the producer's queue) catches up, so 2 s; a bus that is down or not acknowledging (a
  // publish waits up to 10 s for Kafka) needs longer, so 5 s, the OpenTelemetry Collector exporters' first backoff.
  // Both stay within an SDK exporter's 10 s export timeout, past which the JavaScript SDK would not retry at all.
  BUS_SATURATED: spec('MW_ERR_BUS_SATURATED', 429, true, 'the pipeline is saturated, retry later', 2),
  BUS_UNAVAILABLE: spec('MW_ERR_BUS_UNAVAILABLE', 503, true, 'the bus is unavailable, retry later', 5),
  // the Redis client reconnects by itself and fails commands fast meanwhile: a few seconds, as for the bus
  STORE_UNAVAILABLE: spec('MW_ERR_STORE_UNAVAILABLE', 503, true, 'the state store is unavailable', 5),
  NOT_FOUND: spec('MW_ERR_NOT_FOUND', 404, false, 'not found'),
  CONFLICT: spec('MW_ERR_CONFLICT', 409, false, 'the resource is not in a state that allows this'),
  ALERT_OWNED: spec('MW_ERR_ALERT_OWNED', 409, false, 'the alert is assigned to another analyst'),
  BAD_REQUEST: spec('MW_ERR_BAD_REQUEST', 400, false, 'bad request'),
  REQUEST_TIMEOUT: spec('MW_ERR_REQUEST_TIMEOUT', 408, true, 'the request was not received in time'),
  /** never sent (no one is left to read it): the code and nginx's 499 "client closed request", for metrics and logs */
  CLIENT_ABORTED: spec('MW_ERR_CLIENT_ABORTED', 499, false, 'the client closed the connection mid-request'),
  HEADERS_TOO_LARGE: spec('MW_ERR_HEADERS_TOO_LARGE', 431, false, 'the request headers are too large'),
  RATE_LIMITED: spec('MW_ERR_RATE_LIMITED', 429, true, 'too many requests'),
  SYSLOG_PARSE: spec('MW_ERR_SYSLOG_PARSE', 400, false, 'syslog line could not be parsed'),
  CATALOG_INVALID: spec('MW_ERR_CATALOG_INVALID', 400, false, 'catalogue document is invalid'),
  POLICY_INVALID: spec('MW_ERR_POLICY_INVALID', 400, false, 'policy file is invalid'),
  ADAPTER_FAILED: spec('MW_ERR_ADAPTER_FAILED', 502, true, 'an enforcement adapter call failed'),
  GUARDRAIL_BLOCKED: spec('MW_ERR_GUARDRAIL_BLOCKED', 409, false, 'a guardrail blocked the action'),
  SINK_FAILED: spec('MW_ERR_SINK_FAILED', 502, true, 'an alert sink failed'),
  API_UNAVAILABLE: spec('MW_ERR_API_UNAVAILABLE', 503, true, 'the analyst API did not answer'),
  FILE_UNREADABLE: spec('MW_ERR_FILE_UNREADABLE', 400, false, 'a file cannot be read'),
  FILE_UNWRITABLE: spec('MW_ERR_FILE_UNWRITABLE', 500, false, 'a file cannot be written'),
  INTERNAL: spec('MW_ERR_INTERNAL', 500, false, 'internal error'),
} as const;

export type ErrorName = keyof typeof ERRORS;

export class MeshwardError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  /** seconds a client should wait before retrying (the answer's Retry-After header), when the catalogue knows */
  readonly retryAfterSeconds: number | undefined;
  readonly details?: unknown;

  /** `options.retryAfterSeconds`: the wait this answer knows (a throttle's), in place of the catalogue's */
  constructor(
    name: ErrorName,
    detail?: string,
    details?: unknown,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    const s = ERRORS[name];
    super(detail ? `${s.message}: ${detail}` : s.message, options?.cause === undefined ? undefined : options);
    this.name = 'MeshwardError';
    this.code = s.code;
    this.status = s.status;
    this.retryable = s.retryable;
    this.retryAfterSeconds = options?.retryAfterSeconds ?? s.retryAfterSeconds;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const mwError = (name: ErrorName, detail?: string, details?: unknown, cause?: unknown): MeshwardError =>
  new MeshwardError(name, detail, details, cause === undefined ? undefined : { cause });

export const isRetryable = (err: unknown): boolean => err instanceof MeshwardError && err.retryable;
