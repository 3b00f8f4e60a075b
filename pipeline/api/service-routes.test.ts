import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/harness/pipeline-client.js';
import { TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../core/logger.js';
import type { ApiCallRecord } from '../core/record.js';
import { Correlator } from '../correlator/correlator.js';
import { endpointsKey, SERVICES_KEY, type SeriesSummary } from '../correlator/metrics-writer.js';
import { MemoryStore } from '../store/memory-store.js';
import { createApiServer } from './api-server.js';
import { ApiAuthenticator } from './auth.js';
import { serviceRoutes } from './service-routes.js';

const KEY = 'viewer-key-0123456789';
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const MIN = 60_000;

let seq = 0;
const call = (service: string, path: string, ts: number, status = 200): ApiCallRecord => ({
  v: 1,
  id: `r${String(seq++).padStart(6, '0')}`,
  ts,
  durationMs: 40,
  sensor: { kind: 'test', id: 't1' },
  service,
  method: 'GET',
  host: `${service}.svc`,
  path,
  route: path,
  status,
  reqBytes: 0,
  respBytes: 100,
  source: { ip: '10.0.0.1' },
});

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** a correlator over the in-process bus writing into the embedded store, and the analyst API over a real socket */
async function pipeline() {
  const bus = new MemoryBus({ partitions: 1 });
  const store = new MemoryStore();
  const correlator = new Correlator({ bus, store, logger: silentLogger, createDetectors: () => [] });
  await correlator.start();
  const app = await createApiServer({
    auth: new ApiAuthenticator([{ name: 'viewer-user', key: KEY, role: 'viewer' }]),
    logger: silentLogger,
    health: () => ({ bus: true }),
    plugins: [serviceRoutes(store)],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(
    () => bus.close(),
    () => correlator.close(),
    () => app.close(),
  );
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: { 'x-api-key': KEY } });
    expect(res.status, path).toBe(200);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const send = (records: ApiCallRecord[]) =>
    bus.publish(
      TOPICS.calls,
      records.map((r) => ({ key: r.service, value: JSON.stringify(r) })),
    );
  return { store, get, send };
}

describe('services and endpoints of the analyst API', () => {
  it('an endpoint or service with no call in its latest window has no latency and no error ratio, not 0', async () => {
    const { store, get, send } = await pipeline();
    const records: ApiCallRecord[] = [];
    // GET /orders is called every minute; GET /refunds (one failing call of two) and the batch service in minute 0 only
    for (let m = 0; m < 4; m++)
      for (let i = 0; i < 6; i++) records.push(call('orders', '/orders', T0 + m * MIN + i * 5_000));
    records.push(call('orders', '/refunds', T0 + 1_000), call('orders', '/refunds', T0 + 2_000, 503));
    records.push(call('batch', '/jobs', T0 + 3_000));
    await send(records.sort((a, b) => a.ts - b.ts));
    // the third minute's windows close once the fourth minute's calls pass the lateness
    await waitFor(
      'the idle windows written',
      async () => {
        const row = await store.hget(endpointsKey('orders'), 'GET /refunds');
        return row && (JSON.parse(row) as SeriesSummary).lastWindow === T0 + 2 * MIN ? true : undefined;
      },
      10_000,
      20,
    );

    const endpoints = (await get('/v1/services/orders/endpoints')).items as Record<string, unknown>[];
    const refunds = endpoints.find((e) => e.endpoint === 'GET /refunds');
    expect(refunds).toMatchObject({ count: 0, errors: 0, rate: 0, lastWindow: T0 + 2 * MIN });
    expect(refunds).toMatchObject({ errorRatio: null, p50: null, p95: null, p99: null });
    // a busy one keeps its figures
    expect(endpoints.find((e) => e.endpoint === 'GET /orders')).toMatchObject({ count: 6, errorRatio: 0, p95: 40 });

    const services = (await get('/v1/services')).items as Record<string, unknown>[];
    expect(services.find((s) => s.service === 'batch')).toMatchObject({
      count: 0,
      errorRatio: null,
      p50: null,
      p95: null,
      p99: null,
    });

    // the endpoint's series: the busy window's figures, then windows without data (a gap in a chart, not a drop to 0)
    const points = (await get(`/v1/services/orders/metrics?endpoint=${encodeURIComponent('GET /refunds')}`))
      .points as Record<string, unknown>[];
    expect(points.map((p) => [p.count, p.errorRatio, p.p95])).toEqual([
      [2, 0.5, 40],
      [0, null, null],
      [0, null, null],
    ]);
  });

  it('reads the rows and windows an earlier version stored with 0 latency for an idle window as having none', async () => {
    const { store, get } = await pipeline();
    const idle = { start: T0, count: 0, errors: 0, rate: 0, errorRatio: 0, p50: 0, p95: 0, p99: 0 };
    await store.hset(SERVICES_KEY, 'batch', JSON.stringify({ service: 'batch', ...idle, lastWindow: T0 }));
    await store.hset(
      endpointsKey('batch'),
      'GET /jobs',
      JSON.stringify({ service: 'batch', endpoint: 'GET /jobs', ...idle, lastWindow: T0 }),
    );
    await store.zadd('win:batch', T0, JSON.stringify(idle));
    const nothing = { count: 0, errorRatio: null, p50: null, p95: null, p99: null };
    expect((await get('/v1/services')).items).toEqual([{ service: 'batch', ...idle, ...nothing, lastWindow: T0 }]);
    expect((await get('/v1/services/batch/endpoints')).items).toEqual([
      { service: 'batch', endpoint: 'GET /jobs', ...idle, ...nothing, lastWindow: T0 },
    ]);
    expect((await get('/v1/services/batch/metrics')).points).toEqual([{ ...idle, ...nothing }]);
  });
});
