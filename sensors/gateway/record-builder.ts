import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ApiCallRecord, byteCount } from '../../pipeline/core/record.js';
import { rowDecoder } from '../../pipeline/core/record-rows.js';
import { recordId } from '../common/record-id.js';
import type { Redactor } from '../common/redact.js';
import { parseTraceparent } from '../common/traceparent.js';
import type { CallerCredential } from './caller-identity.js';

export interface RecordContext {
  sensor: { kind: string; id: string };
  /** fixed service name, or empty to use the request's host name */
  service: string;
  region: string;
  queryParams: readonly string[];
  redactor: Redactor;
}

/** what the TLS layer says about the peer, read once per connection */
export interface TlsPeer {
  mtls: boolean;
  principal?: string;
}

/**
 * A finished request as captured in onResponse: references to the request and reply (whose headers, url, query and
 * status do not change any more) plus what would change or vanish once the connection moves on or closes: the peer
 * address, the TLS peer, the end time and the duration. One preallocated object per slot of the capture buffer.
 */
export interface CapturedRequest {
  request: FastifyRequest | undefined;
  /** undefined for a request the client aborted before the response (record_aborted) */
  reply: FastifyReply | undefined;
  route: string | undefined;
  ip: string | undefined;
  peer: TlsPeer | undefined;
  /** Date.now() when the response had been sent */
  endedAt: number;
  durationMs: number;
}

const MAX_PATH = 8192;
/**
 * the record's limits on what the caller writes (Host, X-Forwarded-Host, X-Forwarded-For behind a trusted proxy): a
 * longer value is cut, as the other receivers cut theirs, since a record past a limit is dead-lettered by the
 * collector and the request would be hidden from every detector by the caller's own choice of header
 */
const MAX_SERVICE = 256;
const MAX_IP = 64;
/**
 * the status of a request the client aborted before the response: nginx's "client closed request" (a 4xx, not an
 * error of the service)
 */
export const ABORTED_STATUS = 499;
const MAX_PARAM = 4096;
const peerCache = new WeakMap<TLSSocket, TlsPeer>();

/** the TLS peer of an encrypted socket (cached per socket), undefined for plain HTTP */
export function tlsPeerOf(sock: TLSSocket | null | undefined): TlsPeer | undefined {
  if (!sock?.encrypted) return undefined;
  let p = peerCache.get(sock);
  if (p) return p;
  p = { mtls: false };
  const cert = sock.authorized ? sock.getPeerCertificate() : undefined;
  if (cert && Object.keys(cert).length > 0) {
    p.mtls = true;
    const m = /URI:(spiffe:\/\/[^,\s]+)/.exec(cert.subjectaltname ?? '');
    if (m) p.principal = m[1].slice(0, 512);
  }
  peerCache.set(sock, p);
  return p;
}

/** a Content-Length as a record's byte count (a client's absurd one is held to the record's bound) */
const headerNumber = (v: unknown): number =>
  byteCount(typeof v === 'string' ? Number.parseInt(v, 10) : typeof v === 'number' ? v : 0);

const paramValue = (v: unknown): string | number | boolean | null => {
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined || first === null) return null;
  if (typeof first === 'number' || typeof first === 'boolean') return first;
  const s = String(first);
  return s.length > MAX_PARAM ? s.slice(0, MAX_PARAM) : s;
};

/** the order of a gateway row's values (the rows encoding of pipeline/core/record-rows.ts) */
export const GATEWAY_ROW_FIELDS = [
  'id',
  'ts',
  'durationMs',
  'service',
  'method',
  'host',
  'path',
  'status',
  'reqBytes',
  'respBytes',
  'source.ip',
  'source.mtls',
  'source.principal',
  'route',
  'user.authOutcome',
  'user.sub',
  'user.tokenHash',
  'trace',
  'params',
  'tags',
] as const;

/** what every record of this sensor shares, written once per batch */
export function gatewayCommon(ctx: RecordContext): Record<string, unknown> {
  let common = commons.get(ctx);
  if (!common) {
    common = { v: 1, sensor: ctx.sensor, source: {}, ...(ctx.region ? { region: ctx.region } : {}) };
    commons.set(ctx, common);
  }
  return common;
}

const commons = new WeakMap<RecordContext, Record<string, unknown>>();
const toRecord = rowDecoder(GATEWAY_ROW_FIELDS);

/**
 * One finished Fastify request (captured in onResponse) as a row of GATEWAY_ROW_FIELDS: null where a record has no
 * such field. Cheaper to make and to serialise than a record object; the collector turns it into the record.
 */
export function buildRow(
  c: CapturedRequest,
  ctx: RecordContext,
  cred: CallerCredential | undefined,
  sub: string | undefined,
  tags: Record<string, string> | undefined,
): unknown[] {
  const request = c.request as FastifyRequest;
  const reply = c.reply;
  // microsecond precision: the shortest text of a raw double takes ~17 digits and a slow formatting path
  const durationMs = Math.round(c.durationMs * 1000) / 1000;
  const status = reply ? reply.statusCode : ABORTED_STATUS;
  const url = request.url;
  const headers = request.headers;
  const host = request.host;
  const route = c.route;
  const peer = c.peer;
  const service = ctx.service || request.hostname || 'unknown';
  const ip = c.ip;
  return [
    recordId(),
    Math.round(c.endedAt - durationMs),
    durationMs,
    service.length > MAX_SERVICE ? service.slice(0, MAX_SERVICE) : service,
    request.method.slice(0, 32),
    host.length > 512 ? host.slice(0, 512) : host,
    url.length > MAX_PATH ? url.slice(0, MAX_PATH) : url,
    status,
    headerNumber(headers['content-length']),
    reply ? headerNumber(reply.getHeader('content-length')) : 0,
    ip === undefined ? null : ip.length > MAX_IP ? ip.slice(0, MAX_IP) : ip,
    peer ? peer.mtls : null,
    peer?.principal || null,
    route ? (route.length > 1024 ? route.slice(0, 1024) : route) : null,
    cred || sub ? (!cred ? 'none' : status === 401 ? 'failure' : 'success') : null,
    sub || null,
    cred ? cred.tokenHash : null,
    parseTraceparent(headers.traceparent) ?? null,
    ctx.queryParams.length > 0 ? selectedParams(request, ctx) : null,
    reply ? (tags ?? null) : { ...tags, aborted: 'client' },
  ];
}

/** the configured query parameters the request has, redacted; null when it has none of them */
function selectedParams(request: FastifyRequest, ctx: RecordContext): Record<string, unknown> | null {
  const q = request.query as Record<string, unknown> | undefined;
  if (!q || typeof q !== 'object') return null;
  let params: Record<string, string | number | boolean | null> | null = null;
  for (const name of ctx.queryParams) {
    if (!(name in q)) continue;
    params ??= {};
    params[name] = ctx.redactor.value(name, paramValue(q[name]));
  }
  return params;
}

/** One ApiCallRecord from a finished Fastify request: its row made into a record (for an in-process sink). */
export function buildRecord(
  c: CapturedRequest,
  ctx: RecordContext,
  cred: CallerCredential | undefined,
  sub: string | undefined,
  tags: Record<string, string> | undefined,
): ApiCallRecord {
  return toRecord(gatewayCommon(ctx), buildRow(c, ctx, cred, sub, tags)) as unknown as ApiCallRecord;
}
