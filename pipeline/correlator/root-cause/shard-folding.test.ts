import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector } from '../../detectors/detector.js';
import { replay } from '../replay.js';

const T0 = Date.UTC(2026, 0, 5, 10);

/** front-end calls that each call orders, traced; 30 a minute for `minutes` */
function tracedCalls(minutes: number): ApiCallRecord[] {
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

/** raises latency_spike on every series' window of minute `at` (what a slow orders hop looks like everywhere) */
function everywhereAt(at: number): Detector {
  return {
    type: 'test_everywhere',
    onWindow(w, ctx) {
      if (w.start !== T0 + at * 60_000) return;
      ctx.emit({
        kind: 'latency_spike',
        severity: 'high',
        service: w.service,
        ...(w.endpoint ? { endpoint: w.endpoint } : {}),
        at: w.start,
        summary: `p95 latency 900 ms, expected 40 ± 5 ms`,
        recordIds: w.sampleIds,
        metrics: {},
      });
    },
    snapshot: () => ({}),
    restore: () => {},
  };
}

describe('root-cause folding in the shard', () => {
  it('raises one alert at the slow hop, with its caller and both services as what else was affected', async () => {
    const alerts = await replay(tracedCalls(12), {
      detectors: [everywhereAt(8)],
      rootCause: { across_services: true },
    });
    expect(alerts.map((a) => [a.kind, a.service, a.endpoint])).toEqual([['latency_spike', 'orders', 'GET /orders']]);
    expect(alerts[0].labels?.also_affected.split('\n').sort()).toEqual([
      'frontend GET /api/orders: p95 latency 900 ms, expected 40 ± 5 ms',
      'frontend: p95 latency 900 ms, expected 40 ± 5 ms',
      'orders: p95 latency 900 ms, expected 40 ± 5 ms',
    ]);
    expect(alerts[0].firstSeen).toBe(T0 + 8 * 60_000);
  });

  it('by default folds each service into its endpoint only (partition-safe); nothing when folding is off', async () => {
    const alerts = await replay(tracedCalls(12), { detectors: [everywhereAt(8)] });
    expect(alerts.map((a) => [a.service, a.endpoint, a.evidence.metrics.affected])).toEqual([
      ['frontend', 'GET /api/orders', 1],
      ['orders', 'GET /orders', 1],
    ]);
    const off = await replay(tracedCalls(12), { detectors: [everywhereAt(8)], rootCause: { enabled: false } });
    expect(off).toHaveLength(4);
  });
});
