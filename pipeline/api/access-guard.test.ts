import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { AuthThrottle, storeAccessLog } from './access-guard.js';
import { accessLogRoutes } from './access-log-routes.js';
import { createApiServer } from './api-server.js';
import { ApiAuthenticator } from './auth.js';

const KEYS = { viewer: 'viewer-key-0123456789', responder: 'responder-key-0123456789', admin: 'admin-key-0123456789' };

describe('access guard: failed-login throttling and the access log', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function setup(maxAuthFailuresPerMinute = 5, trustProxy?: string, accessLogEntries = 1000) {
    const store = new MemoryStore();
    app = await createApiServer({
      trustProxy,
      auth: new ApiAuthenticator(
        Object.entries(KEYS).map(([role, key]) => ({ name: `${role}-user`, key, role: role as 'viewer' })),
      ),
      logger: silentLogger,
      health: () => ({}),
      audit: storeAccessLog(store, accessLogEntries),
      maxAuthFailuresPerMinute,
      plugins: [
        accessLogRoutes(store),
        (a) => {
          a.get('/v1/thing', { config: { role: 'viewer' } }, async () => ({ ok: true }));
          a.post('/v1/thing/:id/poke', { config: { role: 'responder' } }, async () => ({ poked: true }));
        },
      ],
    });
    return { app, store };
  }
  const req = (a: FastifyInstance, method: 'GET' | 'POST', url: string, key?: string, ip = '203.0.113.9') =>
    a.inject({ method, url, remoteAddress: ip, headers: key ? { 'x-api-key': key } : {} });

  it('answers 429 to an address after too many failed authentications, without affecting other addresses', async () => {
    const { app } = await setup(5);
    for (let i = 0; i < 5; i++)
      expect((await req(app, 'GET', '/v1/thing', `wrong-key-${i}-0123456789`)).statusCode).toBe(401);
    const throttled = await req(app, 'GET', '/v1/thing', KEYS.viewer);
    expect(throttled.statusCode).toBe(429);
    expect(throttled.json()).toMatchObject({ code: 'MW_ERR_RATE_LIMITED' });
    // when to come back: the oldest failure leaves the minute within it
    const wait = Number(throttled.headers['retry-after']);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    expect(throttled.json().message).toContain(`retry in ${wait} s`);
    expect((await req(app, 'GET', '/v1/thing', KEYS.viewer, '198.51.100.1')).statusCode).toBe(200);
    // a wrong role is not a guessing attempt: it does not count
    for (let i = 0; i < 10; i++)
      expect((await req(app, 'POST', '/v1/thing/1/poke', KEYS.viewer, '198.51.100.1')).statusCode).toBe(403);
    expect((await req(app, 'GET', '/v1/thing', KEYS.viewer, '198.51.100.1')).statusCode).toBe(200);
  });

  it('tells a throttled address when enough of its failures have left the minute', () => {
    let now = 100_000;
    const t = new AuthThrottle(3, 10, () => now);
    for (const at of [100_000, 110_000, 125_000, 130_000]) {
      now = at;
      t.fail('192.0.2.1');
    }
    now = 131_000;
    expect(t.blocked('192.0.2.1')).toBe(true);
    // four failures, three allowed: blocked until the second (110 s) is a minute old, 39 s from now
    expect(t.retryAfterSeconds('192.0.2.1')).toBe(39);
    now = 170_000;
    expect(t.blocked('192.0.2.1')).toBe(false);
    expect(t.retryAfterSeconds('192.0.2.9')).toBe(1);
  });

  it('behind an ingress (api.trust_proxy), throttles the client that failed, not every analyst behind the proxy', async () => {
    const ingress = '10.0.3.7';
    const via = (client: string, key: string, a: FastifyInstance) =>
      a.inject({
        method: 'GET',
        url: '/v1/thing',
        remoteAddress: ingress,
        headers: { 'x-api-key': key, 'x-forwarded-for': client },
      });
    const { app, store } = await setup(5, 'uniquelocal');
    for (let i = 0; i < 5; i++)
      expect((await via('198.51.100.66', `wrong-key-${i}-0123456789`, app)).statusCode).toBe(401);
    expect((await via('198.51.100.66', KEYS.viewer, app)).statusCode).toBe(429);
    // another analyst behind the same ingress still gets in
    expect((await via('192.0.2.10', KEYS.viewer, app)).statusCode).toBe(200);
    // a client that is not a proxy cannot pass for another by sending the header itself
    const spoof = await app.inject({
      method: 'GET',
      url: '/v1/thing',
      remoteAddress: '198.51.100.66',
      headers: { 'x-api-key': KEYS.viewer, 'x-forwarded-for': '192.0.2.10' },
    });
    expect(spoof.statusCode).toBe(429);
    // and the access log names the client, not the proxy
    const refused = (await store.readLog('access', undefined, 10)).map((e) => JSON.parse(e.entry).ip);
    expect(new Set(refused)).toEqual(new Set(['198.51.100.66']));
  });

  it('lets failures age out after a minute', () => {
    let now = 1_000_000;
    const t = new AuthThrottle(2, 100, () => now);
    t.fail('a');
    t.fail('a');
    expect(t.blocked('a')).toBe(true);
    now += 61_000;
    expect(t.blocked('a')).toBe(false);
  });

  it('records refusals and changes with who and what, readable by admins only, never the key or the query', async () => {
    const { app } = await setup(50);
    await req(app, 'GET', '/v1/thing?token=s3cr3t-in-query', 'not-a-valid-key-0123456789');
    await req(app, 'POST', '/v1/thing/7/poke', KEYS.viewer);
    expect((await req(app, 'POST', '/v1/thing/7/poke', KEYS.responder)).statusCode).toBe(200);
    await req(app, 'GET', '/v1/thing', KEYS.viewer);
    expect((await req(app, 'GET', '/v1/access-log', KEYS.responder)).statusCode).toBe(403);
    const res = await req(app, 'GET', '/v1/access-log', KEYS.admin);
    expect(res.statusCode).toBe(200);
    const items = (res.json() as { items: Record<string, unknown>[] }).items;
    expect(items.map((i) => [i.method, i.route, i.outcome, i.status, i.principal ?? null])).toEqual([
      ['GET', '/v1/thing', 'refused', 401, null],
      ['POST', '/v1/thing/:id/poke', 'refused', 403, 'viewer-user'],
      ['POST', '/v1/thing/:id/poke', 'ok', 200, 'responder-user'],
      ['GET', '/v1/access-log', 'refused', 403, 'responder-user'],
    ]);
    expect(res.body).not.toContain('s3cr3t');
    expect(res.body).not.toContain('not-a-valid-key');
    const next = (res.json() as { next: string }).next;
    expect(
      ((await req(app, 'GET', `/v1/access-log?after=${next}`, KEYS.admin)).json() as { items: unknown[] }).items,
    ).toEqual([]);
  });

  it("keeps about the newest access_log_entries events, so refusals at an attacker's rate cannot fill the store", async () => {
    const { app, store } = await setup(5, undefined, 100);
    for (let i = 0; i < 300; i++) await req(app, 'GET', '/v1/thing', `wrong-key-${i}-0123456789`, `192.0.2.${i % 250}`);
    await req(app, 'POST', '/v1/thing/9/poke', KEYS.responder, '198.51.100.7');
    const kept = (await store.readLog('access', undefined, 1000)).map((e) => JSON.parse(e.entry));
    expect(kept.length).toBeGreaterThanOrEqual(100);
    expect(kept.length).toBeLessThanOrEqual(110);
    expect(kept.at(-1)).toMatchObject({ route: '/v1/thing/:id/poke', outcome: 'ok', principal: 'responder-user' });
  });
});
