import type { SimulatedRequest } from './proxy-wasm-host.js';

/** Requests as Envoy would report them after the response, for tests, benches and demos of the sensor. */

export const SAMPLE_TOKEN = 'secret-token-xyz';
export const SAMPLE_SPIFFE = 'spiffe://cluster.local/ns/shop/sa/checkout';
export const SAMPLE_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const SAMPLE_SPAN_ID = '00f067aa0ba902b7';

export interface SampleOptions {
  startMs?: number;
  path?: string;
  token?: string | null;
  requestId?: string | null;
}

export function sampleRequest(i: number, o: SampleOptions = {}): SimulatedRequest {
  const startMs = o.startMs ?? 1_700_000_000_000 + i * 10;
  const path = o.path ?? `/api/orders/${1000 + i}?expand=items&access_token=leaky-${i}&page=${i % 5}`;
  const headers: Array<[string, string]> = [
    [':method', i % 7 === 0 ? 'POST' : 'GET'],
    [':path', path],
    [':authority', 'orders.shop.svc'],
    ['traceparent', `00-${SAMPLE_TRACE_ID}-${SAMPLE_SPAN_ID}-01`],
    ['user-agent', 'meshward-test'],
  ];
  const token = o.token === undefined ? SAMPLE_TOKEN : o.token;
  if (token !== null) headers.push(['authorization', `Bearer ${token}`]);
  const requestId = o.requestId === undefined ? `req-${i}` : o.requestId;
  if (requestId !== null) headers.push(['x-request-id', requestId]);
  return {
    requestHeaders: headers,
    responseHeaders: [[':status', '200']],
    properties: {
      'request.method': i % 7 === 0 ? 'POST' : 'GET',
      'request.path': path,
      'request.host': 'orders.shop.svc',
      'request.time': BigInt(startMs) * 1_000_000n,
      'request.duration': BigInt(1_500_000 + (i % 100) * 10_000),
      'request.total_size': 420 + i,
      'response.total_size': 1337,
      'response.code': i % 11 === 0 ? 503 : 200,
      'source.address': `10.1.2.${i % 250}:5${i % 1000}`,
      'connection.mtls': true,
      'connection.uri_san_peer_certificate': SAMPLE_SPIFFE,
      'xds.cluster_name': 'outbound|8080||orders.shop.svc.cluster.local',
    },
  };
}
