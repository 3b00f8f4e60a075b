import { recordId } from '../../../sensors/common/record-id.js';
import { setOwn } from '../../core/own-key.js';
import type { Redactor } from '../../../sensors/common/redact.js';
import { authorizationHash } from '../../../sensors/common/token-hash.js';
import {
  type ApiCallRecord,
  HOST_MAX,
  PARAMS_MAX,
  PARAM_KEY_MAX,
  PARAM_VALUE_MAX,
  PATH_MAX,
  TAG_VALUE_MAX,
  byteCount,
} from '../../core/record.js';
import { type OtlpAnyValue, type OtlpKeyValue, type OtlpSpan, SPAN_KIND_SERVER } from './otlp-protocol.js';

/**
 * One OTLP span → an ApiCallRecord, when it is an API call: a SERVER span with an HTTP method. The attribute names
 * of the current HTTP semantic conventions are read first, then the older ones that Envoy/Istio and older SDKs still
 * emit (`http.method`, `http.status_code`, `http.target`, `http.url`, `net.peer.ip`, Envoy's `peer.address`,
 * `request_size` …). Only the fields below are read: no attribute is copied into the record as it came, so a
 * credential an instrumentation recorded (`http.request.header.authorization`) only survives as the keyed hash of
 * the other sensors, or not at all without a key.
 */
export interface SpanMapContext {
  sensorId: string;
  serviceFallback: string;
  /** the keyed token hash of the meshward sensors; undefined = credential attributes are dropped */
  hash: ((token: string) => string) | undefined;
  redactor: Redactor;
  /** query parameter names copied into params; `*` = all */
  queryParams: readonly string[];
}

/** why a span is no API call (skipped, not an error) or cannot be one (rejected: counted as OTLP rejected_spans) */
export type SpanMapResult =
  | { outcome: 'record'; record: ApiCallRecord }
  | { outcome: 'skipped'; reason: 'not_server' | 'not_http' }
  | { outcome: 'rejected'; reason: string; detail: string };

/** the attributes of a span or a resource, by key (a Map: a key named `__proto__` is a key like any other) */
export type Attributes = Map<string, OtlpAnyValue>;

const METHOD = /^[A-Za-z][A-Za-z0-9_-]*$/;
const HEX_ID = /^[0-9a-fA-F]+$/;
const MAX_TS_MS = 8_640_000_000_000_000;
const MAX_DURATION_MS = 86_400_000;

export function attributesOf(list: unknown): Attributes {
  const out: Attributes = new Map();
  if (!Array.isArray(list)) return out;
  for (const kv of list as OtlpKeyValue[]) {
    if (kv && typeof kv.key === 'string' && kv.value && typeof kv.value === 'object') out.set(kv.key, kv.value);
  }
  return out;
}

/** an attribute as text: a string, a number, a bool, or the first element of an array (header values are arrays) */
function text(attrs: Attributes, key: string, max = 1024): string | undefined {
  const v = attrs.get(key);
  if (!v) return undefined;
  const first = v.arrayValue && Array.isArray(v.arrayValue.values) ? v.arrayValue.values[0] : v;
  if (!first || typeof first !== 'object') return undefined;
  let s: string | undefined;
  if (typeof first.stringValue === 'string') s = first.stringValue;
  else if (typeof first.intValue === 'string' || typeof first.intValue === 'number') s = String(first.intValue);
  else if (typeof first.doubleValue === 'number' && Number.isFinite(first.doubleValue)) s = String(first.doubleValue);
  else if (typeof first.boolValue === 'boolean') s = String(first.boolValue);
  if (s === undefined || s === '') return undefined;
  return s.length > max ? s.slice(0, max) : s;
}

const firstText = (attrs: Attributes, keys: readonly string[], max?: number): string | undefined => {
  for (const k of keys) {
    const v = text(attrs, k, max);
    if (v !== undefined) return v;
  }
  return undefined;
};

/** a non-negative number from an int, double or numeric string attribute (Envoy's tags are strings) */
function count(attrs: Attributes, keys: readonly string[]): number | undefined {
  const s = firstText(attrs, keys, 32);
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** the service a resource names: Istio's canonical service first (Envoy's service.name is cluster-derived) */
export function resourceService(resource: Attributes): string | undefined {
  return firstText(resource, ['istio.canonical_service', 'service.name'], 256);
}

/** trace and span ids: 16 or 8 bytes (protobuf) or as many hex digits (OTLP/JSON); all-zero ids are no ids */
function hexId(v: unknown, bytes: number): string | undefined {
  let hex: string | undefined;
  if (v instanceof Uint8Array) {
    if (v.length === bytes) hex = Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex');
  } else if (typeof v === 'string' && v.length === bytes * 2 && HEX_ID.test(v)) {
    hex = v.toLowerCase();
  }
  return hex && /[^0]/.test(hex) ? hex : undefined;
}

/** nanoseconds since the epoch (a decimal int64 string or a number) → epoch ms, microseconds kept */
function nanosToMs(v: unknown): number | undefined {
  let ns: bigint;
  try {
    if (typeof v === 'string' && /^\d{1,20}$/.test(v)) ns = BigInt(v);
    else if (typeof v === 'number' && Number.isFinite(v) && v >= 0) ns = BigInt(Math.trunc(v));
    else return undefined;
  } catch {
    return undefined;
  }
  return Number(ns / 1000n) / 1000;
}

const isServer = (kind: unknown) => kind === SPAN_KIND_SERVER || kind === 'SPAN_KIND_SERVER';

/** `scheme://host/path?query` → host and `/path?query` (no URL parsing: the path is kept as the client sent it) */
function splitUrl(url: string): { host: string; target: string } {
  const scheme = url.indexOf('://');
  if (scheme < 0) return { host: '', target: url };
  const slash = url.indexOf('/', scheme + 3);
  const end = slash < 0 ? url.length : slash;
  const authority = url.slice(scheme + 3, end);
  return { host: authority.slice(authority.lastIndexOf('@') + 1), target: slash < 0 ? '/' : url.slice(slash) };
}

/** `/path?query#fragment` → the path and the query (without `?`) */
function splitTarget(target: string): { path: string; query: string | undefined } {
  const hash = target.indexOf('#');
  const t = hash < 0 ? target : target.slice(0, hash);
  const q = t.indexOf('?');
  return q < 0 ? { path: t, query: undefined } : { path: t.slice(0, q), query: t.slice(q + 1) };
}

interface Where {
  host: string | undefined;
  path: string | undefined;
  query: string | undefined;
}

/** path, query and host, from url.path/url.query, http.target, then a full URL (url.full, http.url) */
function whereOf(attrs: Attributes): Where {
  const full = firstText(attrs, ['url.full', 'http.url'], PATH_MAX * 2);
  const fromUrl = full !== undefined ? splitUrl(full) : undefined;
  let path = text(attrs, 'url.path', PATH_MAX * 2);
  let query = path !== undefined ? text(attrs, 'url.query', PATH_MAX * 2) : undefined;
  if (path === undefined) {
    const target = text(attrs, 'http.target', PATH_MAX * 2) ?? fromUrl?.target;
    if (target !== undefined) ({ path, query } = splitTarget(target));
  }
  const host =
    firstText(attrs, ['server.address', 'http.host', 'net.host.name'], HOST_MAX) || fromUrl?.host || undefined;
  return { host, path, query };
}

function paramsOf(query: string, ctx: SpanMapContext): ApiCallRecord['params'] {
  if (ctx.queryParams.length === 0) return undefined;
  const all = ctx.queryParams.includes('*');
  const wanted = all ? undefined : new Set(ctx.queryParams);
  const params: NonNullable<ApiCallRecord['params']> = {};
  let n = 0;
  for (const [rawKey, rawValue] of new URLSearchParams(query)) {
    if (n >= PARAMS_MAX) break;
    if (rawKey.length > PARAM_KEY_MAX || (wanted && !wanted.has(rawKey)) || Object.hasOwn(params, rawKey)) continue;
    const value = rawValue.length > PARAM_VALUE_MAX ? rawValue.slice(0, PARAM_VALUE_MAX) : rawValue;
    setOwn(params, rawKey, ctx.redactor.value(rawKey, value));
    n++;
  }
  return n > 0 ? params : undefined;
}

export function mapSpan(span: OtlpSpan, service: string | undefined, ctx: SpanMapContext): SpanMapResult {
  if (!isServer(span.kind)) return { outcome: 'skipped', reason: 'not_server' };
  const attrs = attributesOf(span.attributes);
  let method = firstText(attrs, ['http.request.method', 'http.method'], 32);
  if (method === undefined) return { outcome: 'skipped', reason: 'not_http' };
  if (method === '_OTHER') method = text(attrs, 'http.request.method_original', 32) ?? method;
  if (!METHOD.test(method)) return { outcome: 'rejected', reason: 'bad_method', detail: 'the HTTP method is invalid' };
  const { host, path, query } = whereOf(attrs);
  if (!path)
    return {
      outcome: 'rejected',
      reason: 'no_path',
      detail: 'no url.path, http.target, url.full or http.url attribute',
    };
  const start = nanosToMs(span.startTimeUnixNano);
  if (start === undefined || start <= 0 || start > MAX_TS_MS)
    return { outcome: 'rejected', reason: 'bad_time', detail: 'startTimeUnixNano is missing or invalid' };
  const end = nanosToMs(span.endTimeUnixNano);
  const statusText = firstText(attrs, ['http.response.status_code', 'http.status_code'], 16);
  const status = statusText === undefined ? 0 : Number(statusText);
  if (!Number.isInteger(status) || status < 0 || status > 999)
    return { outcome: 'rejected', reason: 'bad_status', detail: 'the HTTP status code is invalid' };

  const record: ApiCallRecord = {
    v: 1,
    id: recordId(),
    ts: start,
    durationMs: end !== undefined && end > start ? Math.min(MAX_DURATION_MS, end - start) : 0,
    sensor: { kind: 'otlp', id: ctx.sensorId },
    service: firstText(attrs, ['istio.canonical_service'], 256) ?? service ?? ctx.serviceFallback,
    method: method.toUpperCase(),
    host: host ?? '',
    path: path.length > PATH_MAX ? path.slice(0, PATH_MAX) : path,
    status,
    reqBytes: byteCount(count(attrs, ['http.request.body.size', 'http.request_content_length', 'request_size'])),
    respBytes: byteCount(count(attrs, ['http.response.body.size', 'http.response_content_length', 'response_size'])),
    source: {},
  };
  const route = text(attrs, 'http.route', 1024);
  if (route) record.route = route;
  const ip = firstText(
    attrs,
    ['client.address', 'network.peer.address', 'net.sock.peer.addr', 'net.peer.ip', 'peer.address'],
    64,
  );
  if (ip) record.source.ip = ip;

  const sub = firstText(attrs, ['enduser.id', 'user.id'], 256);
  const auth = ctx.hash ? text(attrs, 'http.request.header.authorization', 16_384) : undefined;
  const tokenHash = auth && ctx.hash ? authorizationHash(ctx.hash, auth) : undefined;
  if (sub || tokenHash) {
    // a user or a credential the service answered other than 401 (as the access-log receiver reads a token)
    record.user = { authOutcome: status === 401 ? 'failure' : 'success' };
    if (sub) record.user.sub = sub;
    if (tokenHash) record.user.tokenHash = tokenHash;
  }
  const traceId = hexId(span.traceId, 16);
  if (traceId) {
    record.trace = { traceId };
    const spanId = hexId(span.spanId, 8);
    if (spanId) record.trace.spanId = spanId;
    const parentSpanId = hexId(span.parentSpanId, 8);
    if (parentSpanId) record.trace.parentSpanId = parentSpanId;
  }
  if (query) {
    const params = paramsOf(query, ctx);
    if (params) record.params = params;
  }
  const userAgent = firstText(
    attrs,
    ['user_agent.original', 'http.user_agent', 'user_agent', 'http.request.header.user-agent'],
    TAG_VALUE_MAX,
  );
  if (userAgent) record.tags = { 'header.user-agent': ctx.redactor.value('user-agent', userAgent) };
  return { outcome: 'record', record };
}

/** what names a span in the dead-letter topic: its ids, never its attributes (they may hold credentials) */
export function spanRef(span: unknown): { traceId?: string; spanId?: string } {
  const s = span && typeof span === 'object' ? (span as OtlpSpan) : {};
  return { traceId: hexId(s.traceId, 16), spanId: hexId(s.spanId, 8) };
}
