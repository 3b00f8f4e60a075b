import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import { CapturingContext, closedWindow } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { UnauthenticatedAccessConfigSchema } from './config.js';
import { unauthenticatedAccessFactory } from './factory.js';

const MIN = 60_000;
let n = 0;
const call = (ts: number, route: string, o: Partial<ApiCallRecord> = {}): ApiCallRecord => ({
  id: `r${n++}`,
  ts,
  durationMs: 1,
  sensor: { kind: 'test', id: 't' },
  service: 'billing',
  method: 'GET',
  host: 'h',
  path: route,
  route,
  status: 200,
  reqBytes: 0,
  respBytes: 0,
  source: { ip: '185.0.0.1' },
  ...o,
});
const withToken = (i: number): Partial<ApiCallRecord> => ({ user: { tokenHash: `h1:${i}` } });

const detector = (config: Record<string, unknown> = {}) =>
  unauthenticatedAccessFactory.create(
    checkConfig('unauthenticated_access', UnauthenticatedAccessConfigSchema, { learning_ms: 10 * MIN, ...config }),
  );

/** 30 calls with a token to each route while the service is learned */
function learn(d: ReturnType<typeof detector>, ctx: CapturingContext, routes: string[], method = 'GET') {
  for (let i = 0; i < 30; i++)
    for (const r of routes) d.observe!(call(i * 10_000, r, { method, ...withToken(i) }), ctx);
}

describe('unauthenticated_access', () => {
  it('says which rule fired, and rates a dropped requirement high and an open read medium', () => {
    const d = detector();
    const ctx = new CapturingContext();
    learn(d, ctx, ['/invoices/{id}', '/invoices']);
    for (let i = 0; i < 3; i++) d.observe!(call(11 * MIN + i, '/invoices/{id}'), ctx);
    for (let i = 0; i < 3; i++) d.observe!(call(12 * MIN + i, '/invoices/export'), ctx);
    expect(ctx.signals.map((s) => [s.endpoint, s.labels?.rule, s.severity])).toEqual([
      ['GET /invoices/{id}', 'auth_dropped', 'high'],
      ['GET /invoices/export', 'open_endpoint', 'medium'],
    ]);
    expect(ctx.signals[0].metrics).toMatchObject({ anonymous_calls: 3, credentialed_calls: 30, sources: 1 });
    expect(ctx.signals[0].recordIds).toHaveLength(3);
  });

  it('rates an open write high, and waits min_anonymous calls', () => {
    const d = detector({ min_anonymous: 5 });
    const ctx = new CapturingContext();
    learn(d, ctx, ['/invoices']);
    for (let i = 0; i < 4; i++) d.observe!(call(11 * MIN + i, '/refunds', { method: 'POST' }), ctx);
    expect(ctx.signals).toHaveLength(0);
    d.observe!(call(11 * MIN + 9, '/refunds', { method: 'POST' }), ctx);
    expect(ctx.signals.map((s) => [s.endpoint, s.severity])).toEqual([['POST /refunds', 'high']]);
  });

  it('refreshes its alert with each later anonymous call; once quiet, raises anew no sooner than realert_ms', () => {
    let d = detector({ realert_ms: 30 * MIN });
    // alerts resolve after 10 quiet minutes, as in the correlator
    const ctx = Object.assign(new CapturingContext(), { resolveAfterMs: 10 * MIN });
    learn(d, ctx, ['/invoices/{id}']);
    for (let t = 11 * MIN; t < 50 * MIN; t += MIN) d.observe!(call(t, '/invoices/{id}'), ctx);
    // raised at the third call (minute 13), then refreshed by each of the other 36: one alert counting all 39
    expect(ctx.signals.map((s) => s.metrics.anonymous_calls)).toEqual(Array.from({ length: 37 }, (_, i) => i + 3));
    expect(ctx.signals.at(-1)).toMatchObject({ at: 49 * MIN, metrics: { anonymous_span_s: 38 * 60 } });
    expect(ctx.signals.at(-1)?.summary).toBe(
      'billing GET /invoices/{id} accepted 39 calls without any credential in 38 min',
    );
    // calls less than a second apart: counted, and reported by the next refresh or when the service's window closes
    ctx.signals.length = 0;
    for (let i = 1; i <= 5; i++) d.observe!(call(49 * MIN + i * 100, '/invoices/{id}'), ctx);
    expect(ctx.signals.map((s) => s.metrics.anonymous_calls)).toEqual([]);
    const closed = { service: 'billing', start: 49 * MIN, widthMs: MIN, count: 6, errors: 0, rate: 0.1 };
    const window = { ...closed, errorRatio: 0, p50: 1, p95: 1, p99: 1, sampleIds: [] };
    d.onWindow!({ ...window, service: 'orders' }, ctx);
    d.onWindow!({ ...window, endpoint: 'GET /invoices/{id}' }, ctx);
    expect(ctx.signals).toHaveLength(0);
    // reported once, across a checkpoint
    const resumed = detector({ realert_ms: 30 * MIN });
    resumed.restore(JSON.parse(JSON.stringify(d.snapshot())));
    resumed.onWindow!(window, ctx);
    resumed.onWindow!(window, ctx);
    expect(ctx.signals.map((s) => [s.at, s.metrics.anonymous_calls])).toEqual([[49 * MIN + 500, 44]]);
    d = resumed;
    // quiet for 20 minutes (its alert resolved); the next alert counts the calls since and is raised at the third
    ctx.signals.length = 0;
    for (let t = 70 * MIN; t < 75 * MIN; t += MIN) d.observe!(call(t, '/invoices/{id}'), ctx);
    expect(ctx.signals.map((s) => [(s.at - 70 * MIN) / MIN, s.metrics.anonymous_calls])).toEqual([
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
    // calls resuming within realert_ms of the last alert raised wait for it: then their count is the alert's
    ctx.signals.length = 0;
    for (let t = 90 * MIN; t < 120 * MIN; t += 5 * MIN) d.observe!(call(t, '/invoices/{id}'), ctx);
    expect(ctx.signals.map((s) => [(s.at - 90 * MIN) / MIN, s.metrics.anonymous_calls])).toEqual([
      [15, 4],
      [20, 5],
      [25, 6],
    ]);
  });

  it('a refresh due while neither rule holds signals nothing, and the calls wait for the service window', () => {
    const d = detector({ max_anonymous_share: 0.05 });
    const ctx = new CapturingContext();
    learn(d, ctx, ['/invoices']);
    // answers an anonymous call while learning: open by design, its anonymous calls are the service's share
    d.observe!(call(5 * MIN, '/status'), ctx);
    // raised at the third call (1 anonymous call in 31), then one not due for a refresh
    for (const t of [0, 1, 2, 500]) d.observe!(call(11 * MIN + t, '/export'), ctx);
    // 2 anonymous calls in 32: billing no longer requires a credential when the refresh is due
    d.observe!(call(11 * MIN + 600, '/status'), ctx);
    d.observe!(call(11 * MIN + 1500, '/export'), ctx);
    expect(ctx.signals.map((s) => s.metrics.anonymous_calls)).toEqual([3]);
    // 2 in 40 (at most 5%): it does again, and the window's close reports the calls the alert waits for
    for (let i = 0; i < 8; i++) d.observe!(call(11 * MIN + 1600 + i, '/invoices', withToken(i)), ctx);
    d.onWindow!(closedWindow('billing'), ctx);
    expect(ctx.signals.map((s) => [s.labels?.rule, s.metrics.anonymous_calls])).toEqual([
      ['open_endpoint', 3],
      ['open_endpoint', 5],
    ]);
  });

  it('exempts the default public routes: probes, discovery documents, sign-in', () => {
    const d = detector();
    const ctx = new CapturingContext();
    learn(d, ctx, ['/invoices']);
    for (const route of [
      '/',
      '/healthz',
      '/v1/health',
      '/.well-known/openid-configuration',
      '/api/login',
      '/oauth/token',
    ])
      for (let i = 0; i < 4; i++) d.observe!(call(11 * MIN + i, route), ctx);
    expect(ctx.signals).toHaveLength(0);
    // a route that only starts like one is not exempt
    for (let i = 0; i < 3; i++) d.observe!(call(12 * MIN + i, '/healthcare/records'), ctx);
    expect(ctx.signals.map((s) => s.endpoint)).toEqual(['GET /healthcare/records']);
  });

  it('exempts public_routes, by route or by method and route', () => {
    const d = detector({ public_routes: ['/status/*', 'GET /invoices/{id}/pdf'] });
    const ctx = new CapturingContext();
    learn(d, ctx, ['/invoices', '/status/db', '/invoices/{id}/pdf']);
    for (let i = 0; i < 5; i++) {
      d.observe!(call(11 * MIN + i, '/status/db'), ctx);
      d.observe!(call(11 * MIN + i, '/invoices/{id}/pdf'), ctx);
    }
    expect(ctx.signals).toHaveLength(0);
    for (let i = 0; i < 3; i++) d.observe!(call(12 * MIN + i, '/invoices/{id}/pdf', { method: 'DELETE' }), ctx);
    expect(ctx.signals.map((s) => s.endpoint)).toEqual(['DELETE /invoices/{id}/pdf']);
  });

  it('counts a peer certificate or an API key parameter as a credential, a rejected call not at all', () => {
    const d = detector();
    const ctx = new CapturingContext();
    learn(d, ctx, ['/invoices']);
    for (let i = 0; i < 5; i++) {
      d.observe!(call(11 * MIN + i, '/a', { source: { ip: '10.0.0.1', principal: 'spiffe://x/ns/a/sa/b' } }), ctx);
      d.observe!(call(11 * MIN + i, '/b', { path: '/b?access_token=REDACTED' }), ctx);
      d.observe!(call(11 * MIN + i, '/c', { params: { apiKey: 'REDACTED' } }), ctx);
      d.observe!(call(11 * MIN + i, '/d', { status: 401 }), ctx);
      d.observe!(call(11 * MIN + i, '/e', { path: '/e?pageToken=abc' }), ctx);
    }
    // only /e: a paging token is not a credential
    expect([...new Set(ctx.signals.map((s) => s.endpoint))]).toEqual(['GET /e']);
  });

  it('leaves out the calls of a sensor that has never reported a credential (it may not see them)', () => {
    const d = detector();
    const ctx = new CapturingContext();
    learn(d, ctx, ['/invoices/{id}']);
    // an edge access log without the Authorization hash: every call looks anonymous
    const edge = { sensor: { kind: 'nginx', id: 'edge-1' } };
    for (let i = 0; i < 5; i++) d.observe!(call(11 * MIN + i, '/invoices/{id}', edge), ctx);
    expect(ctx.signals).toHaveLength(0);
    // once it shows a credential, it sees them: its calls without one count
    d.observe!(call(12 * MIN, '/invoices/{id}', { ...edge, ...withToken(1) }), ctx);
    for (let i = 0; i < 3; i++) d.observe!(call(12 * MIN + 1 + i, '/invoices/{id}', edge), ctx);
    expect(ctx.signals.map((s) => s.labels?.rule)).toEqual(['auth_dropped']);
  });

  it('carries an alert-in-progress across a snapshot and restore', () => {
    const d = detector();
    const ctx = new CapturingContext();
    learn(d, ctx, ['/invoices/{id}']);
    d.observe!(call(11 * MIN, '/invoices/{id}'), ctx);
    d.observe!(call(11 * MIN + 1, '/invoices/{id}'), ctx);
    const again = detector();
    again.restore(JSON.parse(JSON.stringify(d.snapshot())));
    again.observe!(call(11 * MIN + 2, '/invoices/{id}'), ctx);
    expect(ctx.signals.map((s) => s.labels?.rule)).toEqual(['auth_dropped']);
    expect(again.stats!()).toMatchObject({ services: 1, endpoints: 1, alerts: 1 });
    // a checkpoint of a version whose alert did not count its calls: the calls since learning are the alert's
    const older = detector();
    const snap = JSON.parse(JSON.stringify(d.snapshot())) as { endpoints: [string, Record<string, unknown>, number][] };
    for (const [, e] of snap.endpoints) for (const f of ['calls', 'callsFrom', 'callsTo', 'signalledAt']) delete e[f];
    older.restore(snap);
    const later = new CapturingContext();
    older.observe!(call(11 * MIN + 2, '/invoices/{id}'), later);
    expect(later.signals.map((s) => [s.labels?.rule, s.metrics.anonymous_calls])).toEqual([['auth_dropped', 3]]);
    // a damaged checkpoint starts afresh instead of throwing
    const fresh = detector();
    fresh.restore({ v: 1, services: 'nonsense' });
    expect(fresh.stats!()).toMatchObject({ services: 0, endpoints: 0 });
  });
});
