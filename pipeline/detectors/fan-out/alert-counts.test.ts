import { describe, expect, it } from 'vitest';
import { correlate } from '../../../test/harness/correlate.js';
import type { ApiCallRecord } from '../../core/record.js';
import { checkConfig } from '../shared/detector-kit.js';
import { FanOutConfigSchema } from './config.js';
import { fanOutFactory } from './factory.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const iso = (ts: number) => new Date(ts).toISOString();

let seq = 0;
const base = {
  v: 1 as const,
  durationMs: 5,
  sensor: { kind: 'envoy_wasm', id: 's1' },
  status: 200,
  reqBytes: 0,
  respBytes: 100,
};
/** a front-end request (the trace's root) and the backend calls it made, `gapMs` apart after it */
function trace(id: string, ts: number, calls: number, gapMs: number, sub: string): ApiCallRecord[] {
  const root: ApiCallRecord = {
    ...base,
    id: `r${String(seq++).padStart(6, '0')}`,
    ts,
    service: 'frontend',
    method: 'GET',
    host: 'shop.example',
    path: '/api/orders',
    route: '/api/orders',
    source: { ip: '81.0.0.1' },
    user: { sub },
    trace: { traceId: id, spanId: 'root' },
  };
  const backend = Array.from(
    { length: calls },
    (_, i): ApiCallRecord => ({
      ...base,
      id: `r${String(seq++).padStart(6, '0')}`,
      ts: ts + 5 + i * gapMs,
      service: 'orders',
      method: 'GET',
      host: 'orders.svc',
      path: `/orders/${i}`,
      route: '/orders/{id}',
      source: { ip: '10.0.0.2', service: 'frontend' },
      trace: { traceId: id, spanId: `s${i}`, parentSpanId: 'root' },
    }),
  );
  return [root, ...backend];
}

/** ordinary orders pages every 10 s from T0 for `minutes` (3 backend calls each), the records, through fan_out */
function fanOut(records: ApiCallRecord[], minutes: number) {
  for (let t = T0; t < T0 + minutes * MIN; t += 10_000) records.push(...trace(`n${t}`, t, 3, 4, `u${t % 7}`));
  records.sort((a, b) => a.ts - b.ts);
  const config = checkConfig('fan_out', FanOutConfigSchema, {});
  return correlate(records, () => [fanOutFactory.create(config)], ['fan_out']);
}

describe('fan_out through the correlator: what the alert counts', () => {
  it('amplified requests: one alert counting every backend call of each, not the calls up to the threshold', async () => {
    // mallory's order pages from minute 12: 120 backend calls over 24 s, 80 a minute later, 60 a minute after that
    const a = trace('t-a', T0 + 12 * MIN + 2000, 120, 200, 'mallory');
    const b = trace('t-b', T0 + 13 * MIN + 2000, 80, 200, 'mallory');
    const c = trace('t-c', T0 + 14 * MIN + 2000, 60, 200, 'mallory');

    const { alerts, versions } = await fanOut([...a, ...b, ...c], 40);
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert).toMatchObject({ endpoint: 'GET /api/orders', subject: { type: 'user', value: 'mallory' } });
    expect(alert.evidence.metrics).toMatchObject({
      requests: 3,
      backend_calls: 260,
      max_backend_calls: 120,
      span_s: (c[60].ts - a[0].ts) / 1000,
      baseline_mean: 3,
    });
    expect(alert.summary).toBe(
      '3 GET /api/orders requests caused 260 backend calls, up to 120 for one (usually 3.0 per request)',
    );
    expect(alert.observed).toBe(
      `260 backend calls in 3 traces (t-a, t-b, t-c) from ${iso(a[0].ts)} to ${iso(c[60].ts)}`,
    );
    // raised at the 21st call of the first (the threshold is 20), open while they went on, last seen at the last call
    expect(alert.firstSeen).toBe(a[21].ts);
    expect(alert.lastSeen).toBe(c[60].ts);
    expect(alert.evidence.recordIds.slice(0, 2)).toEqual([a[0].id, a[21].id]);
    // every version counted the calls up to its last sight
    const calls = [...a.slice(1), ...b.slice(1), ...c.slice(1)];
    for (const v of versions)
      expect(v.evidence.metrics.backend_calls, iso(v.lastSeen)).toBe(calls.filter((r) => r.ts <= v.lastSeen).length);
  });

  it('one amplified request: its alert says how many calls it made; a later one after a quiet spell is another alert', async () => {
    const a = trace('t-a', T0 + 12 * MIN + 2000, 90, 100, 'mallory');
    // quiet for 16 minutes (its alert resolves)
    const b = trace('t-b', T0 + 30 * MIN + 2000, 40, 100, 'mallory');

    const { alerts } = await fanOut([...a, ...b], 50);
    expect(alerts.map((x) => [x.summary, x.evidence.metrics.requests, x.lastSeen])).toEqual([
      ['one GET /api/orders request caused 90 backend calls (usually 3.0)', 1, a[90].ts],
      ['one GET /api/orders request caused 40 backend calls (usually 3.0)', 1, b[40].ts],
    ]);
    expect(alerts[0].observed).toBe(`90 backend calls in trace t-a from ${iso(a[0].ts)} to ${iso(a[90].ts)}`);
  });
});
