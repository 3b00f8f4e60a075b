import { describe, expect, it } from 'vitest';
import type { WindowMetrics } from '../detector.js';
import { parseMetricAnomalyConfig } from './config.js';
import { judge } from './practical-significance.js';

const config = parseMetricAnomalyConfig({});
const window = (over: Partial<WindowMetrics>): WindowMetrics => ({
  service: 'svc',
  start: 0,
  widthMs: 60_000,
  count: 20,
  errors: 0,
  rate: 20 / 60,
  errorRatio: 0,
  p50: 100,
  p95: 250,
  p99: 300,
  sampleIds: [],
  ...over,
});
const usual = (expected: number) => ({ expected, errorRatio: 0.002 });

describe('judge', () => {
  it("holds back a quiet endpoint's traffic wobble, passes a surge and a collapse", () => {
    expect(judge(config, 'rate', 36 / 60, window({ count: 36 }), usual(20 / 60))).toBeUndefined();
    expect(judge(config, 'rate', 100 / 60, window({ count: 100 }), usual(20 / 60))).toMatchObject({
      kind: 'traffic_spike',
      counts: '100 requests, 20 expected',
    });
    expect(judge(config, 'rate', 1 / 60, window({ count: 1 }), usual(60 / 60))?.kind).toBe('traffic_drop');
    // a relative change under min_rate_change never passes, however many requests
    expect(judge(config, 'rate', 12_000 / 60, window({ count: 12_000 }), usual(10_000 / 60))).toBeUndefined();
  });

  it("weighs errors against the usual ratio, which may be above the scorer's median of zero", () => {
    const w = window({ count: 125, errors: 6, errorRatio: 6 / 125 });
    // 6 errors in 125 calls against a usual 0.6 %: about 3.2 deviations, chance
    expect(judge(config, 'error_ratio', w.errorRatio, w, { expected: 0, errorRatio: 0.006 })).toBeUndefined();
    const off = parseMetricAnomalyConfig({ min_count_z: 0 });
    expect(judge(off, 'error_ratio', w.errorRatio, w, { expected: 0, errorRatio: 0.006 })?.countZ).toBeCloseTo(3.2, 1);
    const burst = window({ count: 125, errors: 40, errorRatio: 40 / 125 });
    expect(judge(config, 'error_ratio', burst.errorRatio, burst, { expected: 0, errorRatio: 0.006 })).toMatchObject({
      kind: 'error_burst',
      counts: '40 of 125 requests',
    });
  });

  it('counts the requests slower than the usual p95: a moved tail of a few calls is noise, a moved body is not', () => {
    // one or two slow calls out of 20 make the p95; the median did not move
    expect(judge(config, 'p95', 900, window({ p50: 120, p95: 900 }), usual(390))).toBeUndefined();
    // the whole window is slower
    const slow = judge(config, 'p95', 900, window({ p50: 600, p95: 900 }), usual(390));
    expect(slow?.kind).toBe('latency_spike');
    expect(slow?.counts).toBe('about 19 of 20 requests slower than the usual p95');
    // a count known from elsewhere (the service's endpoints) replaces the window's own estimate
    expect(judge(config, 'p95', 900, window({ p50: 600, p95: 900 }), { ...usual(390), slower: 2 })).toBeUndefined();
  });

  it('min_count_z 0 turns the count check off', () => {
    const off = parseMetricAnomalyConfig({ min_count_z: 0 });
    expect(judge(off, 'rate', 36 / 60, window({ count: 36 }), usual(20 / 60))?.kind).toBe('traffic_spike');
  });
});
