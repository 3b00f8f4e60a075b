import { describe, expect, it } from 'vitest';
import type { AlertSignal } from '../../core/alert.js';
import type { AlertKind } from '../../core/alert-kinds.js';
import type { ApiCallRecord } from '../../core/record.js';
import { CallGraph } from './call-graph.js';
import { parseRootCauseConfig } from './config.js';
import { SymptomFolder } from './symptom-folder.js';

const T = Date.UTC(2026, 0, 5, 10);
const MIN = 60_000;

/** frontend GET /api/orders → orders GET /orders/{id} → users GET /users/{id}; frontend GET /api/products → catalog */
function mesh(): CallGraph {
  const g = new CallGraph({ maxEdges: 100, traceSample: 1 });
  const calls: [string, string, string | undefined, string, string | undefined][] = [
    ['frontend', 'GET /api/orders', undefined, 'f1', undefined],
    ['orders', 'GET /orders/{id}', 'frontend', 'o1', 'f1'],
    ['users', 'GET /users/{id}', 'orders', 'u1', 'o1'],
    ['frontend', 'GET /api/products', undefined, 'f2', undefined],
    ['catalog', 'GET /products', 'frontend', 'c2', 'f2'],
  ];
  for (const [service, endpoint, caller, spanId, parentSpanId] of calls) {
    const [method, route] = endpoint.split(' ');
    const r: ApiCallRecord = {
      id: spanId,
      ts: T - 10 * MIN,
      durationMs: 1,
      sensor: { kind: 'test', id: 't' },
      service,
      method,
      host: service,
      path: route,
      route,
      status: 200,
      reqBytes: 0,
      respBytes: 0,
      source: { ip: '10.0.0.1', ...(caller ? { service: caller } : {}) },
      trace: { traceId: `t-${spanId}`, spanId, ...(parentSpanId ? { parentSpanId } : {}) },
    };
    g.observe(r, endpoint);
  }
  return g;
}

function sig(
  kind: AlertKind,
  service: string,
  endpoint: string | undefined,
  at: number,
  observed: string,
): AlertSignal {
  return {
    kind,
    severity: 'high',
    service,
    ...(endpoint ? { endpoint } : {}),
    at,
    summary: `p95 latency ${observed}, expected 50 ± 5 ms (about 30 of 40 requests slower than the usual p95)`,
    observed,
    recordIds: [`${service}-${endpoint ?? ''}-${at}`],
    metrics: { observed: Number.parseInt(observed, 10) },
  };
}

const folder = (config: Record<string, unknown> = {}) =>
  new SymptomFolder(parseRootCauseConfig({ across_services: true, ...config }), mesh());

describe('SymptomFolder', () => {
  it("folds a slow hop's callers and the services around it into one signal at the hop", () => {
    const f = folder();
    for (const s of [
      sig('latency_spike', 'frontend', 'GET /api/orders', T, '400 ms'),
      sig('latency_spike', 'frontend', undefined, T, '300 ms'),
      sig('latency_spike', 'orders', undefined, T, '380 ms'),
      sig('latency_spike', 'orders', 'GET /orders/{id}', T, '390 ms'),
    ])
      f.add(s);
    const out = f.flush(T + MIN);
    expect(out).toHaveLength(1);
    const [root] = out;
    expect([root.service, root.endpoint]).toEqual(['orders', 'GET /orders/{id}']);
    expect(root.summary).toMatch(
      /^p95 latency 390 ms, .*; also affected: frontend GET \/api\/orders: p95 latency 400 ms, expected 50 ± 5 ms; frontend: p95 latency 300 ms, expected 50 ± 5 ms; orders: p95 latency 380 ms, expected 50 ± 5 ms$/,
    );
    expect(root.metrics.affected).toBe(3);
    expect(root.labels?.also_affected.split('\n')).toHaveLength(3);
    expect(root.recordIds).toContain(`frontend-GET /api/orders-${T}`);
  });

  it('folds only the service around an endpoint unless across_services is on', () => {
    const f = new SymptomFolder(parseRootCauseConfig({}), undefined);
    for (const s of [
      sig('latency_spike', 'frontend', 'GET /api/orders', T, '400 ms'),
      sig('latency_spike', 'orders', undefined, T, '380 ms'),
      sig('latency_spike', 'orders', 'GET /orders/{id}', T, '390 ms'),
    ])
      f.add(s);
    expect(f.flush(T + MIN).map((s) => [s.service, s.endpoint, s.metrics.affected])).toEqual([
      ['frontend', 'GET /api/orders', undefined],
      ['orders', 'GET /orders/{id}', 1],
    ]);
  });

  it('roots a traffic change at the front end that received it, not at its backends', () => {
    const f = folder();
    f.add(sig('traffic_spike', 'catalog', 'GET /products', T, '12 req/s'));
    f.add(sig('traffic_spike', 'frontend', 'GET /api/products', T, '12 req/s'));
    const out = f.flush(T + MIN);
    expect(out.map((s) => [s.service, s.endpoint, s.metrics.affected])).toEqual([['frontend', 'GET /api/products', 1]]);
  });

  it('keeps unrelated signals apart, and signals of kinds that do not propagate that way', () => {
    const f = folder();
    f.add(sig('latency_spike', 'catalog', 'GET /products', T, '300 ms'));
    f.add(sig('latency_spike', 'users', 'GET /users/{id}', T, '300 ms'));
    // a traffic spike at a backend does not explain one at its caller
    f.add(sig('traffic_spike', 'frontend', 'GET /api/orders', T, '9 req/s'));
    f.add(sig('traffic_spike', 'orders', 'GET /orders/{id}', T, '9 req/s'));
    const out = f.flush(T + MIN);
    expect(out.map((s) => `${s.kind} ${s.service} ${s.metrics.affected ?? 0}`).sort()).toEqual([
      'latency_spike catalog 0',
      'latency_spike users 0',
      'traffic_spike frontend 1',
    ]);
  });

  it('a later symptom joins its recent root cause; after fold_within it is its own alert', () => {
    const f = folder({ fold_within_seconds: 180 });
    f.add(sig('latency_spike', 'users', 'GET /users/{id}', T, '300 ms'));
    expect(f.flush(T + MIN)).toHaveLength(1);
    f.add(sig('latency_spike', 'orders', 'GET /orders/{id}', T + MIN, '320 ms'));
    const joined = f.flush(T + 2 * MIN);
    expect(joined.map((s) => [s.service, s.at, s.metrics.affected])).toEqual([['users', T + MIN, 1]]);
    f.add(sig('latency_spike', 'frontend', 'GET /api/orders', T + 5 * MIN, '330 ms'));
    expect(f.flush(T + 6 * MIN).map((s) => [s.service, s.metrics.affected])).toEqual([['frontend', undefined]]);
  });

  it('passes a lone signal through unchanged, and survives a snapshot with signals waiting', () => {
    const f = folder();
    const lone = sig('error_burst', 'catalog', 'GET /products', T, '30%');
    f.add(lone);
    const copy = folder();
    copy.restore(JSON.parse(JSON.stringify(f.snapshot())));
    expect(copy.flush(T + MIN)).toEqual([lone]);
    expect(f.flush(T + MIN)).toEqual([lone]);
    expect(f.folds('error_burst')).toBe(true);
    expect(f.folds('enumeration')).toBe(false);
    expect(folder({ enabled: false }).folds('error_burst')).toBe(false);
  });

  it('remembers at most max_roots root causes', () => {
    const f = folder({ max_roots: 2 });
    for (const svc of ['a', 'b', 'c', 'd']) f.add(sig('latency_spike', svc, 'GET /x', T, '300 ms'));
    expect(f.flush(T + MIN)).toHaveLength(4);
    expect(f.snapshot().roots.map((r) => r.signal.service)).toEqual(['c', 'd']);
  });
});
