import type { ApiCallRecord } from '../../pipeline/core/record.js';

let n = 0;

/**
 * A record for tests: `GET /` answered 200 at `service`'s own host, from 10.0.0.1, unless the fields that matter to the
 * test say otherwise (a fresh id each, `call-<n>`, unless given)
 */
export function apiCall(o: Partial<ApiCallRecord> & Pick<ApiCallRecord, 'service' | 'ts'>): ApiCallRecord {
  return {
    id: `call-${n++}`,
    durationMs: 2,
    sensor: { kind: 'test', id: 't' },
    method: 'GET',
    host: `${o.service}.svc`,
    path: '/',
    status: 200,
    reqBytes: 0,
    respBytes: 0,
    source: { ip: '10.0.0.1' },
    ...o,
  };
}

/**
 * One front-end request and the backend calls it made, as one trace: the front end's root span (from `user`, at
 * `route`), then `calls` mesh hops spread over `backends` (`GET /<backend>/{id}`), a millisecond apart
 */
export function tracedRequest(o: {
  traceId: string;
  at: number;
  front: string;
  route: string;
  user: string;
  backends: readonly string[];
  calls: number;
}): ApiCallRecord[] {
  const root = apiCall({
    id: `${o.traceId}-root`,
    service: o.front,
    ts: o.at,
    path: o.route,
    route: o.route,
    source: { ip: '198.51.100.4' },
    user: { sub: o.user },
    trace: { traceId: o.traceId, spanId: 'root' },
  });
  const hops = Array.from({ length: o.calls }, (_, i) => {
    const service = o.backends[i % o.backends.length];
    return apiCall({
      id: `${o.traceId}-${i}`,
      service,
      ts: o.at + 10 + i,
      path: `/${service}/1`,
      route: `/${service}/{id}`,
      source: { ip: '10.0.0.2', service: o.front },
      trace: { traceId: o.traceId, spanId: `s${i}`, parentSpanId: 'root' },
    });
  });
  return [root, ...hops];
}
