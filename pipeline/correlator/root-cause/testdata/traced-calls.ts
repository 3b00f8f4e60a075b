import type { ApiCallRecord } from '../../../core/record.js';

/** the start of the folding tests' traffic */
export const T0 = Date.UTC(2026, 0, 5, 10);

/**
 * front-end calls that each call orders, traced; 30 a minute for `minutes` from T0 (the call graph learns frontend →
 * orders)
 */
export function tracedCalls(minutes: number): ApiCallRecord[] {
  const out: ApiCallRecord[] = [];
  for (let i = 0; i < minutes * 30; i++) {
    const ts = T0 + i * 2_000;
    const traceId = i.toString(16).padStart(32, '0');
    const base = { durationMs: 20, sensor: { kind: 'test', id: 't' }, status: 200, reqBytes: 0, respBytes: 10 };
    out.push({
      ...base,
      id: `f${i}`,
      ts,
      service: 'frontend',
      method: 'GET',
      host: 'shop',
      path: '/api/orders',
      route: '/api/orders',
      source: { ip: '81.2.3.4' },
      trace: { traceId, spanId: `f${i}` },
    });
    out.push({
      ...base,
      id: `o${i}`,
      ts: ts + 1,
      service: 'orders',
      method: 'GET',
      host: 'orders',
      path: '/orders',
      route: '/orders',
      source: { ip: '10.0.0.1', service: 'frontend' },
      trace: { traceId, spanId: `o${i}`, parentSpanId: `f${i}` },
    });
  }
  return out;
}
