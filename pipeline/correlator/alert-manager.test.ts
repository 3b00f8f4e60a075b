import { describe, expect, it } from 'vitest';
import type { AlertSignal } from '../core/alert.js';
import { AlertManager } from './alert-manager.js';

const signal = (service: string, at: number, extra: Partial<AlertSignal> = {}): AlertSignal => ({
  kind: 'error_burst',
  severity: 'medium',
  service,
  at,
  summary: `errors on ${service}`,
  recordIds: [`r-${service}-${at}`],
  metrics: { observed: at },
  ...extra,
});

describe('AlertManager', () => {
  it('one open alert per group, refreshed by repeated firing: count, last seen, worst severity, evidence', () => {
    const m = new AlertManager();
    m.signal(signal('orders', 1000));
    m.signal(signal('orders', 2000, { severity: 'high' }));
    m.signal(signal('orders', 3000, { severity: 'low' }));
    m.signal(signal('orders', 3000, { endpoint: 'GET /orders/{id}' }));
    const out = m.drain();
    expect(out).toHaveLength(2);
    const svc = out.find((a) => a.endpoint === undefined)!;
    expect(svc).toMatchObject({ count: 3, firstSeen: 1000, lastSeen: 3000, severity: 'high', state: 'open' });
    expect(svc.evidence.recordIds).toEqual(['r-orders-1000', 'r-orders-2000', 'r-orders-3000']);
    expect(svc.evidence.metrics).toEqual({ observed: 3000 });
    expect(m.drain()).toEqual([]);
  });

  it('labels follow the latest signal, but rule lists every rule that fired into the alert', () => {
    const m = new AlertManager();
    const at = (t: number, rule: string, extra: Record<string, string> = {}) =>
      signal('orders', t, { kind: 'unauthenticated_access', endpoint: 'GET /orders/{id}', labels: { rule, ...extra } });
    m.signal(at(1000, 'documented', { catalogue_id: 'orders-api' }));
    m.signal(at(2000, 'open_endpoint'));
    m.signal(at(3000, 'documented'));
    const [a] = m.drain();
    expect(a.count).toBe(3);
    expect(a.labels).toEqual({ rule: 'documented,open_endpoint', catalogue_id: 'orders-api' });
  });

  it("an alert several rules fire into keeps each rule's figures; one rule's signal replaces them", () => {
    const m = new AlertManager();
    const at = (t: number, rule: string | undefined, metrics: Record<string, number>) =>
      signal('orders', t, {
        kind: 'unauthenticated_access',
        endpoint: 'GET /orders/{id}',
        metrics,
        ...(rule ? { labels: { rule } } : {}),
      });
    m.signal(at(1000, 'auth_dropped', { anonymous_calls: 3, service_anonymous_share: 0 }));
    m.signal(at(1500, 'auth_dropped', { anonymous_calls: 4 }));
    expect(m.drain()[0].evidence.metrics).toEqual({ anonymous_calls: 4 });
    m.signal(at(2000, 'documented', { anonymous_calls: 5, credentialed_calls: 30 }));
    m.signal(at(3000, 'auth_dropped', { anonymous_calls: 6, service_anonymous_share: 0 }));
    expect(m.drain()[0].evidence.metrics).toEqual({
      anonymous_calls: 6,
      credentialed_calls: 30,
      service_anonymous_share: 0,
    });
    // signals without a rule replace the figures, as they always did
    m.signal(signal('billing', 1000, { metrics: { a: 1 } }));
    m.signal(signal('billing', 2000, { metrics: { b: 2 } }));
    expect(m.drain()[0].evidence.metrics).toEqual({ b: 2 });
  });

  it('ids depend on the group and the first firing only, so a replay yields the same alerts', () => {
    const run = () => {
      const m = new AlertManager();
      m.signal(signal('a', 1000));
      m.signal(signal('a', 5000));
      return m.drain().map((a) => a.id);
    };
    expect(run()).toEqual(run());
  });

  it('sweep resolves alerts quiet for resolveAfterMs of event time', () => {
    const m = new AlertManager({ resolveAfterMs: 60_000 });
    m.signal(signal('a', 0));
    m.signal(signal('b', 50_000));
    m.drain();
    m.sweep(100_000);
    const out = m.drain();
    expect(out.map((a) => [a.service, a.state])).toEqual([['a', 'resolved']]);
    expect(m.openCount).toBe(1);
  });

  it('past maxOpen, the alert refreshed least recently (in arrival order) is resolved early', () => {
    const m = new AlertManager({ maxOpen: 2 });
    m.signal(signal('a', 1000));
    m.signal(signal('b', 2000));
    // a refreshed (its record's event time older than b's, as across partitions): b is now the stalest
    m.signal(signal('a', 1500));
    m.signal(signal('c', 4000));
    expect(m.openCount).toBe(2);
    const resolved = m.drain().filter((x) => x.state === 'resolved');
    expect(resolved.map((x) => [x.service, x.updatedAt])).toEqual([['b', 2000]]);
    expect(
      m
        .snapshot()
        .map((x) => x.service)
        .sort(),
    ).toEqual(['a', 'c']);
  });

  it('drain and snapshot hand out copies', () => {
    const m = new AlertManager();
    m.signal(signal('a', 1000));
    const [copy] = m.drain();
    copy.evidence.recordIds.push('tampered');
    m.signal(signal('a', 2000));
    expect(m.drain()[0].evidence.recordIds).not.toContain('tampered');
    const snap = m.snapshot();
    const restored = new AlertManager();
    restored.restore(snap);
    restored.signal(signal('a', 3000));
    expect(restored.drain()[0]).toMatchObject({ count: 3, id: snap[0].id });
  });

  it('amend records what was folded into an open alert without refreshing it; the subject index follows open alerts', () => {
    const m = new AlertManager({ resolveAfterMs: 10_000 });
    const subject = { type: 'user', value: 'u1' };
    m.signal(signal('a', 1000, { kind: 'enumeration', subject }));
    m.signal(signal('b', 1000, { kind: 'enumeration', subject: { type: 'user', value: 'u2' } }));
    const [key] = [...m.openOfSubject(subject)];
    expect(key).toBe(AlertManager.groupKey({ kind: 'enumeration', service: 'a', subject }));
    m.drain();
    const folded = signal('a', 5000, {
      kind: 'enumeration',
      labels: { also: 'excessive_calls' },
      metrics: { also_requests: 9 },
    });
    expect(m.amend(key, { ...folded, summary: 'errors on a; also excessive_calls', recordIds: ['x'] })).toBe(true);
    const [a] = m.drain();
    expect(a).toMatchObject({
      count: 1,
      lastSeen: 1000,
      updatedAt: 5000,
      summary: 'errors on a; also excessive_calls',
    });
    expect(a.labels).toEqual({ also: 'excessive_calls' });
    expect(a.evidence).toEqual({ recordIds: ['r-a-1000', 'x'], metrics: { observed: 1000, also_requests: 9 } });
    // quiet past resolveAfter: resolved, gone from the index, and nothing to amend
    m.sweep(12_000);
    expect([...m.openOfSubject(subject)]).toEqual([]);
    expect(m.amend(key, folded)).toBe(false);
  });
});
