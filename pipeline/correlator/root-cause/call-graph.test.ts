import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import { CallGraph } from './call-graph.js';

let seq = 0;
function rec(
  service: string,
  route: string,
  trace: { traceId?: string; spanId?: string; parentSpanId?: string } | undefined,
  caller?: string,
  ts = 1_000,
): ApiCallRecord {
  return {
    id: `r${seq++}`,
    ts,
    durationMs: 5,
    sensor: { kind: 'test', id: 't' },
    service,
    method: 'GET',
    host: service,
    path: route,
    route,
    status: 200,
    reqBytes: 0,
    respBytes: 10,
    source: { ip: '10.0.0.1', ...(caller ? { service: caller } : {}) },
    ...(trace ? { trace } : {}),
  };
}
const learn = (g: CallGraph, rs: ApiCallRecord[]) => {
  for (const r of rs) g.observe(r, `${r.method} ${r.route}`);
};
const all = () => new CallGraph({ maxEdges: 100, traceSample: 1 });

describe('CallGraph', () => {
  it('links a span to its parent whichever of the two arrives first', () => {
    const g = all();
    learn(g, [
      rec('frontend', '/api/orders', { traceId: 't1', spanId: 'a' }),
      rec('orders', '/orders', { traceId: 't1', spanId: 'b', parentSpanId: 'a' }, 'frontend'),
      rec('payments', '/payments', { traceId: 't1', spanId: 'c', parentSpanId: 'b' }, 'orders'),
    ]);
    // the child completes (and is recorded) before its parent
    learn(g, [
      rec('users', '/users/{id}', { traceId: 't2', spanId: 'e', parentSpanId: 'd' }, 'orders'),
      rec('orders', '/orders/{id}', { traceId: 't2', spanId: 'd' }),
    ]);
    expect(g.size).toBe(3);
    const at = (service: string, endpoint?: string) => ({ service, ...(endpoint ? { endpoint } : {}) });
    expect(g.reaches(at('frontend', 'GET /api/orders'), at('orders', 'GET /orders'))).toBe(true);
    // through a hop, and between services as a whole
    expect(g.reaches(at('frontend', 'GET /api/orders'), at('payments', 'GET /payments'))).toBe(true);
    expect(g.reaches(at('frontend'), at('payments'))).toBe(true);
    expect(g.reaches(at('orders'), at('users', 'GET /users/{id}'))).toBe(true);
    // only along the calls: not backwards, not between endpoints that do not call each other, not to itself
    expect(g.reaches(at('payments'), at('frontend'))).toBe(false);
    expect(g.reaches(at('orders', 'GET /orders/{id}'), at('payments'))).toBe(false);
    expect(g.reaches(at('orders'), at('orders'))).toBe(false);
  });

  it('takes the calling workload of an untraced call as a service-level edge', () => {
    const g = all();
    learn(g, [rec('orders', '/orders', undefined, 'billing-worker')]);
    expect(g.reaches({ service: 'billing-worker' }, { service: 'orders', endpoint: 'GET /orders' })).toBe(true);
    expect(g.reaches({ service: 'billing-worker', endpoint: 'POST /run' }, { service: 'orders' })).toBe(false);
  });

  it('samples whole traces, about one in trace_sample', () => {
    const g = new CallGraph({ maxEdges: 100, traceSample: 8 });
    let sampled = 0;
    for (let i = 0; i < 4000; i++) {
      const traceId = (i * 2654435761 + 12345).toString(16).padStart(32, '0').slice(-32);
      const parent = rec('a', '/x', { traceId, spanId: `p${i}` });
      const child = rec('b', '/y', { traceId, spanId: `c${i}`, parentSpanId: `p${i}` });
      expect(g.sampled(child)).toBe(g.sampled(parent));
      if (g.sampled(parent)) sampled++;
    }
    expect(sampled / 4000).toBeGreaterThan(0.08);
    expect(sampled / 4000).toBeLessThan(0.18);
  });

  it('keeps at most max_edges, dropping the least recently seen, and survives a snapshot', () => {
    const g = new CallGraph({ maxEdges: 3, traceSample: 1 });
    for (let i = 0; i < 5; i++) learn(g, [rec(`s${i}`, '/x', undefined, 'caller', 1_000 + i)]);
    expect(g.size).toBe(3);
    expect(g.reaches({ service: 'caller' }, { service: 's0' })).toBe(false);
    expect(g.reaches({ service: 'caller' }, { service: 's4' })).toBe(true);
    const copy = new CallGraph({ maxEdges: 3, traceSample: 1 });
    copy.restore(JSON.parse(JSON.stringify(g.snapshot())));
    expect(copy.snapshot()).toEqual(g.snapshot());
    expect(copy.reaches({ service: 'caller' }, { service: 's4' })).toBe(true);
  });

  it('bounds the spans it waits on', () => {
    const g = new CallGraph({ maxEdges: 100, traceSample: 1, spanCap: 10 });
    // a parent seen 25 spans ago is forgotten: its late child links to nothing
    learn(g, [rec('a', '/x', { traceId: 't', spanId: 'old' })]);
    for (let i = 0; i < 25; i++) learn(g, [rec('z', '/z', { traceId: `u${i}`, spanId: `s${i}` })]);
    learn(g, [rec('b', '/y', { traceId: 't', spanId: 'late', parentSpanId: 'old' })]);
    expect(g.reaches({ service: 'a' }, { service: 'b' })).toBe(false);
  });
});
