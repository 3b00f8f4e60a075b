import type { AlertSignal } from '../../../core/alert.js';
import type { ApiCallRecord } from '../../../core/record.js';
import type { CatalogEntry } from '../../../inventory/catalog/catalog-entry.js';
import type { DetectorContext } from '../../detector.js';
import { ApiDiscovery } from '../api-discovery.js';
import { type ApiDiscoveryConfig, defaultApiDiscoveryConfig } from '../config.js';

/** orders' catalogue entry: GET /orders/{id}, an ecommerce API */
export const ORDERS_API: CatalogEntry = {
  id: 'orders-api',
  name: 'Orders',
  service: 'orders',
  endpoints: [{ method: 'GET', path: '/orders/{id}' }],
  labels: { category: 'ecommerce' },
};

/** one call to the orders service (from web, on orders.internal, answered 200) */
export function orderCall(
  id: string,
  ts: number,
  method: string,
  path: string,
  params?: ApiCallRecord['params'],
): ApiCallRecord {
  return {
    id,
    ts,
    durationMs: 3,
    sensor: { kind: 'fastify', id: 'gw1' },
    service: 'orders',
    method,
    host: 'orders.internal',
    path,
    status: 200,
    reqBytes: 0,
    respBytes: 100,
    source: { service: 'web' },
    ...(params ? { params } : {}),
  };
}

/** a maker of calls to the orders service (orderCall), r1, r2, … a second apart */
export function ordersCalls(): (method: string, path: string, params?: ApiCallRecord['params']) => ApiCallRecord {
  let n = 0;
  return (method, path, params) => {
    n++;
    return orderCall(`r${n}`, 1_700_000_000_000 + n * 1000, method, path, params);
  };
}

/**
 * an ApiDiscovery over `catalog` (config defaults but `config`), fed calls in order; `found()`: its signals of `kind`;
 * `resolveAfterMs`: the context's alert resolve window (none: standing findings are signalled once)
 */
export function discoveryHarness(
  catalog: readonly CatalogEntry[],
  kind: string,
  config: Partial<ApiDiscoveryConfig> = {},
  resolveAfterMs?: number,
): {
  d: ApiDiscovery;
  ctx: DetectorContext;
  signals: AlertSignal[];
  found: () => AlertSignal[];
  feed: (...records: ApiCallRecord[]) => void;
} {
  const signals: AlertSignal[] = [];
  const ctx: DetectorContext = {
    emit: (s) => signals.push(s),
    endpointOf: (r) => `${r.method} ${r.route ?? r.path}`,
    resolveAfterMs,
  };
  const d = new ApiDiscovery({ ...defaultApiDiscoveryConfig, ...config }, { catalog });
  return {
    d,
    ctx,
    signals,
    found: () => signals.filter((s) => s.kind === kind),
    feed: (...records) => {
      for (const r of records) d.observe(r, ctx);
    },
  };
}
