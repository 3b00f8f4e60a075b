import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../inventory/catalog/catalog-entry.js';
import { discoveryHarness, ordersCalls } from './testdata/orders-calls.js';
import type { ApiDiscoveryConfig } from './config.js';

const catalog: CatalogEntry[] = [
  {
    id: 'orders-api',
    name: 'Orders',
    service: 'orders',
    endpoints: [
      { method: 'GET', path: '/orders/search', params: ['q', 'Page'] },
      // no parameter list: not checked
      { method: 'GET', path: '/orders/{orderId}' },
    ],
    labels: { category: 'ecommerce', appCode: 'ORD01' },
  },
];

const call = ordersCalls();

const detector = (over: Partial<ApiDiscoveryConfig> = {}) =>
  discoveryHarness(catalog, 'undocumented_param', { min_calls: 1, ...over });

describe('api_discovery: parameters the catalogue does not define (undocumented_param)', () => {
  it('signals a catalogued endpoint called with a new undocumented name, naming every one so far', () => {
    const t = detector();
    t.feed(call('GET', '/orders/search?q=shoes'), call('GET', '/orders/search?q=hat&page=2'));
    expect(t.found()).toEqual([]);
    t.feed(call('GET', '/orders/search?q=x&debug=1'));
    expect(t.found()).toHaveLength(1);
    expect(t.found()[0]).toMatchObject({
      severity: 'low',
      service: 'orders',
      endpoint: 'GET /orders/search',
      subject: { type: 'api' },
      labels: { catalogue_id: 'orders-api', params: 'debug', new_params: 'debug' },
      metrics: { undocumented: 1, params_seen: 3 },
    });
    expect(t.found()[0].summary).toBe(
      'GET /orders/search on orders is called with a parameter catalogue entry orders-api does not define: debug',
    );
    expect(t.found()[0].expected).toBe('the parameters catalogue entry orders-api defines: q, page');
    // a name seen before does not signal again; a kept parameter of the sensor counts as the query's do
    const admin = call('GET', '/orders/search', { admin: 'true' });
    t.feed(call('GET', '/orders/search?debug=2'), admin);
    expect(t.found().map((s) => s.labels)).toEqual([
      { catalogue_id: 'orders-api', params: 'debug', new_params: 'debug' },
      { catalogue_id: 'orders-api', params: 'debug,admin', new_params: 'admin' },
    ]);
    expect(t.found()[1].recordIds).toEqual([admin.id]);
  });

  it('does not check an endpoint whose catalogue entry lists no parameters, a shadow endpoint, or when off', () => {
    const t = detector();
    t.feed(call('GET', '/orders/42?expand=items'), call('GET', '/orders/export?format=csv'));
    expect(t.signals.map((s) => s.kind)).toEqual(['shadow_api']);
    const off = detector({ undocumented_params: false });
    off.feed(call('GET', '/orders/search?debug=1'));
    expect(off.signals).toEqual([]);
  });

  it('after a restore, signals as a detector that never stopped', () => {
    const a = detector();
    a.feed(call('GET', '/orders/search?debug=1'));
    const b = detector();
    b.d.restore(JSON.parse(JSON.stringify(a.d.snapshot())));
    const rest = [call('GET', '/orders/search?debug=3'), call('GET', '/orders/search?trace=1')];
    a.feed(...rest);
    b.feed(...rest);
    expect(b.found().map((s) => s.labels)).toEqual([
      { catalogue_id: 'orders-api', params: 'debug,trace', new_params: 'trace' },
    ]);
    expect(a.found().slice(1)).toEqual(b.found());
  });
});
