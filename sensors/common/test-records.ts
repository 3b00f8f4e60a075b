import type { ApiCallRecord } from '../../pipeline/core/record.js';

/** a valid ApiCallRecord for tests (sensors, shippers, the pipeline's stages): override what the test is about */
export function sampleRecord(i: number, over: Partial<ApiCallRecord> = {}): ApiCallRecord {
  return {
    v: 1,
    id: `rec-${i}`,
    ts: 1_700_000_000_000 + i,
    durationMs: 3,
    sensor: { kind: 'fastify', id: 'test-sensor' },
    service: 'orders',
    method: 'GET',
    host: 'orders.local',
    path: `/orders/${i}`,
    route: '/orders/:id',
    status: 200,
    reqBytes: 0,
    respBytes: 42,
    source: { ip: '127.0.0.1' },
    ...over,
  };
}
