import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../pipeline/core/logger.js';
import { type Exchange, type Replay, startReplay } from '../contract-replay.js';
import { denyDecision } from '../test-http.js';
import type { KongConfig } from './config.js';
import { create, defaultConfig, type } from './factory.js';
import type { KongDenyAdapter } from './kong-deny.js';

const exchanges = (name: string): Exchange[] =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'testdata', name), 'utf8'));

let secrets: string;
let replay: Replay | undefined;
beforeAll(async () => {
  secrets = await mkdtemp(join(tmpdir(), 'mw-kong-'));
  await writeFile(join(secrets, 'token'), 'test-admin-token\n');
});
afterAll(() => rm(secrets, { recursive: true, force: true }));
afterEach(async () => {
  await replay?.close();
  replay = undefined;
});

async function adapterWith(file: string, extra: Partial<KongConfig> = {}): Promise<KongDenyAdapter> {
  replay = await startReplay(exchanges(file));
  return create(
    { ...defaultConfig, admin_url: replay.url, token_file: join(secrets, 'token'), retry_base_ms: 1, ...extra },
    { logger: silentLogger },
  ) as KongDenyAdapter;
}

describe('gateways/kong against recorded Admin API exchanges', () => {
  it('factory: type id and the local admin port by default', () => {
    expect(type).toBe('gateways/kong');
    expect(defaultConfig.admin_url).toBe('http://127.0.0.1:8001');
  });

  it('denies and rate-limits a consumer; two decisions share one plugin until the last revert', async () => {
    const adapter = await adapterWith('consumer.exchanges.json');
    expect(await adapter.check()).toMatchObject({ ok: true });
    const k1 = denyDecision('dec_k1', 'user', 'mallory');
    const k2 = denyDecision('dec_k2', 'user', 'mallory');
    const created = await adapter.apply(k1);
    expect(created.ref).toBe('6f1c2b8e-3d4a-4e5f-9a0b-1c2d3e4f5a61');
    expect((await adapter.apply(k2)).detail).toMatch(/^added/);
    expect((await adapter.revert(k1)).detail).toMatch(/^removed/);
    expect((await adapter.revert(k2)).detail).toMatch(/^deleted/);
    const rate = await adapter.apply(denyDecision('dec_k3', 'user', 'mallory', { type: 'rate_limit' }));
    expect(rate.detail).toContain('rate-limiting');
    await expect(adapter.apply(denyDecision('dec_k4', 'user', 'ghost'))).rejects.toMatchObject({
      code: 'MW_ERR_NOT_FOUND',
    });
    await expect(adapter.apply(denyDecision('dec_k5', 'user', 'eve'))).rejects.toMatchObject({
      code: 'MW_ERR_CONFLICT',
      retryable: false,
    });
    replay!.assertDone();
  });

  it('keeps one ip-restriction deny list, removing an IP only when no decision needs it', async () => {
    const adapter = await adapterWith('ip.exchanges.json', { routes: { 'POST /login': 'login-route' } });
    const a = denyDecision('dec_ip1', 'ip', '198.51.100.7');
    const b = denyDecision('dec_ip2', 'ip', '198.51.100.7');
    const c = denyDecision('dec_ip3', 'ip', '203.0.113.9');
    for (const d of [a, b, c]) await adapter.apply(d);
    for (const d of [a, b, c]) await adapter.revert(d);
    const onRoute = await adapter.apply(denyDecision('dec_ip4', 'ip', '192.0.2.0/24', { route: 'POST /login' }));
    expect(onRoute.ref).toBe('1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e');
    replay!.assertDone();
  });

  it('refuses what Kong cannot express here, without calling it', async () => {
    const adapter = await adapterWith('ip.exchanges.json');
    expect(adapter.supports(denyDecision('d', 'token', 'h1:0123456789abcdef0123456789abcdef'))).toBe(false);
    expect(adapter.supports(denyDecision('d', 'ip', '10.0.0.1', { type: 'rate_limit' }))).toBe(false);
    await expect(adapter.apply(denyDecision('d', 'ip', '10.0.0.1', { route: 'GET /unmapped' }))).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
    });
    await expect(adapter.apply(denyDecision('d', 'user', 'bob', { route: 'GET /x' }))).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
    });
    expect(replay!.received).toHaveLength(0);
  });

  it('an unreachable admin API is a retryable failure and check() not ok', async () => {
    const adapter = create(
      { ...defaultConfig, admin_url: 'http://127.0.0.1:9', retries: 1, retry_base_ms: 1, timeout_ms: 500 },
      { logger: silentLogger },
    );
    expect((await adapter.check()).ok).toBe(false);
    await expect(adapter.apply(denyDecision('d', 'user', 'bob'))).rejects.toMatchObject({
      code: 'MW_ERR_ADAPTER_FAILED',
      retryable: true,
    });
  });
});
