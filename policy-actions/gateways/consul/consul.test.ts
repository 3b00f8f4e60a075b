import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../pipeline/core/logger.js';
import { type Exchange, type Replay, startReplay } from '../contract-replay.js';
import { denyDecision } from '../test-http.js';
import type { ConsulConfig } from './config.js';
import type { ConsulDenyAdapter } from './consul-deny.js';
import { create, defaultConfig, type } from './factory.js';
import { serviceOfPrincipal } from './intentions.js';

const exchanges = (name: string): Exchange[] =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'testdata', name), 'utf8'));

let secrets: string;
let replay: Replay | undefined;
beforeAll(async () => {
  secrets = await mkdtemp(join(tmpdir(), 'mw-consul-'));
  await writeFile(join(secrets, 'token'), 'test-acl-token\n');
});
afterAll(() => rm(secrets, { recursive: true, force: true }));
afterEach(async () => {
  await replay?.close();
  replay = undefined;
});

async function adapterWith(file: string, extra: Partial<ConsulConfig> = {}): Promise<ConsulDenyAdapter> {
  replay = await startReplay(exchanges(file));
  return create(
    { ...defaultConfig, address: replay.url, token_file: join(secrets, 'token'), retry_base_ms: 1, ...extra },
    { logger: silentLogger },
  ) as ConsulDenyAdapter;
}

const CART = 'spiffe://7f3c.consul/ns/default/dc/dc1/svc/cart';

describe('gateways/consul against recorded Consul API exchanges', () => {
  it('factory: type id and a local agent by default', () => {
    expect(type).toBe('gateways/consul');
    expect(defaultConfig.address).toBe('http://127.0.0.1:8500');
  });

  it('service names from Consul and Istio SPIFFE ids; refuses others', () => {
    expect(serviceOfPrincipal(CART)).toBe('cart');
    expect(serviceOfPrincipal('spiffe://cluster.local/ns/shop/sa/cart')).toBe('cart');
    expect(serviceOfPrincipal('cart')).toBe('cart');
    expect(() => serviceOfPrincipal('spiffe://x/ns/a')).toThrow(/service name/);
  });

  it('creates an intentions entry with a deny source, is idempotent, and deletes the entry it created', async () => {
    const adapter = await adapterWith('fresh-deny.exchanges.json');
    expect(await adapter.check()).toEqual({ ok: true, detail: 'leader 10.0.0.5:8300' });
    const d = denyDecision('dec_c1', 'principal', CART, { service: 'billing' });
    expect((await adapter.apply(d)).ref).toBe('billing<-cart');
    expect((await adapter.apply(d)).detail).toMatch(/already denied/);
    expect((await adapter.revert(d)).detail).toMatch(/removed intentions entry/);
    expect((await adapter.revert(d)).detail).toMatch(/no meshward intention/);
    replay!.assertDone();
  });

  it("overrides an operator's allow and restores it on revert", async () => {
    const adapter = await adapterWith('override-restore.exchanges.json', { default_destination: 'billing' });
    const d = denyDecision('dec_c2', 'principal', CART);
    await adapter.apply(d);
    expect((await adapter.revert(d)).detail).toMatch(/restored/);
    replay!.assertDone();
  });

  it('puts an L7 deny for a route ahead of the operator permissions, reading again when the CAS loses', async () => {
    const adapter = await adapterWith('route-cas-retry.exchanges.json');
    const d = denyDecision('dec_c3', 'principal', CART, { service: 'billing', route: 'POST /invoices/{id}' });
    expect((await adapter.apply(d)).detail).toContain('POST /invoices/');
    replay!.assertDone();
  });

  it('gives up after cas_attempts lost races with a retryable error', async () => {
    const read: Exchange = {
      request: { method: 'GET', path: '/v1/config/service-intentions/billing' },
      response: { status: 404, body: 'not found' },
    };
    const lost: Exchange = {
      request: { method: 'PUT', path: '/v1/config?cas=0' },
      response: { status: 200, body: false },
    };
    replay = await startReplay([read, lost, read, lost]);
    const adapter = create(
      { ...defaultConfig, address: replay.url, cas_attempts: 2, retry_base_ms: 1 },
      { logger: silentLogger },
    );
    await expect(adapter.apply(denyDecision('d', 'principal', 'cart', { service: 'billing' }))).rejects.toMatchObject({
      code: 'MW_ERR_ADAPTER_FAILED',
      retryable: true,
    });
    replay.assertDone();
  });

  it('refuses decisions it cannot express, without calling Consul', async () => {
    const adapter = await adapterWith('fresh-deny.exchanges.json');
    expect(adapter.supports(denyDecision('d', 'ip', '10.0.0.1'))).toBe(false);
    await expect(adapter.apply(denyDecision('d', 'principal', CART))).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
    });
    await expect(
      adapter.apply(denyDecision('d', 'token', 'h1:0123456789abcdef0123456789abcdef')),
    ).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
    });
    expect(replay!.received).toHaveLength(0);
  });
});
