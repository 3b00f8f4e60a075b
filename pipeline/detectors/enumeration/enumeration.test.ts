import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../../sensors/common/test-records.js';
import type { ApiCallRecord } from '../../core/record.js';
import { registry } from '../../core/metrics.js';
import { CapturingContext, closedWindow } from '../shared/capture.js';
import { CountMinSketch } from '../shared/count-min.js';
import type { Detector } from '../detector.js';
import { checkConfig } from '../shared/detector-kit.js';
import { EnumerationConfigSchema } from './config.js';
import { enumerationFactory } from './factory.js';

const rec = (i: number, sub: string, id: string | number, ts: number): ApiCallRecord =>
  sampleRecord(i, { id: `r${i}`, ts, path: `/orders/${id}`, route: '/orders/{id}', user: { sub } });

describe('enumeration', () => {
  it('raises the threshold above an endpoint whose subjects normally touch many ids', () => {
    const d = enumerationFactory.create(
      checkConfig('enumeration', EnumerationConfigSchema, { min_distinct: 20, window_ms: 60_000 }),
    );
    const ctx = new CapturingContext();
    let n = 0;
    // ten windows in which every subject touches 30 distinct ids: the normal here is 30 (each one's first window
    // crosses min_distinct and alerts; the young baseline takes it in all the same)
    for (let w = 0; w < 10; w++)
      for (let s = 0; s < 5; s++)
        for (let i = 0; i < 30; i++) d.observe!(rec(n++, `u${s}`, w * 1000 + s * 100 + i, w * 61_000 + i), ctx);
    for (let s = 0; s < 5; s++) d.observe!(rec(n++, `u${s}`, 1, 11 * 61_000), ctx);
    const before = ctx.signals.length;
    for (let i = 0; i < 60; i++) d.observe!(rec(n++, 'u0', 90_000 + i, 11 * 61_000 + i), ctx);
    expect(ctx.signals.length).toBe(before);
    for (let i = 0; i < 200; i++) d.observe!(rec(n++, 'u1', 80_000 + i, 11 * 61_000 + i), ctx);
    expect(ctx.signals.length).toBe(before + 1);
    expect(ctx.signals.at(-1)!.subject).toEqual({ type: 'user', value: 'u1' });
  });

  it('keeps a walk out of the baseline across a checkpoint taken while its window is open', () => {
    const config = checkConfig('enumeration', EnumerationConfigSchema, { min_distinct: 20, window_ms: 60_000 });
    const ctx = Object.assign(new CapturingContext(), { resolveAfterMs: 120_000 });
    let n = 0;
    const background = (d: Detector, from: number, to: number) => {
      // 10 customers read 3 orders each every 61 s: each return closes a window of 3 into the baseline
      for (let t = from; t < to; t += 61_000)
        for (let s = 0; s < 10; s++) for (let i = 0; i < 3; i++) d.observe!(rec(n++, `c${s}`, s * 10 + i, t + s), ctx);
    };
    const d = enumerationFactory.create(config);
    // 50 windows by 305 s: the baseline's warm-up
    background(d, 0, 310_000);
    // mallory walks 150 orders, one a second from 310 s: raised at the 20th, her window still open at the checkpoint
    for (let i = 0; i < 45; i++) d.observe!(rec(n++, 'mallory', 1000 + i, 310_000 + i * 1000), ctx);
    const resumed = enumerationFactory.create(config);
    resumed.restore(JSON.parse(JSON.stringify(d.snapshot())));
    for (let i = 45; i < 150; i++) resumed.observe!(rec(n++, 'mallory', 1000 + i, 310_000 + i * 1000), ctx);
    background(resumed, 366_000, 700_000);
    // her alert resolved 120 s after her last request (459 s); from 700 s trudy walks 150 other orders the same way
    for (let i = 0; i < 150; i++) resumed.observe!(rec(n++, 'trudy', 5000 + i, 700_000 + i * 1000), ctx);
    const raised = ctx.signals.filter((s, i, all) => all.findIndex((o) => o.subject?.value === s.subject?.value) === i);
    expect(
      raised.map((s) => [s.subject?.value, s.metrics.distinct_ids, s.metrics.baseline_mean, s.metrics.threshold]),
    ).toEqual([
      ['mallory', 20, 3, 20],
      ['trudy', 20, 3, 20],
    ]);
  });

  it('holds its cap on tracked subjects and counts evictions', () => {
    const d = enumerationFactory.create(checkConfig('enumeration', EnumerationConfigSchema, { max_subjects: 1000 }));
    const ctx = new CapturingContext();
    for (let i = 0; i < 5000; i++) d.observe!(rec(i, `u${i}`, i, i), ctx);
    const s = d.stats!();
    expect(s.subjects).toBe(1000);
    expect(s.subjects_evicted).toBe(4000);
  });

  it("refreshes a live walk's alert across a checkpoint, and reads a checkpoint of the previous version", () => {
    const config = checkConfig('enumeration', EnumerationConfigSchema, { min_distinct: 20, window_ms: 60_000 });
    const ctx = Object.assign(new CapturingContext(), { resolveAfterMs: 600_000 });
    const d = enumerationFactory.create(config);
    // raised at the 20th id, refreshed by each later one a second apart; the one half a second later waits
    for (let i = 0; i < 25; i++) d.observe!(rec(i, 'mallory', 100 + i, i * 1000), ctx);
    d.observe!(rec(25, 'mallory', 125, 24_500), ctx);
    // alice: 15 ids and 3 of them again, under the threshold
    for (let i = 0; i < 18; i++) d.observe!(rec(100 + i, 'alice', 300 + (i % 15), 25_000 + i), ctx);
    expect(ctx.signals.map((s) => [s.at / 1000, s.metrics.distinct_ids])).toEqual([
      [19, 20],
      [20, 21],
      [21, 22],
      [22, 23],
      [23, 24],
      [24, 25],
    ]);
    const closed = closedWindow('orders', { count: 44, rate: 1 });
    const resumed = enumerationFactory.create(config);
    resumed.restore(JSON.parse(JSON.stringify(d.snapshot())));
    resumed.onWindow!(closed, ctx);
    resumed.onWindow!(closed, ctx);
    expect(
      ctx.signals.slice(6).map((s) => [s.at, s.metrics.distinct_ids, s.metrics.requests, s.metrics.span_s]),
    ).toEqual([[24_500, 26, 26, 24.5]]);
    // the previous version kept no requests per window (a count-min sketch per window_ms did) and no walk alerts
    const snap = JSON.parse(JSON.stringify(d.snapshot())) as {
      windows: [string, Record<string, unknown>, number][];
      [k: string]: unknown;
    };
    const sketch = new CountMinSketch(4096, 4);
    for (const [key, w] of snap.windows) {
      for (let i = 0; i < (w.requests as number); i++) sketch.add(key);
      delete w.requests;
      delete w.alert;
    }
    delete snap.unreported;
    const older = enumerationFactory.create(config);
    older.restore({ ...snap, requests: sketch.toJSON(), requestsEpoch: 0 });
    ctx.signals.length = 0;
    // mallory's window raised its alert there: it raises nothing more; alice's crosses with the requests it had
    older.observe!(rec(200, 'mallory', 900, 30_000), ctx);
    for (let i = 0; i < 5; i++) older.observe!(rec(300 + i, 'alice', 400 + i, 30_000 + i), ctx);
    expect(ctx.signals.map((s) => [s.subject?.value, s.metrics.distinct_ids, s.metrics.requests])).toEqual([
      ['alice', 20, 23],
    ]);
  });

  it('counts a checkpoint it cannot read and starts empty', async () => {
    const d = enumerationFactory.create(enumerationFactory.defaultConfig);
    d.restore({ v: 1, windows: 'garbage' });
    expect(d.stats!().subjects).toBe(0);
    const text = await registry.getSingleMetricAsString('meshward_detector_restore_rejected_total');
    expect(text).toMatch(/type="enumeration"} [1-9]/);
  });
});
