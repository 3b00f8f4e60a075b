import { readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../pipeline/core/logger.js';
import { type NginxInstance, startNginx } from '../../../test/harness/nginx.js';
import { repoRoot } from '../../../test/harness/paths.js';
import {
  denyDecision,
  jwtWithSub,
  startBackend,
  status,
  TEST_TOKEN_KEY,
  tokenHash,
  waitForStatus,
} from '../test-http.js';
import { create, defaultConfig, type } from './factory.js';
import type { NginxDenyAdapter } from './nginx-deny.js';

let backend: { server: Server; port: number };
let ngx: NginxInstance;

const deploy = (p: string) => join(repoRoot(), 'deploy/nginx', p);

const adapterFor = (n: NginxInstance, extra: object = {}): NginxDenyAdapter =>
  create(
    {
      ...defaultConfig,
      conf_file: n.confFile,
      prefix: `${n.dir}/`,
      map_dir: join(n.dir, 'meshward'),
      debounce_ms: 30,
      ...extra,
    },
    { logger: silentLogger },
  ) as NginxDenyAdapter;

beforeAll(async () => {
  backend = await startBackend();
  ngx = await startNginx({
    copy: {
      [deploy('meshward')]: 'meshward',
      [deploy('meshward-deny.conf')]: 'meshward-deny.conf',
      [deploy('meshward-deny-check.conf')]: 'meshward-deny-check.conf',
    },
    files: { 'extra.conf': '' },
    env: { MESHWARD_TOKEN_KEY_B64: Buffer.from(TEST_TOKEN_KEY).toString('base64') },
    http: ({ port }) => `
  include meshward-deny.conf;
  include extra.conf;
  server {
    listen 127.0.0.1:${port};
    include meshward-deny-check.conf;
    location / { proxy_pass http://127.0.0.1:${backend.port}; }
  }`,
  });
});

afterAll(async () => {
  await ngx?.stop();
  await new Promise((r) => backend?.server.close(r));
});

describe('gateways/nginx against a real nginx with njs', () => {
  it('factory: type id and a default config', () => {
    expect(type).toBe('gateways/nginx');
    expect(defaultConfig.debounce_ms).toBeGreaterThan(0);
  });

  it('denies a bearer token (hashed by njs) and a source IP after a graceful reload, and lifts both', async () => {
    const adapter = adapterFor(ngx);
    expect((await adapter.check()).ok).toBe(true);
    const reloadsBefore = adapter.reloads;
    expect(await status(ngx.port, { token: 'tok-bad' })).toBe(200);
    const tok = denyDecision('n-token', 'token', tokenHash('tok-bad'));
    const ip = denyDecision('n-ip', 'ip', '127.0.0.2');
    // both within the debounce window: one reload
    await Promise.all([adapter.apply(tok), adapter.apply(ip)]);
    expect(adapter.reloads - reloadsBefore).toBe(1);
    expect(await readFile(join(ngx.dir, 'meshward/deny-token.map'), 'utf8')).toContain(`"${tokenHash('tok-bad')}" 1;`);
    expect(await waitForStatus(ngx.port, 403, { token: 'tok-bad' })).toBe(403);
    expect(await status(ngx.port, { token: 'tok-good' })).toBe(200);
    expect(await waitForStatus(ngx.port, 403, { localAddress: '127.0.0.2' })).toBe(403);
    expect(await status(ngx.port, { localAddress: '127.0.0.1' })).toBe(200);
    // a graceful reload keeps the master
    expect(ngx.child.exitInfo()).toBeNull();
    expect((await readFile(ngx.pidFile, 'utf8')).trim()).toBe(String(ngx.pid));

    await Promise.all([adapter.revert(tok), adapter.revert(ip)]);
    expect(await waitForStatus(ngx.port, 200, { token: 'tok-bad' })).toBe(200);
    expect(await waitForStatus(ngx.port, 200, { localAddress: '127.0.0.2' })).toBe(200);
    expect((await adapter.revert(tok)).detail).toBe('nothing to revert');
  });

  it('denies a user on one route, a whole route, and a principal', async () => {
    const adapter = adapterFor(ngx);
    const alice = jwtWithSub('alice');
    const user = denyDecision('n-user', 'user', 'alice', { route: 'GET /users/{id}' });
    const route = denyDecision('n-route', 'route', 'POST /admin/{action}');
    const spiffe = 'spiffe://example.org/ns/shop/sa/cart';
    const prn = denyDecision('n-prn', 'principal', spiffe);
    await Promise.all([adapter.apply(user), adapter.apply(route), adapter.apply(prn)]);
    expect(await waitForStatus(ngx.port, 403, { token: alice, path: '/users/7' })).toBe(403);
    expect(await status(ngx.port, { token: alice, path: '/orders' })).toBe(200);
    expect(await status(ngx.port, { token: jwtWithSub('bob'), path: '/users/7' })).toBe(200);
    // the three applies may land in more than one batch and reload: wait for each to take effect
    expect(await waitForStatus(ngx.port, 403, { path: '/admin/reset', method: 'POST' })).toBe(403);
    expect(await status(ngx.port, { path: '/admin/reset' })).toBe(200);
    expect(await waitForStatus(ngx.port, 403, { headers: { 'x-meshward-principal': spiffe } })).toBe(403);
    expect(await status(ngx.port, { headers: { 'x-meshward-principal': 'spiffe://example.org/other' } })).toBe(200);
    await Promise.all([adapter.revert(user), adapter.revert(route), adapter.revert(prn)]);
    expect(await waitForStatus(ngx.port, 200, { token: alice, path: '/users/7' })).toBe(200);
  });

  it('puts the previous files back and rejects the batch when nginx -t fails', async () => {
    const adapter = adapterFor(ngx);
    const before = await readFile(join(ngx.dir, 'meshward/deny-ip.map'), 'utf8');
    await writeFile(join(ngx.dir, 'extra.conf'), 'this_is_not_a_directive on;\n');
    try {
      await expect(adapter.apply(denyDecision('n-bad', 'ip', '127.0.0.3'))).rejects.toMatchObject({
        code: 'MW_ERR_CONFIG_INVALID',
        retryable: false,
      });
      expect(await readFile(join(ngx.dir, 'meshward/deny-ip.map'), 'utf8')).toBe(before);
      expect(await status(ngx.port, { localAddress: '127.0.0.3' })).toBe(200);
      expect((await adapter.check()).ok).toBe(false);
    } finally {
      await writeFile(join(ngx.dir, 'extra.conf'), '');
    }
    // the failed decision left no trace in the index: applying it again works
    await adapter.apply(denyDecision('n-bad', 'ip', '127.0.0.3'));
    expect(await waitForStatus(ngx.port, 403, { localAddress: '127.0.0.3' })).toBe(403);
    expect(await adapter.sweepExpired(Date.now() + 3_600_000)).toEqual(['n-bad']);
    expect(await waitForStatus(ngx.port, 200, { localAddress: '127.0.0.3' })).toBe(200);
  });

  it('a new adapter instance resumes from the state file; check() rewrites lost map files', async () => {
    const first = adapterFor(ngx);
    const d = denyDecision('n-persist', 'token', tokenHash('tok-p'));
    await first.apply(d);
    await writeFile(join(ngx.dir, 'meshward/deny-token.map'), '');
    const second = adapterFor(ngx);
    const checked = await second.check();
    expect(checked.ok).toBe(true);
    expect(checked.detail).toContain('rewritten');
    expect(await waitForStatus(ngx.port, 403, { token: 'tok-p' })).toBe(403);
    await second.revert(d);
    expect(await waitForStatus(ngx.port, 200, { token: 'tok-p' })).toBe(200);
    expect((await second.check()).detail).toContain('in sync');
  });

  it('rejects values nginx cannot map, without touching the files', async () => {
    const adapter = adapterFor(ngx);
    await expect(adapter.apply(denyDecision('n-q', 'user', 'a"b'))).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
    });
    await expect(adapter.apply(denyDecision('n-t', 'token', 'raw-token'))).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
    });
    expect(adapter.reloads).toBe(0);
    expect(adapter.supports(denyDecision('n-s', 'session', 'x'))).toBe(false);
  });

  it('a user named like a map keyword is still only a key', async () => {
    const adapter = adapterFor(ngx);
    const d = denyDecision('n-default', 'user', 'default');
    await adapter.apply(d);
    expect(await waitForStatus(ngx.port, 403, { token: jwtWithSub('default') })).toBe(403);
    expect(await status(ngx.port, { token: jwtWithSub('carol') })).toBe(200);
    expect(await status(ngx.port)).toBe(200);
    await adapter.revert(d);
  });
});
