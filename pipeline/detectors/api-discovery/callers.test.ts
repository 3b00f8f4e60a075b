import { beforeEach, describe, expect, it } from 'vitest';
import type { AlertSignal } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { CatalogEntry } from '../../inventory/catalog/catalog-entry.js';
import { ApiDiscovery } from './api-discovery.js';
import { apiDiscoveryFactory } from './factory.js';
import { forgetSharedAssociations } from './shared-model.js';

/** two applications of a shop, each a UI and a back end; the UIs call their own back ends */
const entry = (id: string, service: string, path: string, params: string[], appCode: string): CatalogEntry => ({
  id,
  name: service,
  service,
  host: `${service}.shop.svc.cluster.local`,
  endpoints: [{ method: 'GET', path, params }],
  labels: { appCode, lineOfBusiness: appCode === 'ORD' ? 'retail' : 'finance', category: 'ecommerce' },
});
const CATALOG: CatalogEntry[] = [
  entry('orders-ui', 'orders-ui', '/cart', ['item'], 'ORD'),
  entry('orders', 'orders', '/orders/{id}', ['status'], 'ORD'),
  entry('basket', 'basket', '/basket/{id}', ['item'], 'ORD'),
  entry('stock', 'stock', '/stock/{id}', ['sku'], 'ORD'),
  entry('pay-ui', 'pay-ui', '/checkout', ['card'], 'PAY'),
  entry('payments', 'payments', '/payments/{id}', ['amount'], 'PAY'),
  entry('ledger', 'ledger', '/ledger/{id}', ['amount'], 'PAY'),
  entry('invoices', 'invoices', '/invoices/{id}', ['amount'], 'PAY'),
];

let n = 0;
const call = (service: string, path: string, caller: string, query = ''): ApiCallRecord => ({
  id: `r${n++}`,
  ts: 1_700_000_000_000 + n * 1000,
  durationMs: 2,
  sensor: { kind: 'fastify', id: 'gw' },
  service,
  method: 'GET',
  host: `${service}.shop.svc.cluster.local`,
  path: path + query,
  status: 200,
  reqBytes: 0,
  respBytes: 10,
  source: { service: caller },
});

/** catalogued traffic: each UI calls its own application's back ends (and a UI is called by the edge) */
function estate(): ApiCallRecord[] {
  const out: ApiCallRecord[] = [];
  for (let i = 0; i < 3; i++)
    out.push(
      call('orders', `/orders/${i}`, 'orders-ui'),
      call('basket', `/basket/${i}`, 'orders-ui'),
      call('stock', `/stock/${i}`, 'orders-ui'),
      call('orders-ui', '/cart', 'edge'),
      call('payments', `/payments/${i}`, 'pay-ui'),
      call('ledger', `/ledger/${i}`, 'pay-ui'),
      call('invoices', `/invoices/${i}`, 'pay-ui'),
      call('pay-ui', '/checkout', 'edge'),
    );
  return out;
}

function run(records: ApiCallRecord[], peer_prior?: Record<string, number>): AlertSignal[] {
  const d = new ApiDiscovery(
    { ...apiDiscoveryFactory.defaultConfig, min_calls: 2, ...(peer_prior ? { peer_prior } : {}) },
    { catalog: CATALOG },
  );
  const signals: AlertSignal[] = [];
  const ctx = { emit: (s: AlertSignal) => signals.push(s), endpointOf: (r: ApiCallRecord) => r.path };
  for (const r of records) d.observe(r, ctx);
  return signals.filter((s) => s.kind === 'shadow_api');
}

describe('api_discovery: a new service leans to the application of its callers (peer_prior)', () => {
  beforeEach(() => forgetSharedAssociations());

  // a new service whose words lean a little to the payments application (a card parameter, as the payment UI's), called only by the orders UI
  const refunds = [1, 2, 3].map((i) => call('refunds', `/refunds/${i}`, 'orders-ui', '?card=1'));

  it('callers that call their own application: appCode and lineOfBusiness from them, with why', () => {
    const [alert] = run([...estate(), ...refunds]);
    expect(alert.service).toBe('refunds');
    expect(alert.labels?.appCode_candidate ?? alert.labels?.appCode).toBe('ORD');
    expect(alert.labels?.lineOfBusiness_candidate ?? alert.labels?.lineOfBusiness).toBe('retail');
    expect(alert.labels?.appCode_because).toMatch(/^callers orders-ui/);
    // category is not taken from callers by default
    expect(alert.labels?.category_because ?? '').not.toMatch(/callers/);
  });

  it('off (peer_prior empty), or before any catalogued endpoint shows how callers relate: the words decide', () => {
    const [off] = run([...estate(), ...refunds], {});
    expect(off.labels?.appCode_candidate ?? off.labels?.appCode).toBe('PAY');
    expect(off.labels?.appCode_because ?? '').not.toMatch(/callers/);
    const [cold] = run(refunds);
    expect(cold.labels?.appCode_candidate ?? cold.labels?.appCode).toBe('PAY');
  });

  it('an estate whose callers call across applications: callers are not trusted', () => {
    const crossed = estate().map((r) =>
      r.source.service === 'orders-ui'
        ? { ...r, source: { service: 'pay-ui' } }
        : r.source.service === 'pay-ui'
          ? { ...r, source: { service: 'orders-ui' } }
          : r,
    );
    const [alert] = run([...crossed, ...refunds]);
    expect(alert.labels?.appCode_candidate ?? alert.labels?.appCode).toBe('PAY');
    expect(alert.labels?.appCode_because ?? '').not.toMatch(/callers/);
  });
});
