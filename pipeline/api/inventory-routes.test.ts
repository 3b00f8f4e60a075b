import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertRepository } from '../alerts/alert-repository.js';
import type { Alert } from '../core/alert.js';
import { silentLogger } from '../core/logger.js';
import { ApiDiscovery } from '../detectors/api-discovery/api-discovery.js';
import { defaultApiDiscoveryConfig } from '../detectors/api-discovery/config.js';
import { orderCall } from '../detectors/api-discovery/testdata/orders-calls.js';
import type { DetectorContext } from '../detectors/detector.js';
import type { ApiEntry } from '../inventory/api-entry.js';
import { riskModelOf } from '../inventory/endpoint-risk-config.js';
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

describe('GET /v1/inventory: the risk of each endpoint', () => {
  const riskStore = new MemoryStore();
  const alerts = new AlertRepository(riskStore);
  let riskApp: FastifyInstance;
  const entry = (id: string, over: Partial<ApiEntry>): ApiEntry => ({
    id,
    service: 'billing',
    method: 'GET',
    route: `/${id}`,
    hosts: [],
    firstSeen: T0,
    lastSeen: T0,
    count: 10,
    callers: [],
    params: [],
    statusMix: { '2xx': 10 },
    auth: { token: 10, mtls: 0, key: 0, none: 0 },
    catalogueId: 'cat_billing',
    labels: {},
    state: 'catalogued',
    ...over,
  });
  const alert = (id: string, over: Partial<Alert>): Alert => ({
    v: 1,
    id,
    kind: 'enumeration',
    severity: 'high',
    state: 'open',
    service: 'billing',
    endpoint: 'GET /invoices/{id}',
    firstSeen: T0,
    lastSeen: T0,
    count: 1,
    summary: 'enumeration',
    evidence: { recordIds: [], metrics: {} },
    updatedAt: T0,
    ...over,
  });
  type Shown = ApiEntry & { risk: { score: number; level: string; factors: { factor: string; detail: string }[] } };
  const list = async (query: string): Promise<Shown[]> => {
    const res = await riskApp.inject({ url: `/v1/inventory?${query}`, headers: { 'x-api-key': KEY } });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { items: Shown[] }).items;
  };

  beforeAll(async () => {
    riskApp = await createApiServer({
      auth: new ApiAuthenticator([{ name: 'vic', key: KEY, role: 'viewer' }]),
      logger: silentLogger,
      health: () => ({ bus: true }),
      // shadow weighs 30 here, over the table's 15
      plugins: [inventoryRoutes(riskStore, { alerts, risk: riskModelOf({ points: { shadow: 30 } }) })],
    });
    for (const e of [
      // 0: the newest
      entry('health', { lastSeen: T0 + 3 * DAY }),
      // 10 object ids + 15 open high alert = 25
      entry('invoices', { route: '/invoices/{id}', lastSeen: T0 + 2 * DAY }),
      // 30 shadow + 25 unauthenticated + 10 writes = 65
      entry('export', {
        method: 'POST',
        state: 'shadow',
        catalogueId: null,
        auth: { token: 1, mtls: 0, key: 0, none: 3 },
      }),
      // 10 object ids + 20 payment (iban) = 30, called before invoices
      entry('refunds', { route: '/refunds/{id}', params: ['iban'], lastSeen: T0 + DAY }),
    ])
      await riskStore.hset(INVENTORY_KEY, e.id, JSON.stringify(e));
    await alerts.upsert(alert('a1', {}));
    // resolved, or of another service's endpoint of the same name: not weighed
    await alerts.upsert(alert('a2', { state: 'resolved', kind: 'error_burst', endpoint: 'GET /refunds/{id}' }));
    await alerts.upsert(alert('a3', { service: 'shop', endpoint: 'GET /health', severity: 'critical' }));
  });
  afterAll(async () => {
    await riskApp?.close();
  });

  it('each item carries its score, level and factors, open alerts of its endpoint weighed', async () => {
    const items = await list('');
    expect(items.map((e) => [e.id, e.risk.score, e.risk.level])).toEqual([
      ['health', 0, 'low'],
      ['invoices', 25, 'low'],
      ['refunds', 30, 'medium'],
      ['export', 65, 'high'],
    ]);
    expect(items[1].risk.factors).toEqual([
      { factor: 'open_alerts_severe', points: 15, detail: 'open alerts, one high or critical: enumeration' },
      { factor: 'object_ids', points: 10, detail: 'object ids in the path: {id}' },
    ]);
    expect(items[3].risk.factors.map((f) => f.factor)).toEqual(['shadow', 'unauthenticated', 'writes']);
  });

  it('sort=risk: highest score first, then most recently called, then by id; min_risk keeps those at or above', async () => {
    expect((await list('sort=risk')).map((e) => e.id)).toEqual(['export', 'refunds', 'invoices', 'health']);
    expect((await list('sort=risk&min_risk=25')).map((e) => e.id)).toEqual(['export', 'refunds', 'invoices']);
    expect((await list('min_risk=30')).map((e) => e.id)).toEqual(['refunds', 'export']);
    expect((await list('sort=risk&limit=1&cursor=1')).map((e) => e.id)).toEqual(['refunds']);
    for (const bad of ['sort=score', 'min_risk=101', 'min_risk=-1', 'min_risk=1.5']) {
      const res = await riskApp.inject({ url: `/v1/inventory?${bad}`, headers: { 'x-api-key': KEY } });
      expect(res.statusCode, bad).toBe(400);
    }
  });

  it("a list answer names the levels' thresholds it scores with (a client's min_risk choices)", async () => {
    expect(
      (await riskApp.inject({ url: '/v1/inventory?limit=1', headers: { 'x-api-key': KEY } })).json(),
    ).toMatchObject({ riskLevels: { medium: 30, high: 60 } });
    const configured = await createApiServer({
      auth: new ApiAuthenticator([{ name: 'v', key: KEY, role: 'viewer' }]),
      logger: silentLogger,
      health: () => ({}),
      plugins: [inventoryRoutes(new MemoryStore(), { risk: riskModelOf({ levels: { medium: 40, high: 75 } }) })],
    });
    try {
      const res = await configured.inject({ url: '/v1/inventory', headers: { 'x-api-key': KEY } });
      expect(res.json()).toEqual({ items: [], riskLevels: { medium: 40, high: 75 } });
    } finally {
      await configured.close();
    }
  });

  it('one entry carries its risk too', async () => {
    const res = await riskApp.inject({ url: '/v1/inventory/invoices', headers: { 'x-api-key': KEY } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: 'invoices', risk: { score: 25, level: 'low' } });
  });
});
