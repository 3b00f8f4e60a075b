import { recordId } from '../../../sensors/common/record-id.js';
import { type ApiCallRecord, byteCount } from '../../core/record.js';
import type { SyslogFormat } from './config.js';

/**
 * JSON access logs → ApiCallRecords. The formats are the ones defined in deploy/nginx-logs (nginx `log_format
 * escape=json`, every value a string) and deploy/haproxy-logs (HAProxy `log-format` shaped as JSON, numbers bare).
 */
export type MapFailure = 'not_json' | 'not_object' | 'unknown_format' | 'missing_field' | 'field_type';
export type MapResult =
  | { ok: true; record: ApiCallRecord; truncated: boolean }
  | { ok: false; reason: MapFailure; detail: string };

export interface MapContext {
  format: SyslogFormat;
  sensorId: string;
  serviceFrom: 'host' | 'fixed' | 'backend';
  serviceName: string;
  /** syslog header time, a fallback when the log has none */
  headerTs?: number;
}

const LIMITS = { method: 32, host: 512, path: 8192, ip: 64, sub: 256, tag: 1024 } as const;
const TOKEN_HASH = /^h1:[0-9a-f]{32}$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const METHOD = /^[A-Za-z][A-Za-z0-9_-]*$/;

class FieldError extends Error {
  constructor(
    readonly reason: 'missing_field' | 'field_type',
    detail: string,
  ) {
    super(detail);
  }
}

type Obj = Record<string, unknown>;

/** a string field; absent, empty and "-" (nginx/HAProxy's "no value") are undefined */
function str(o: Obj, k: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    throw new FieldError('field_type', `${k} is not a string`);
  }
  return v === '' || v === '-' ? undefined : v;
}

/** a number field, given as a number (HAProxy) or a decimal string (nginx) */
function num(o: Obj, k: string): number | undefined {
  const v = o[k];
  if (v === undefined || v === null || v === '' || v === '-') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) throw new FieldError('field_type', `${k} is not a number`);
  return n;
}

function required<T>(v: T | undefined, k: string): T {
  if (v === undefined) throw new FieldError('missing_field', `${k} is missing`);
  return v;
}

interface Common {
  ts: number;
  durationMs: number;
  method: string;
  host: string;
  uri: string;
  status: number;
  reqBytes: number;
  respBytes: number;
  ip?: string;
  mtls?: boolean;
  clientDn?: string;
  traceparent?: string;
  tokenHash?: string;
  user?: string;
  backend?: string;
  requestId?: string;
}

function fromNginx(o: Obj, headerTs: number | undefined): Common {
  const requestTime = num(o, 'request_time') ?? 0;
  const msec = num(o, 'msec');
  const endMs = msec !== undefined ? msec * 1000 : (headerTs ?? Date.now());
  const verify = str(o, 'ssl_client_verify');
  return {
    ts: Math.round(endMs - requestTime * 1000),
    durationMs: requestTime * 1000,
    method: required(str(o, 'method'), 'method'),
    host: str(o, 'host') ?? '',
    uri: required(str(o, 'uri'), 'uri'),
    status: required(num(o, 'status'), 'status'),
    reqBytes: byteCount(num(o, 'request_length')),
    respBytes: byteCount(num(o, 'bytes_sent')),
    ip: str(o, 'remote_addr'),
    mtls: verify === undefined || verify === 'NONE' ? undefined : verify === 'SUCCESS',
    clientDn: str(o, 'ssl_client_s_dn'),
    traceparent: str(o, 'traceparent'),
    tokenHash: str(o, 'token_hash'),
    user: str(o, 'user'),
    requestId: str(o, 'request_id'),
  };
}

function fromHaproxy(o: Obj, headerTs: number | undefined): Common {
  const active = num(o, 'ta');
  const total = num(o, 'tt');
  const verify = num(o, 'ssl_c_verify');
  const hasCert = str(o, 'ssl_c_s_dn') !== undefined;
  return {
    ts: num(o, 'ts') ?? headerTs ?? Date.now(),
    durationMs: Math.max(0, active !== undefined && active >= 0 ? active : (total ?? 0)),
    method: required(str(o, 'method'), 'method'),
    host: str(o, 'host') ?? '',
    uri: required(str(o, 'uri'), 'uri'),
    status: required(num(o, 'status'), 'status'),
    reqBytes: byteCount(num(o, 'bytes_in')),
    respBytes: byteCount(num(o, 'bytes_out')),
    ip: str(o, 'client_ip'),
    mtls: hasCert ? verify === 0 : undefined,
    clientDn: str(o, 'ssl_c_s_dn'),
    traceparent: str(o, 'traceparent'),
    tokenHash: str(o, 'token_hash'),
    user: str(o, 'user'),
    backend: str(o, 'backend'),
    requestId: str(o, 'request_id'),
  };
}

function detect(o: Obj): 'nginx_json' | 'haproxy_json' | undefined {
  if ('request_time' in o || 'msec' in o) return 'nginx_json';
  if ('tt' in o || 'ta' in o) return 'haproxy_json';
  return undefined;
}

const hostName = (host: string): string => host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');

/** one JSON access log message → a record, or why not */
export function mapAccessLog(msg: string, ctx: MapContext): MapResult {
  let o: unknown;
  try {
    o = JSON.parse(msg);
  } catch {
    return { ok: false, reason: 'not_json', detail: 'message is not JSON' };
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    return { ok: false, reason: 'not_object', detail: 'message is not a JSON object' };
  }
  const fmt = ctx.format === 'auto' ? detect(o as Obj) : ctx.format;
  if (!fmt) return { ok: false, reason: 'unknown_format', detail: 'neither the nginx nor the HAProxy JSON format' };
  let c: Common;
  try {
    c = fmt === 'nginx_json' ? fromNginx(o as Obj, ctx.headerTs) : fromHaproxy(o as Obj, ctx.headerTs);
  } catch (err) {
    if (err instanceof FieldError) return { ok: false, reason: err.reason, detail: err.message };
    throw err;
  }
  if (!METHOD.test(c.method) || c.method.length > LIMITS.method) {
    return { ok: false, reason: 'field_type', detail: 'method is not an HTTP method token' };
  }
  if (!Number.isInteger(c.status) || c.status > 999)
    return { ok: false, reason: 'field_type', detail: 'status is not an HTTP status' };
  if (c.ts < 0 || c.ts > 8_640_000_000_000_000)
    return { ok: false, reason: 'field_type', detail: 'time is out of range' };

  let truncated = false;
  const cut = (s: string, max: number): string => {
    if (s.length <= max) return s;
    truncated = true;
    return s.slice(0, max);
  };
  const service =
    ctx.serviceFrom === 'fixed'
      ? ctx.serviceName
      : (ctx.serviceFrom === 'backend' && c.backend) || hostName(c.host) || ctx.serviceName;
  const record: ApiCallRecord = {
    v: 1,
    id: recordId(),
    ts: c.ts,
    durationMs: Math.min(86_400_000, Math.max(0, c.durationMs)),
    sensor: { kind: fmt === 'nginx_json' ? 'nginx' : 'haproxy', id: ctx.sensorId },
    service: cut(service, 256),
    method: c.method.toUpperCase(),
    host: cut(c.host, LIMITS.host),
    path: cut(c.uri, LIMITS.path),
    status: Math.max(0, c.status),
    reqBytes: c.reqBytes,
    respBytes: c.respBytes,
    source: {},
  };
  if (c.ip) record.source.ip = cut(c.ip, LIMITS.ip);
  if (c.mtls !== undefined) record.source.mtls = c.mtls;
  if ((c.tokenHash && TOKEN_HASH.test(c.tokenHash)) || c.user) {
    record.user = { authOutcome: c.status === 401 ? 'failure' : c.tokenHash ? 'success' : 'none' };
    if (c.user) record.user.sub = cut(c.user, LIMITS.sub);
    if (c.tokenHash && TOKEN_HASH.test(c.tokenHash)) record.user.tokenHash = c.tokenHash;
  }
  const tp = c.traceparent ? TRACEPARENT.exec(c.traceparent.toLowerCase()) : null;
  if (tp) record.trace = { traceId: tp[1], parentSpanId: tp[2] };
  const tags: Record<string, string> = {};
  if (c.clientDn) tags.client_dn = cut(c.clientDn, LIMITS.tag);
  if (c.requestId) tags.request_id = cut(c.requestId, LIMITS.tag);
  if (truncated) tags.truncated = 'true';
  if (Object.keys(tags).length > 0) record.tags = tags;
  return { ok: true, record, truncated };
}
