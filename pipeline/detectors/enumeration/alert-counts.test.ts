import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../../sensors/common/test-records.js';
import { correlate } from '../../../test/harness/correlate.js';
import type { ApiCallRecord } from '../../core/record.js';
import { checkConfig } from '../shared/detector-kit.js';
import { EnumerationConfigSchema } from './config.js';
import { enumerationFactory } from './factory.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

let seq = 0;
const read = (ts: number, id: number | string, sub: string): ApiCallRecord => {
  const i = seq++;
  return sampleRecord(i, {
    id: `r${String(i).padStart(6, '0')}`,
    ts,
    path: `/orders/${id}`,
    route: '/orders/{id}',
    user: { sub },
  });
};
/** a probe every 10 s that names no object: it only moves event time on */
const probe = (ts: number): ApiCallRecord => ({ ...read(ts, 0, 'kube'), path: '/healthz', route: '/healthz' });

/** the records, with probes from T0 for `minutes`, in time order, through a correlator running enumeration */
function enumerate(records: ApiCallRecord[], minutes: number, config: Record<string, unknown> = {}) {
  for (let t = T0; t < T0 + minutes * MIN; t += 10_000) records.push(probe(t));
  records.sort((a, b) => a.ts - b.ts);
  const settings = checkConfig('enumeration', EnumerationConfigSchema, { exact_limit: 512, ...config });
  return correlate(records, () => [enumerationFactory.create(settings)], ['enumeration']);
}

describe('enumeration through the correlator: what the alert counts', () => {
  it('a walk longer than the window: one alert counting every id it touched, open until the walk stops', async () => {
    // mallory reads 250 orders, one every 6 s from minute 1: 24 min 54 s, across three 10-minute windows
    const walk = Array.from({ length: 250 }, (_, i) => read(T0 + MIN + i * 6000, 500_000 + i, 'mallory'));
    // alice re-reads her 3 orders now and then
    const alice = Array.from({ length: 30 }, (_, i) => read(T0 + i * MIN + 3, 7 + (i % 3), 'alice'));

    const { alerts, versions } = await enumerate([...walk, ...alice], 45);
    expect(alerts).toHaveLength(1);
    const [a] = alerts;
    expect(a).toMatchObject({ endpoint: 'GET /orders/{id}', subject: { type: 'user', value: 'mallory' } });
    expect(a.evidence.metrics).toMatchObject({ distinct_ids: 250, requests: 250, span_s: (249 * 6000) / 1000 });
    expect(a.summary).toBe('user mallory touched 250 distinct objects on GET /orders/{id} in 24 min 54 s');
    expect(a.observed).toContain(
      `250 distinct objects in 250 requests from ${new Date(walk[0].ts).toISOString()} to ${new Date(walk[249].ts).toISOString()}`,
    );
    // raised at the 40th id (min_distinct), it stayed open while the walk went on and was last seen at its end
    expect(a.firstSeen).toBe(walk[39].ts);
    expect(a.lastSeen).toBe(walk[249].ts);
    expect(a.evidence.recordIds).toEqual(walk.slice(0, 20).map((r) => r.id));
    // every version an analyst could have read counted the ids up to its last sight, never fewer than before
    for (const v of versions) {
      const upTo = walk.filter((r) => r.ts <= v.lastSeen).length;
      expect(v.evidence.metrics.distinct_ids, new Date(v.lastSeen).toISOString()).toBe(upTo);
    }
  });

  it('a walk again after a quiet spell is another alert, counting only its own ids', async () => {
    const first = Array.from({ length: 60 }, (_, i) => read(T0 + MIN + i * 5000, 600_000 + i, 'mallory'));
    // quiet for 20 minutes (its alert resolves), then 45 other orders from minute 26
    const later = Array.from({ length: 45 }, (_, i) => read(T0 + 26 * MIN + i * 5000, 700_000 + i, 'mallory'));

    const { alerts } = await enumerate([...first, ...later], 50);
    expect(alerts.map((a) => [a.evidence.metrics.distinct_ids, a.evidence.metrics.requests])).toEqual([
      [60, 60],
      [45, 45],
    ]);
    expect(alerts.map((a) => [a.firstSeen, a.lastSeen])).toEqual([
      [first[39].ts, first[59].ts],
      [later[39].ts, later[44].ts],
    ]);
  });

  it('a walk again soon after its alert resolved is another alert too, over the baseline the first one did not teach', async () => {
    // 60 customers read 3 orders each at minute 0 and one more at minute 11: 60 windows of 3 in the baseline
    const customers = Array.from({ length: 60 }, (_, c) => [
      ...[0, 1, 2].map((i) => read(T0 + c * 500 + i, 10_000 + c * 10 + i, `c${c}`)),
      read(T0 + 11 * MIN + c * 500, 10_000 + c * 10, `c${c}`),
    ]).flat();
    const first = Array.from({ length: 60 }, (_, i) => read(T0 + 12 * MIN + i * 5000, 600_000 + i, 'mallory'));
    // quiet for 15 minutes (its alert resolves, the pair still tracked), then 70 other orders from minute 32: its first
    // window (60) closes then, and stays out of the baseline (past its warm-up of 50 windows)
    const later = Array.from({ length: 70 }, (_, i) => read(T0 + 32 * MIN + i * 5000, 700_000 + i, 'mallory'));

    const { alerts } = await enumerate([...customers, ...first, ...later], 60);
    expect(alerts.map((a) => [a.evidence.metrics.distinct_ids, a.evidence.metrics.requests, a.lastSeen])).toEqual([
      [60, 60, first[59].ts],
      [70, 70, later[69].ts],
    ]);
    expect(alerts[1].evidence.metrics.threshold).toBe(alerts[0].evidence.metrics.threshold);
    expect(alerts[1].firstSeen).toBe(later[39].ts);
  });

  it('a walk as large as one alerted before on the endpoint is alerted too: a walk does not teach the baseline', async () => {
    // 50 customers read 3 of their orders at minute 0 and again at minute 11, 5 more every 11 minutes: each return
    // closes a window of 3 into the baseline, 55 by minute 11 (past its warm-up of 50)
    const customers = Array.from({ length: 55 }, (_, c) =>
      Array.from({ length: c < 50 ? 2 : 9 }, (_, k) =>
        [0, 1, 2].map((i) => read(T0 + k * 11 * MIN + c * 500 + i, 10_000 + c * 10 + i, `c${c}`)),
      ),
    ).flat(2);
    // mallory reads 250 orders, one every 6 s from minute 12: her windows of 100 close at minutes 22 and 32
    const mallory = Array.from({ length: 250 }, (_, i) => read(T0 + 12 * MIN + i * 6000, 500_000 + i, 'mallory'));
    // her alert resolves at about minute 47; from minute 48 trudy reads 250 other orders the same way
    const trudy = Array.from({ length: 250 }, (_, i) => read(T0 + 48 * MIN + i * 6000, 800_000 + i, 'trudy'));

    const { alerts } = await enumerate([...customers, ...mallory, ...trudy], 95);
    expect(alerts.map((a) => [a.subject?.value, a.evidence.metrics.distinct_ids, a.firstSeen, a.lastSeen])).toEqual([
      ['mallory', 250, mallory[39].ts, mallory[249].ts],
      ['trudy', 250, trudy[39].ts, trudy[249].ts],
    ]);
    // trudy was judged against the customers' baseline, as mallory was: mallory's windows are not in it
    const judged = alerts.map(({ evidence: { metrics: m } }) => [m.baseline_mean, m.baseline_std, m.threshold]);
    expect(judged[1]).toEqual(judged[0]);
  });

  it('past exact_limit the ids are counted in a sketch: the figure stays within its error', async () => {
    const walk = Array.from({ length: 400 }, (_, i) => read(T0 + MIN + i * 3000, 800_000 + i, 'mallory'));
    const { alerts } = await enumerate([...walk], 40, { exact_limit: 64 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0].evidence.metrics.requests).toBe(400);
    expect(Math.abs(alerts[0].evidence.metrics.distinct_ids - 400)).toBeLessThan(400 * 0.15);
    expect(alerts[0].lastSeen).toBe(walk[399].ts);
  });
});
