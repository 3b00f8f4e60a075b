import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import { registry } from '../../core/metrics.js';
import { CapturingContext } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { EnumerationConfigSchema } from './config.js';
import { enumerationFactory } from './factory.js';

const rec = (i: number, sub: string, id: string | number, ts: number): ApiCallRecord => ({
  id: `r${i}`,
  ts,
  durationMs: 1,
  sensor: { kind: 'test', id: 't' },
  service: 'orders',
  method: 'GET',
  host: 'h',
  path: `/orders/${id}`,
  route: '/orders/{id}',
  status: 200,
  reqBytes: 0,
  respBytes: 0,
  source: { ip: '81.0.0.1' },
  user: { sub },
});

describe('enumeration', () => {
  it('raises the threshold above an endpoint whose subjects normally touch many ids', () => {
    const d = enumerationFactory.create(
      checkConfig('enumeration', EnumerationConfigSchema, { min_distinct: 20, window_ms: 60_000 }),
    );
    const ctx = new CapturingContext();
    let n = 0;
    // ten windows in which every subject touches 30 distinct ids: the normal here is 30
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

  it('holds its cap on tracked subjects and counts evictions', () => {
    const d = enumerationFactory.create(checkConfig('enumeration', EnumerationConfigSchema, { max_subjects: 1000 }));
    const ctx = new CapturingContext();
    for (let i = 0; i < 5000; i++) d.observe!(rec(i, `u${i}`, i, i), ctx);
    const s = d.stats!();
    expect(s.subjects).toBe(1000);
    expect(s.subjects_evicted).toBe(4000);
  });

  it('counts a checkpoint it cannot read and starts empty', async () => {
    const d = enumerationFactory.create(enumerationFactory.defaultConfig);
    d.restore({ v: 1, windows: 'garbage' });
    expect(d.stats!().subjects).toBe(0);
    const text = await registry.getSingleMetricAsString('meshward_detector_restore_rejected_total');
    expect(text).toMatch(/type="enumeration"} [1-9]/);
  });
});
