import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
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
  reply: FastifyReply | undefined;
  route: string | undefined;
  ip: string | undefined;
  peer: TlsPeer | undefined;
  /** Date.now() when the response had been sent */
  endedAt: number;
  durationMs: number;
}

const MAX_PATH = 8192;
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

const headerNumber = (v: unknown): number => {
  const n = typeof v === 'string' ? Number.parseInt(v, 10) : typeof v === 'number' ? v : 0;
  return Number.isFinite(n) && n > 0 ? n : 0;
};

const paramValue = (v: unknown): string | number | boolean | null => {
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined || first === null) return null;
  if (typeof first === 'number' || typeof first === 'boolean') return first;
  const s = String(first);
  return s.length > MAX_PARAM ? s.slice(0, MAX_PARAM) : s;
};

/** One ApiCallRecord from a finished Fastify request (built after onResponse, from what was captured there). */
export function buildRecord(
  c: CapturedRequest,
  ctx: RecordContext,
  cred: CallerCredential | undefined,
  sub: string | undefined,
  tags: Record<string, string> | undefined,
): ApiCallRecord {
  const request = c.request as FastifyRequest;
  const reply = c.reply as FastifyReply;
  const durationMs = c.durationMs;
  const status = reply.statusCode;
  const url = request.url;
  const headers = request.headers;
  const host = request.host;
  const record: ApiCallRecord = {
    v: 1,
    id: recordId(),
    ts: c.endedAt - durationMs,
    durationMs,
    sensor: ctx.sensor,
    service: ctx.service || request.hostname || 'unknown',
    method: request.method.slice(0, 32),
    host: host.length > 512 ? host.slice(0, 512) : host,
    path: url.length > MAX_PATH ? url.slice(0, MAX_PATH) : url,
    status,
    reqBytes: headerNumber(headers['content-length']),
    respBytes: headerNumber(reply.getHeader('content-length')),
    source: { ip: c.ip },
  };
  const route = c.route;
  if (route) record.route = route.length > 1024 ? route.slice(0, 1024) : route;
  const peer = c.peer;
  if (peer) {
    record.source.mtls = peer.mtls;
    if (peer.principal) record.source.principal = peer.principal;
  }
  if (cred || sub) {
    record.user = { authOutcome: !cred ? 'none' : status === 401 ? 'failure' : 'success' };
    if (sub) record.user.sub = sub;
    if (cred) record.user.tokenHash = cred.tokenHash;
  }
  const trace = parseTraceparent(headers.traceparent);
  if (trace) record.trace = trace;
  if (ctx.queryParams.length > 0) {
    const q = request.query as Record<string, unknown> | undefined;
    if (q && typeof q === 'object') {
      let params: Record<string, string | number | boolean | null> | undefined;
      for (const name of ctx.queryParams) {
        if (!(name in q)) continue;
        params ??= {};
        params[name] = ctx.redactor.value(name, paramValue(q[name]));
      }
      if (params) record.params = params;
    }
  }
  if (ctx.region) record.region = ctx.region;
  if (tags) record.tags = tags;
  return record;
}
