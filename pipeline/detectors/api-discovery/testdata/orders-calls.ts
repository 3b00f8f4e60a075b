import type { ApiCallRecord } from '../../../core/record.js';

/** a maker of calls to the orders service (from web, on orders.internal, answered 200), r1, r2, … a second apart */
export function ordersCalls(): (method: string, path: string, params?: ApiCallRecord['params']) => ApiCallRecord {
  let n = 0;
  return (method, path, params) => {
    n++;
    return {
      id: `r${n}`,
      ts: 1_700_000_000_000 + n * 1000,
      durationMs: 3,
      sensor: { kind: 'fastify', id: 'gw1' },
      service: 'orders',
      method,
      host: 'orders.internal',
      path,
      status: 200,
      reqBytes: 0,
      respBytes: 100,
      source: { service: 'web' },
      ...(params ? { params } : {}),
    };
  };
}
