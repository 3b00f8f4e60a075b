import { recordId } from '../../../sensors/common/record-id.js';
import { setOwn } from '../../core/own-key.js';
import { type ApiCallRecord, byteCount } from '../../core/record.js';
import type { Redactor } from '../../../sensors/common/redact.js';
import { authorizationHash } from '../../../sensors/common/token-hash.js';
import { parseTraceparent } from '../../../sensors/common/traceparent.js';

/**
 * One entry of Kong's http-log plugin (the `kong.log.serialize()` shape) → an ApiCallRecord. Kong versions differ in
 * details (sizes as strings before 3.x, header values as arrays when repeated), so fields are read defensively.
 */
export interface KongMapContext {
  sensorId: string;
  serviceFallback: string;
  hash: (token: string) => string;
  redactor: Redactor;
  /** query parameter names to keep; `*` = all */
  queryParams: readonly string[];
  headerTags: readonly string[];
}

export type KongMapResult = { ok: true; record: ApiCallRecord } | { ok: false; reason: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const REDACTED_MARKERS = new Set(['REDACTED', '[REDACTED]', '[redacted]', '***']);

const text = (v: unknown, max: number): string | undefined => {
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s === 'string') return s.length > max ? s.slice(0, max) : s;
  if (typeof s === 'number' && Number.isFinite(s)) return String(s);
  return undefined;
};
const count = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** header lookup, case-insensitive (Kong lowercases, proxies in front may not) */
function header(headers: Obj | undefined, name: string): unknown {
  if (!headers) return undefined;
  if (name in headers) return headers[name];
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return headers[k];
  return undefined;
}

function hostOf(req: Obj, headers: Obj | undefined): string {
  const h = text(header(headers, 'host'), 512);
  if (h) return h;
  const url = text(req.url, 8192);
  if (!url) return '';
  try {
    return new URL(url).host.slice(0, 512);
  } catch {
    return '';
  }
}

export function mapKongEntry(entry: unknown, ctx: KongMapContext): KongMapResult {
  if (!isObj(entry)) return { ok: false, reason: 'entry is not an object' };
  const req = entry.request;
  const res = entry.response;
  if (!isObj(req)) return { ok: false, reason: 'request is missing' };
  if (!isObj(res)) return { ok: false, reason: 'response is missing' };
  const method = text(req.method, 32);
  if (!method || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(method))
    return { ok: false, reason: 'request.method is missing or invalid' };
  const uri = text(req.uri, 8192);
  if (!uri) return { ok: false, reason: 'request.uri is missing' };
  const status = count(res.status);
  if (status === undefined || !Number.isInteger(status) || status > 999)
    return { ok: false, reason: 'response.status is invalid' };
  const startedAt = count(entry.started_at);
  if (startedAt === undefined || startedAt > 8_640_000_000_000_000)
    return { ok: false, reason: 'started_at is missing or invalid' };
  const latencies = isObj(entry.latencies) ? entry.latencies : {};
  const headers = isObj(req.headers) ? req.headers : undefined;
  const service = isObj(entry.service) ? entry.service : undefined;
  const route = isObj(entry.route) ? entry.route : undefined;
  const consumer = isObj(entry.consumer) ? entry.consumer : undefined;
  const authenticated = isObj(entry.authenticated_entity) ? entry.authenticated_entity : undefined;

  const record: ApiCallRecord = {
    v: 1,
    id: recordId(),
    ts: startedAt,
    durationMs: Math.min(86_400_000, count(latencies.request) ?? 0),
    sensor: { kind: 'kong', id: ctx.sensorId },
    service: text(service?.name, 256) || text(service?.host, 256) || ctx.serviceFallback,
    method: method.toUpperCase(),
    host: hostOf(req, headers),
    path: uri,
    status,
    reqBytes: byteCount(count(req.size)),
    respBytes: byteCount(count(res.size)),
    source: {},
  };
  const ip = text(entry.client_ip, 64);
  if (ip) record.source.ip = ip;
  const tls = isObj(req.tls) ? req.tls : undefined;
  const verify = text(tls?.client_verify, 64);
  if (verify && verify !== 'NONE') record.source.mtls = verify === 'SUCCESS';
  const paths = Array.isArray(route?.paths) ? route.paths : [];
  if (paths.length === 1 && typeof paths[0] === 'string') record.route = paths[0].slice(0, 1024);

  const auth = text(header(headers, 'authorization'), 16_384);
  const tokenHash = auth && !REDACTED_MARKERS.has(auth.trim()) ? authorizationHash(ctx.hash, auth) : undefined;
  const sub = text(consumer?.username, 256) || text(consumer?.custom_id, 256) || text(consumer?.id, 256);
  const clientId = text(authenticated?.id, 256);
  if (tokenHash || sub || clientId) {
    record.user = { authOutcome: status === 401 ? 'failure' : sub || clientId ? 'success' : 'none' };
    if (sub) record.user.sub = sub;
    if (tokenHash) record.user.tokenHash = tokenHash;
    if (clientId) record.user.clientId = clientId;
  }
  const trace = parseTraceparent(text(header(headers, 'traceparent'), 128));
  if (trace) record.trace = trace;

  const qs = isObj(req.querystring) ? req.querystring : undefined;
  if (qs && ctx.queryParams.length > 0) {
    const all = ctx.queryParams.includes('*');
    const params: Record<string, string | number | boolean | null> = {};
    let n = 0;
    for (const k of all ? Object.keys(qs) : ctx.queryParams) {
      if (!(k in qs) || n >= 256 || k.length > 256) continue;
      const v = qs[k];
      const first = Array.isArray(v) ? v[0] : v;
      const value = typeof first === 'boolean' || typeof first === 'number' ? first : (text(first, 4096) ?? null);
      setOwn(params, k, ctx.redactor.value(k, value));
      n++;
    }
    if (n > 0) record.params = params;
  }
  const tags: Record<string, string> = {};
  const routeName = text(route?.name, 1024);
  if (routeName) tags.kong_route = routeName;
  const workspace = text(entry.workspace_name, 1024);
  if (workspace) tags.kong_workspace = workspace;
  for (const h of ctx.headerTags) {
    const v = text(header(headers, h.toLowerCase()), 1024);
    if (v !== undefined) tags[`header.${h.toLowerCase()}`.slice(0, 128)] = ctx.redactor.value(h, v);
  }
  if (Object.keys(tags).length > 0) record.tags = tags;
  return { ok: true, record };
}
