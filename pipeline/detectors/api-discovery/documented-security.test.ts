import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import { importOpenApi } from '../../inventory/catalog/openapi.js';
import { closedWindow } from '../shared/capture.js';
import type { ApiDiscoveryConfig } from './config.js';
import { discoveryHarness, ordersCalls } from './testdata/orders-calls.js';

/** the document requires a bearer token; one operation opts out (security: []), one makes it optional ({}) */
const spec = {
  openapi: '3.0.3',
  info: { title: 'Orders', 'x-service': 'orders' },
  security: [{ bearer: [] }],
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  paths: {
    '/orders/{id}': { get: { responses: {} } },
    '/orders/catalogue': { get: { security: [], responses: {} } },
    '/orders/search': { get: { security: [{}, { bearer: [] }], responses: {} } },
  },
};

const call = ordersCalls();
const withToken = (r: ApiCallRecord): ApiCallRecord => ({ ...r, user: { tokenHash: 'h1:abc' } });

const detector = (over: Partial<ApiDiscoveryConfig> = {}) =>
  discoveryHarness([importOpenApi(spec, 'orders.yaml')], 'unauthenticated_access', over);

describe('api_discovery: a catalogued endpoint that requires a credential answers calls without one', () => {
  it('reads security from OpenAPI: the document default, an opt-out and an optional requirement', () => {
    const entry = importOpenApi(spec, 'orders.yaml');
    expect(entry.endpoints?.map((e) => [e.path, e.security])).toEqual([
      ['/orders/{id}', 'required'],
      ['/orders/catalogue', 'none'],
      ['/orders/search', 'optional'],
    ]);
    const swagger = importOpenApi(
      {
        swagger: '2.0',
        info: { title: 'x' },
        paths: { '/a': { get: { security: [{ key: [] }] } }, '/b': { get: {} } },
      },
      'x.json',
    );
    expect(swagger.endpoints?.map((e) => e.security)).toEqual(['required', undefined]);
  });

  it('signals at the third accepted anonymous call, then with each later one; credentialed and rejected calls do not count', () => {
    const t = detector();
    t.feed(withToken(call('GET', '/orders/1')), call('GET', '/orders/2'), { ...call('GET', '/orders/3'), status: 401 });
    t.feed(call('GET', '/orders/4'));
    expect(t.found()).toEqual([]);
    t.feed(call('GET', '/orders/5'));
    expect(t.found()).toHaveLength(1);
    expect(t.found()[0]).toMatchObject({
      severity: 'high',
      service: 'orders',
      endpoint: 'GET /orders/{id}',
      labels: { rule: 'documented', catalogue_id: 'Orders' },
      metrics: { anonymous_calls: 3, anonymous_span_s: 3, credentialed_calls: 1, sources: 1 },
    });
    expect(t.found()[0].subject).toBeUndefined();
    // a second apart, each later call refreshes it (no resolve window here: it is never quiet)
    for (let i = 0; i < 99; i++) t.feed(call('GET', `/orders/${10 + i}`));
    expect(t.found().map((s) => s.metrics.anonymous_calls)).toEqual(Array.from({ length: 100 }, (_, i) => i + 3));
  });

  it('leaves endpoints the catalogue opens, or makes optional, alone; and is off with documented_security false', () => {
    const t = detector();
    t.feed(withToken(call('GET', '/orders/0')));
    for (let i = 0; i < 5; i++) t.feed(call('GET', '/orders/catalogue'), call('GET', `/orders/search?q=${i}`));
    expect(t.found()).toEqual([]);
    const off = detector({ documented_security: false });
    off.feed(withToken(call('GET', '/orders/0')));
    for (let i = 0; i < 5; i++) off.feed(call('GET', `/orders/${i}`));
    expect(off.found()).toEqual([]);
  });

  it('says nothing of a sensor that has never reported a credential (it may not see them)', () => {
    const t = detector();
    for (let i = 0; i < 5; i++) t.feed(call('GET', `/orders/${i}`));
    expect(t.found()).toEqual([]);
    // the same sensor shows a token: from then on its calls without one count
    t.feed(withToken(call('GET', '/orders/9')));
    for (let i = 0; i < 3; i++) t.feed(call('GET', `/orders/${20 + i}`));
    expect(t.found().map((s) => s.metrics.anonymous_calls)).toEqual([3]);
  });

  it('carries a counting alert across a checkpoint; after one of the previous version the count starts afresh', () => {
    const catalog = [importOpenApi(spec, 'orders.yaml')];
    const t = discoveryHarness(catalog, 'unauthenticated_access', {}, 600_000);
    t.feed(withToken(call('GET', '/orders/1')));
    for (let i = 0; i < 3; i++) t.feed(call('GET', `/orders/${10 + i}`));
    const last = t.found()[0].at;
    // half a second later: waits for the service's window
    t.feed({ ...call('GET', '/orders/20'), ts: last + 500 });
    expect(t.found().map((s) => s.metrics.anonymous_calls)).toEqual([3]);
    const closed = closedWindow('orders', { count: 5, rate: 0.1 });
    const resumed = discoveryHarness(catalog, 'unauthenticated_access', {}, 600_000);
    resumed.d.restore(JSON.parse(JSON.stringify(t.d.snapshot())));
    resumed.d.onWindow(closed, resumed.ctx);
    resumed.d.onWindow(closed, resumed.ctx);
    expect(resumed.found().map((s) => [s.at - last, s.metrics.anonymous_calls])).toEqual([[500, 4]]);
    // a checkpoint written before the rule counted per alert: the next anonymous calls are counted from the first
    const { anonymous: _, unreported: __, ...old } = t.d.snapshot() as Record<string, unknown>;
    const older = discoveryHarness(catalog, 'unauthenticated_access', {}, 600_000);
    older.d.restore(JSON.parse(JSON.stringify(old)));
    for (let i = 0; i < 3; i++) older.feed(call('GET', `/orders/${30 + i}`));
    expect(older.found().map((s) => [s.metrics.anonymous_calls, s.recordIds.length])).toEqual([[3, 3]]);
  });
});
