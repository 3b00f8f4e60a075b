import { readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MeshwardError } from '../../../pipeline/core/errors.js';
import { silentLogger } from '../../../pipeline/core/logger.js';
import { registry } from '../../../pipeline/core/metrics.js';
import { type HaproxyInstance, startHaproxy } from '../../../test/harness/haproxy.js';
import { denyDecision, jwtWithSub, startBackend, status, TEST_TOKEN_KEY, tokenHash } from '../test-http.js';
import { defaultConfig, create, type } from './factory.js';
import type { HaproxyDenyAdapter } from './haproxy-deny.js';
import { parseShowMap, runtimeCommand } from './runtime-api.js';

let backend: { server: Server; port: number };
let hap: HaproxyInstance;

const adapterFor = (h: HaproxyInstance, extra: object = {}): HaproxyDenyAdapter =>
  create(
    { ...defaultConfig, socket: h.adminSocket, map_dir: h.mapDir, retries: 0, ...extra },
    {
      logger: silentLogger,
    },
  ) as HaproxyDenyAdapter;

const showMap = async (h: HaproxyInstance, name: string) =>
  parseShowMap(await runtimeCommand({ target: h.adminSocket, timeoutMs: 2000 }, `show map ${h.mapDir}/${name}`));

beforeAll(async () => {
  backend = await startBackend();
  hap = await startHaproxy({ backend: `127.0.0.1:${backend.port}`, tokenKey: TEST_TOKEN_KEY });
});

afterAll(async () => {
  await hap?.stop();
  await new Promise((r) => backend?.server.close(r));
});

describe('gateways/haproxy against a real HAProxy', () => {
  let adapter: HaproxyDenyAdapter;
  afterEach(async () => {
    // leave the maps empty for the next case
    await runtimeCommand({ target: hap.adminSocket, timeoutMs: 2000 }, `clear map ${hap.mapDir}/deny-ip.map`);
    await runtimeCommand({ target: hap.adminSocket, timeoutMs: 2000 }, `clear map ${hap.mapDir}/deny-key.map`);
    await runtimeCommand({ target: hap.adminSocket, timeoutMs: 2000 }, `clear map ${hap.mapDir}/deny-route.map`);
    for (const f of ['deny-ip.map', 'deny-key.map', 'deny-route.map', 'meshward-deny.json']) {
      await writeFile(join(hap.mapDir, f), f.endsWith('.json') ? '{"v":1,"decisions":[]}' : '');
    }
  });

  it('factory: type id and a default config', () => {
    expect(type).toBe('gateways/haproxy');
    expect(defaultConfig.socket).toMatch(/admin\.sock$/);
  });

  it('denies a bearer token by its keyed hash without a reload, and lifts it on revert', async () => {
    adapter = adapterFor(hap);
    expect((await adapter.check()).ok).toBe(true);
    expect(await status(hap.port, { token: 'tok-bad' })).toBe(200);
    const d = denyDecision('d-token', 'token', tokenHash('tok-bad'));
    expect(adapter.supports(d)).toBe(true);
    const res = await adapter.apply(d);
    expect(res.ok).toBe(true);
    expect(res.ref).toContain(`t|${tokenHash('tok-bad')}`);
    expect(await status(hap.port, { token: 'tok-bad' })).toBe(403);
    expect(await status(hap.port, { token: 'tok-good' })).toBe(200);
    expect(await status(hap.port)).toBe(200);
    // no reload: the same HAProxy process answers, and the entry is visible in the Runtime API and on disk
    expect(hap.child.exitInfo()).toBeNull();
    const info = await runtimeCommand({ target: hap.adminSocket, timeoutMs: 2000 }, 'show info');
    expect(info).toContain(`Pid: ${hap.pid}`);
    expect((await showMap(hap, 'deny-key.map')).map((e) => e.key)).toEqual([`t|${tokenHash('tok-bad')}`]);
    expect(await readFile(join(hap.mapDir, 'deny-key.map'), 'utf8')).toContain(`t|${tokenHash('tok-bad')} d-token`);

    await adapter.revert(d);
    expect(await status(hap.port, { token: 'tok-bad' })).toBe(200);
    expect(await showMap(hap, 'deny-key.map')).toEqual([]);
    expect(await readFile(join(hap.mapDir, 'deny-key.map'), 'utf8')).not.toContain('t|');
  });

  it('denies a source IP (request from 127.0.0.2) and not others', async () => {
    adapter = adapterFor(hap);
    const d = denyDecision('d-ip', 'ip', '127.0.0.2');
    await adapter.apply(d);
    expect(await status(hap.port, { localAddress: '127.0.0.2' })).toBe(403);
    expect(await status(hap.port, { localAddress: '127.0.0.1' })).toBe(200);
    await adapter.revert(d);
    expect(await status(hap.port, { localAddress: '127.0.0.2' })).toBe(200);
    // a CIDR block
    const block = denyDecision('d-cidr', 'ip', '127.0.0.0/30');
    await adapter.apply(block);
    expect(await status(hap.port, { localAddress: '127.0.0.3' })).toBe(403);
    expect(await status(hap.port, { localAddress: '127.0.0.4' })).toBe(200);
    await adapter.revert(block);
  });

  it('denies a user (JWT sub) on one route only, and a whole route for everyone', async () => {
    adapter = adapterFor(hap);
    const alice = jwtWithSub('alice');
    const d = denyDecision('d-user', 'user', 'alice', { route: 'GET /users/{id}' });
    await adapter.apply(d);
    expect(await status(hap.port, { token: alice, path: '/users/42' })).toBe(403);
    expect(await status(hap.port, { token: alice, path: '/health' })).toBe(200);
    expect(await status(hap.port, { token: alice, path: '/users/42', method: 'DELETE' })).toBe(200);
    expect(await status(hap.port, { token: jwtWithSub('bob'), path: '/users/42' })).toBe(200);

    const route = denyDecision('d-route', 'route', 'POST /admin/{action}');
    await adapter.apply(route);
    expect(await status(hap.port, { path: '/admin/reset', method: 'POST' })).toBe(403);
    expect(await status(hap.port, { path: '/admin/reset', method: 'GET' })).toBe(200);
    await adapter.revert(d);
    await adapter.revert(route);
    expect(await status(hap.port, { token: alice, path: '/users/42' })).toBe(200);
    expect(await status(hap.port, { path: '/admin/reset', method: 'POST' })).toBe(200);
  });

  it('denies a principal from the trusted header, on every method of a route when no method is given', async () => {
    adapter = adapterFor(hap);
    const spiffe = 'spiffe://example.org/ns/shop/sa/cart';
    await adapter.apply(denyDecision('d-prn', 'principal', spiffe, { route: '/orders' }));
    const headers = { 'x-meshward-principal': spiffe };
    expect(await status(hap.port, { headers, path: '/orders', method: 'PUT' })).toBe(403);
    expect(await status(hap.port, { headers, path: '/orders' })).toBe(403);
    expect(await status(hap.port, { headers, path: '/carts' })).toBe(200);
    expect(await status(hap.port, { headers: { 'x-meshward-principal': 'spiffe://x/y' }, path: '/orders' })).toBe(200);
  });

  it('is idempotent and keeps an entry until the last decision holding it is reverted', async () => {
    adapter = adapterFor(hap);
    const a = denyDecision('d-a', 'ip', '127.0.0.2');
    const b = denyDecision('d-b', 'ip', '127.0.0.2');
    await adapter.apply(a);
    await adapter.apply(a);
    await adapter.apply(b);
    expect(await showMap(hap, 'deny-ip.map')).toHaveLength(1);
    await adapter.revert(a);
    await adapter.revert(a);
    expect(await status(hap.port, { localAddress: '127.0.0.2' })).toBe(403);
    await adapter.revert(b);
    expect(await status(hap.port, { localAddress: '127.0.0.2' })).toBe(200);
    expect((await adapter.revert(denyDecision('d-never', 'ip', '127.0.0.9'))).ok).toBe(true);
  });

  it('sweepExpired removes entries whose until has passed, and only those', async () => {
    adapter = adapterFor(hap);
    const now = Date.now();
    await adapter.apply(denyDecision('d-short', 'token', tokenHash('t-short'), { until: now + 1000 }));
    await adapter.apply(denyDecision('d-long', 'token', tokenHash('t-long'), { until: now + 600_000 }));
    expect(await adapter.sweepExpired(now + 500)).toEqual([]);
    expect(await adapter.sweepExpired(now + 2000)).toEqual(['d-short']);
    expect(await status(hap.port, { token: 't-short' })).toBe(200);
    expect(await status(hap.port, { token: 't-long' })).toBe(403);
    const state = JSON.parse(await readFile(join(hap.mapDir, 'meshward-deny.json'), 'utf8'));
    expect(state.decisions.map((d: { id: string }) => d.id)).toEqual(['d-long']);
  });

  it('check() pushes the desired entries again after HAProxy lost them', async () => {
    adapter = adapterFor(hap);
    await adapter.apply(denyDecision('d-lost', 'ip', '127.0.0.2'));
    await runtimeCommand({ target: hap.adminSocket, timeoutMs: 2000 }, `clear map ${hap.mapDir}/deny-ip.map`);
    expect(await status(hap.port, { localAddress: '127.0.0.2' })).toBe(200);
    const checked = await adapter.check();
    expect(checked).toMatchObject({ ok: true });
    expect(checked.detail).toContain('ip');
    expect(await status(hap.port, { localAddress: '127.0.0.2' })).toBe(403);
    expect((await adapter.check()).detail).toContain('in sync');
  });

  it('rejects values a gateway cannot key on, and counts them', async () => {
    adapter = adapterFor(hap);
    const before = (await registry.getSingleMetricAsString('meshward_gateway_actions_total')).match(
      /gateway="haproxy",op="apply",outcome="rejected"} (\d+)/,
    );
    const raw = denyDecision('d-raw', 'token', 'eyJraw-token-not-a-hash');
    await expect(adapter.apply(raw)).rejects.toMatchObject({ code: 'MW_ERR_BAD_REQUEST', retryable: false });
    await expect(adapter.apply(denyDecision('d-sp', 'user', 'a b'))).rejects.toBeInstanceOf(MeshwardError);
    await expect(adapter.apply(denyDecision('d-ip2', 'ip', '300.1.1.1'))).rejects.toBeInstanceOf(MeshwardError);
    const after = (await registry.getSingleMetricAsString('meshward_gateway_actions_total')).match(
      /gateway="haproxy",op="apply",outcome="rejected"} (\d+)/,
    );
    expect(Number(after?.[1])).toBe(Number(before?.[1] ?? 0) + 3);
    expect(adapter.supports({ ...raw, type: 'revoke_token' })).toBe(false);
    expect(adapter.supports({ ...raw, scope: 'session' })).toBe(false);
    expect(await showMap(hap, 'deny-key.map')).toEqual([]);
  });
});

describe('gateways/haproxy across restarts and transports', () => {
  it('a restarted HAProxy loads the persisted maps; a new adapter instance still knows the decision', async () => {
    const first = await startHaproxy({ backend: `127.0.0.1:${backend.port}`, tokenKey: TEST_TOKEN_KEY });
    const d = denyDecision('d-persist', 'token', tokenHash('tok-persist'));
    await adapterFor(first).apply(d);
    await first.stop({ keepDir: true });
    const second = await startHaproxy({
      backend: `127.0.0.1:${backend.port}`,
      tokenKey: TEST_TOKEN_KEY,
      dir: first.dir,
      adminTcp: true,
    });
    try {
      expect(second.pid).not.toBe(first.pid);
      expect(await status(second.port, { token: 'tok-persist' })).toBe(403);
      const again = adapterFor(second); // over TCP this time
      expect((await again.check()).detail).toContain('in sync');
      await again.revert(d);
      expect(await status(second.port, { token: 'tok-persist' })).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('reports an unreachable Runtime API as a retryable failure and check() not ok', async () => {
    const adapter = adapterFor(hap, { socket: join(hap.dir, 'missing.sock'), map_dir: join(hap.dir, 'other') });
    expect((await adapter.check()).ok).toBe(false);
    await expect(adapter.apply(denyDecision('d-x', 'ip', '10.0.0.1'))).rejects.toMatchObject({
      code: 'MW_ERR_ADAPTER_FAILED',
      retryable: true,
    });
    const wrongDir = adapterFor(hap, { map_dir: join(hap.dir, 'other') });
    const checked = await wrongDir.check();
    expect(checked.ok).toBe(false);
    expect(checked.detail).toContain('has no map');
  });

  it('simulated decisions change nothing at the gateway', async () => {
    const adapter = adapterFor(hap);
    const res = await adapter.apply(denyDecision('d-sim', 'ip', '127.0.0.2', { simulated: true }));
    expect(res.detail).toMatch(/^simulated/);
    expect(await status(hap.port, { localAddress: '127.0.0.2' })).toBe(200);
  });
});
