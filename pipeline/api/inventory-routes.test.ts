import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { ApiDiscovery } from '../detectors/api-discovery/api-discovery.js';
import { defaultApiDiscoveryConfig } from '../detectors/api-discovery/config.js';
import { orderCall } from '../detectors/api-discovery/testdata/orders-calls.js';
import type { DetectorContext } from '../detectors/detector.js';
import { MemoryStore } from '../store/memory-store.js';
import { createApiServer } from './api-server.js';
import { ApiAuthenticator } from './auth.js';
import { INVENTORY_KEY, inventoryRoutes, REVIEWS_KEY } from './inventory-routes.js';

const KEY = 'viewer-key-0123456789';
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

const store = new MemoryStore();
let app: FastifyInstance;
const ctx: DetectorContext = { emit: () => {}, endpointOf: (r) => `${r.method} ${r.path}` };
/** forgets after 30 days; no catalogue: every endpoint is shadow */
const d = new ApiDiscovery({ ...defaultApiDiscoveryConfig, forget_endpoints_after_days: 30 }, { catalog: [] });
let n = 0;
const call = (path: string, at: number) => d.observe(orderCall(`r${++n}`, at, 'GET', path), ctx);

/** the detector's documents into the store, as the correlator writes them at a checkpoint */
async function checkpoint(): Promise<void> {
  for (const doc of d.documents())
    if (doc.deleted) await store.hdel(INVENTORY_KEY, doc.id);
    else await store.hset(INVENTORY_KEY, doc.id, JSON.stringify(doc.value));
}

/** the routes `GET /v1/inventory?<query>` lists */
async function routes(query: string): Promise<string[]> {
  const res = await app.inject({ url: `/v1/inventory?${query}`, headers: { 'x-api-key': KEY } });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { items: { route: string }[] }).items.map((e) => e.route);
}

beforeAll(async () => {
  app = await createApiServer({
    auth: new ApiAuthenticator([{ name: 'vic', key: KEY, role: 'viewer' }]),
    logger: silentLogger,
    health: () => ({ bus: true }),
    plugins: [inventoryRoutes(store)],
  });
});
afterAll(async () => {
  await app?.close();
});

describe('GET /v1/inventory by when endpoints were last called', () => {
  it('lists the quiet ones (last_seen_before) and the active ones (last_seen_after); forgotten ones go', async () => {
    call('/orders/retired', T0);
    call('/orders/monthly', T0 + 5 * DAY);
    call('/orders/live', T0 + 10 * DAY);
    await checkpoint();
    expect(await routes(`last_seen_before=${T0 + 5 * DAY}`)).toEqual(['/orders/retired']);
    expect(await routes(`last_seen_before=${T0 + 5 * DAY + 1}`)).toEqual(['/orders/monthly', '/orders/retired']);
    expect(await routes(`last_seen_after=${T0 + 5 * DAY}`)).toEqual(['/orders/live']);
    expect(await routes(`last_seen_after=${T0}&last_seen_before=${T0 + 10 * DAY}`)).toEqual(['/orders/monthly']);
    expect(
      (await app.inject({ url: '/v1/inventory?last_seen_before=soon', headers: { 'x-api-key': KEY } })).statusCode,
    ).toBe(400);

    // an analyst reviewed the retired endpoint; 31 days after its last call it is forgotten: its document goes, the
    // review stays (by the same id, for when it comes back)
    const retired = d.inventory.get('orders', 'GET', '/orders/retired')!;
    await store.hset(REVIEWS_KEY, retired.id, JSON.stringify({ labels: { category: 'x' }, by: 'ana', at: T0 }));
    call('/orders/live', T0 + 31 * DAY);
    await checkpoint();
    expect(await routes('')).toEqual(['/orders/live', '/orders/monthly']);
    expect(await store.hget(REVIEWS_KEY, retired.id)).not.toBeNull();
  });
});
