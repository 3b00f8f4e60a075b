import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../inventory/catalog/catalog-entry.js';
import type { ApiDiscoveryConfig } from './config.js';
import { discoveryHarness, ordersCalls } from './testdata/orders-calls.js';

const catalog: CatalogEntry[] = [
  {
    id: 'orders-api',
    name: 'Orders',
    service: 'orders',
    endpoints: [{ method: 'GET', path: '/orders/search', params: ['q', 'access_token', 'email', 'pageToken'] }],
    labels: { category: 'ecommerce' },
  },
];

const detector = (over: Partial<ApiDiscoveryConfig> = {}) =>
  discoveryHarness(catalog, 'sensitive_query_param', { min_calls: 100, ...over });

describe('api_discovery: sensitive data in query strings (sensitive_query_param)', () => {
  it('signals an endpoint whose query carries a credential, then personal data, documented or not', () => {
    const call = ordersCalls();
    const t = detector();
    t.feed(call('GET', '/orders/search?q=shoes&pageToken=abc'));
    expect(t.found()).toEqual([]);
    t.feed(call('GET', '/orders/search?q=shoes&access_token=[redacted]'));
    expect(t.found()[0]).toMatchObject({
      severity: 'medium',
      service: 'orders',
      endpoint: 'GET /orders/search',
      subject: { type: 'api' },
      labels: { params: 'access_token:credential', kinds: 'credential', new_params: 'access_token' },
    });
    expect(t.found()[0].summary).toBe(
      'GET /orders/search on orders takes credential data in its query string: access_token',
    );
    // its catalogue documents them: no undocumented_param, the exposure is the point
    expect(t.signals.map((s) => s.kind)).toEqual(['sensitive_query_param']);
    t.feed(call('GET', '/orders/search?access_token=x'), call('GET', '/orders/search', { email: 'a@b.c' }));
    expect(t.found().map((s) => s.labels)).toEqual([
      {
        params: 'access_token:credential',
        kinds: 'credential',
        new_params: 'access_token',
        catalogue_id: 'orders-api',
      },
      {
        params: 'access_token:credential,email:personal',
        kinds: 'credential,personal',
        new_params: 'email',
        catalogue_id: 'orders-api',
      },
    ]);
    // a shadow endpoint too
    t.feed(call('GET', '/orders/export?apiKey=k'));
    expect(t.found()[2]).toMatchObject({ endpoint: 'GET /orders/export', labels: { params: 'apiKey:credential' } });
  });

  it('is off when configured so', () => {
    const call = ordersCalls();
    const t = detector({ sensitive_query_params: false });
    t.feed(call('GET', '/orders/search?password=x'));
    expect(t.found()).toEqual([]);
  });
});
