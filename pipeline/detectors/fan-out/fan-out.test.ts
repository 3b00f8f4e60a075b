import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import { CapturingContext, closedWindow } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { FanOutConfigSchema } from './config.js';
import { fanOutFactory } from './factory.js';

const base = { durationMs: 1, sensor: { kind: 't', id: 't' }, host: 'h', status: 200, reqBytes: 0, respBytes: 0 };

describe('fan_out', () => {
  it('keeps at most max_pending open traces, closing the oldest early', () => {
    const d = fanOutFactory.create(checkConfig('fan_out', FanOutConfigSchema, { max_pending: 100 }));
    const ctx = new CapturingContext();
    for (let i = 0; i < 1000; i++) {
      const r: ApiCallRecord = {
        ...base,
        id: `r${i}`,
        ts: 1000 + i,
        service: 'frontend',
        method: 'GET',
        path: '/api/x',
        route: '/api/x',
        source: { ip: '1.1.1.1' },
        trace: { traceId: `t${i}` },
      };
      d.observe!(r, ctx);
    }
    expect(d.stats!().open_traces).toBe(100);
    expect(d.stats!().traces_closed_early).toBe(900);
  });

  it("refreshes an amplified request's alert across a checkpoint, and reads a checkpoint of the previous version", () => {
    const config = checkConfig('fan_out', FanOutConfigSchema, { min_traces: 5, min_calls: 10 });
    const ctx = Object.assign(new CapturingContext(), { resolveAfterMs: 600_000 });
    let n = 0;
    const call = (traceId: string, ts: number, root: boolean): ApiCallRecord => ({
      ...base,
      id: `c${n++}`,
      ts,
      service: root ? 'frontend' : 'orders',
      method: 'GET',
      path: root ? '/api/x' : '/orders/1',
      route: root ? '/api/x' : '/orders/{id}',
      source: root ? { ip: '1.1.1.1' } : { ip: '10.0.0.1', service: 'frontend' },
      user: root ? { sub: 'mallory' } : undefined,
      trace: root ? { traceId, spanId: 'r' } : { traceId, spanId: `s${n}`, parentSpanId: 'r' },
    });
    const d = fanOutFactory.create(config);
    // five ordinary traces of 2 calls, closed a minute later
    for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) d.observe!(call(`n${i}`, i * 1000 + j, j === 0), ctx);
    // one of 30 calls 100 ms apart: raised at the 11th, refreshed once a second
    d.observe!(call('big', 60_000, true), ctx);
    for (let i = 1; i <= 30; i++) d.observe!(call('big', 60_000 + i * 100, false), ctx);
    expect(ctx.signals.map((s) => [s.at - 60_000, s.metrics.backend_calls])).toEqual([
      [1100, 11],
      [2100, 21],
    ]);
    const closed = closedWindow('frontend', { count: 6, rate: 0.1 });
    const resumed = fanOutFactory.create(config);
    resumed.restore(JSON.parse(JSON.stringify(d.snapshot())));
    resumed.onWindow!(closed, ctx);
    resumed.onWindow!(closed, ctx);
    expect(ctx.signals.slice(2).map((s) => [s.at - 60_000, s.metrics.backend_calls, s.metrics.requests])).toEqual([
      [3000, 30, 1],
    ]);
    // the previous version kept no alerts: its alerted trace counts on into nothing; the next one raises anew
    const old = JSON.parse(JSON.stringify(d.snapshot())) as { pending: [string, Record<string, unknown>][] };
    for (const [, t] of old.pending) delete t.alert;
    const older = fanOutFactory.create(config);
    older.restore({ ...old, alerts: undefined, unreported: undefined });
    ctx.signals.length = 0;
    older.observe!(call('big', 63_100, false), ctx);
    older.observe!(call('next', 64_000, true), ctx);
    for (let i = 1; i <= 11; i++) older.observe!(call('next', 64_000 + i, false), ctx);
    expect(ctx.signals.map((s) => [s.at - 60_000, s.metrics.backend_calls, s.observed?.split(' from')[0]])).toEqual([
      [4011, 11, '11 backend calls in trace next'],
    ]);
  });
});
