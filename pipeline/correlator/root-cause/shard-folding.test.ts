import { describe, expect, it } from 'vitest';
import type { Detector } from '../../detectors/detector.js';
import { replay } from '../replay.js';
import { T0, tracedCalls } from './testdata/traced-calls.js';

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
