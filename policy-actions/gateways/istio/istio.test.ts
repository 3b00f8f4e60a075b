import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../pipeline/core/logger.js';
import { type Exchange, type Replay, startReplay } from '../contract-replay.js';
import { denyDecision } from '../test-http.js';
import { buildPolicy } from './authorization-policy.js';
import type { IstioConfig } from './config.js';
import { create, defaultConfig, type } from './factory.js';
import type { IstioDenyAdapter } from './istio-deny.js';
import { denyTarget } from '../deny-keys.js';

const testdata = (name: string) => join(import.meta.dirname, 'testdata', name);
const exchanges = (name: string): Exchange[] => JSON.parse(readFileSync(testdata(name), 'utf8'));
const schema = JSON.parse(readFileSync(testdata('authorization-policy.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(schema);

const UNTIL = Date.parse('2030-01-01T00:00:00.000Z');
let secrets: string;
let replay: Replay | undefined;

beforeAll(async () => {
  secrets = await mkdtemp(join(tmpdir(), 'mw-istio-'));
  await writeFile(join(secrets, 'token'), 'test-sa-token\n');
});
afterAll(() => rm(secrets, { recursive: true, force: true }));
afterEach(async () => {
  await replay?.close();
  replay = undefined;
});

function config(url: string): IstioConfig {
  return {
    ...defaultConfig,
    api_server: url,
    token_file: join(secrets, 'token'),
    ca_file: undefined,
    namespace: 'shop',
    selector: { app: 'checkout' },
    retries: 2,
    retry_base_ms: 1,
  };
}

async function adapterWith(file: string): Promise<IstioDenyAdapter> {
  replay = await startReplay(exchanges(file));
  return create(config(replay.url), { logger: silentLogger }) as IstioDenyAdapter;
}

describe('gateways/istio AuthorizationPolicy documents', () => {
  it('factory: type id and defaults for an in-cluster service account', () => {
    expect(type).toBe('gateways/istio');
    expect(defaultConfig.token_file).toContain('serviceaccount');
  });

  it.each([
    ['token', 'h1:0123456789abcdef0123456789abcdef', undefined],
    ['ip', '203.0.113.0/24', undefined],
    ['ip', '2001:db8::/32', 'POST /orders'],
    ['user', 'alice', 'GET /users/{id}'],
    ['principal', 'spiffe://cluster.local/ns/shop/sa/cart', undefined],
    ['route', 'DELETE /carts/:id/items', undefined],
    ['route', '/admin', undefined],
  ] as const)('a %s deny (%s, route %s) is a valid DENY policy', (scope, value, route) => {
    const d = denyDecision(`dec-${scope}-${value}`, scope, value, route ? { route } : {});
    const policy = buildPolicy(d, denyTarget(d), config('http://unused'));
    const ok = validate(policy);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(policy.spec.action).toBe('DENY');
  });

  it('the schema rejects what Istio would reject (it can fail)', () => {
    const d = denyDecision('dec-x', 'ip', '10.0.0.1');
    const policy = buildPolicy(d, denyTarget(d), config('http://unused')) as unknown as Record<string, unknown>;
    expect(validate({ ...policy, spec: { action: 'BLOCK', rules: [] } })).toBe(false);
    expect(
      validate({ ...policy, spec: { action: 'DENY', rules: [{ from: [{ source: { ips: ['1.2.3.4'] } }] }] } }),
    ).toBe(false);
    expect(
      validate({ ...policy, spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/a*b'] } }] }] } }),
    ).toBe(false);
  });
});

describe('gateways/istio against recorded Kubernetes API exchanges', () => {
  it('applies by server-side apply, idempotently, and deletes on revert (absent is fine)', async () => {
    const adapter = await adapterWith('token-apply-revert.exchanges.json');
    expect(await adapter.check()).toMatchObject({ ok: true });
    const d = denyDecision('dec_token_1', 'token', 'h1:0123456789abcdef0123456789abcdef', { until: UNTIL });
    const first = await adapter.apply(d);
    expect(first.ref).toBe('shop/meshward-deny-07fc49ebe55559f79b2d');
    await adapter.apply(d);
    expect((await adapter.revert(d)).detail).toMatch(/^deleted/);
    expect((await adapter.revert(d)).detail).toMatch(/already absent/);
    replay!.assertDone();
    // every recorded request body is itself a valid policy
    for (const r of replay!.received.filter((x) => x.method === 'PATCH')) expect(validate(r.body)).toBe(true);
  });

  it('maps IP blocks, user claims with a route, and SPIFFE principals', async () => {
    const adapter = await adapterWith('scopes.exchanges.json');
    await adapter.apply(denyDecision('dec_ip_1', 'ip', '203.0.113.0/24', { until: UNTIL }));
    await adapter.apply(denyDecision('dec_user_route_1', 'user', 'alice', { until: UNTIL, route: 'GET /users/{id}' }));
    await adapter.apply(
      denyDecision('dec_fresh', 'principal', 'spiffe://cluster.local/ns/shop/sa/cart', {
        until: UNTIL,
        route: '/admin',
      }),
    );
    replay!.assertDone();
  });

  it('sweepExpired deletes only the policies whose until has passed', async () => {
    const adapter = await adapterWith('sweep.exchanges.json');
    expect(await adapter.sweepExpired(Date.parse('2026-06-01T00:00:00Z'))).toEqual(['dec_old']);
    replay!.assertDone();
  });

  it('does not retry a refusal, retries a busy API server, and reports a missing CRD', async () => {
    const adapter = await adapterWith('errors.exchanges.json');
    const d = denyDecision('dec_ip_1', 'ip', '203.0.113.0/24', { until: UNTIL });
    await expect(adapter.apply(d)).rejects.toMatchObject({ code: 'MW_ERR_FORBIDDEN', retryable: false });
    expect((await adapter.apply(d)).ok).toBe(true);
    const checked = await adapter.check();
    expect(checked.ok).toBe(false);
    expect(checked.detail).toContain('not served');
    replay!.assertDone();
  });

  it('rejects a raw token and a scope Istio cannot match, without calling the API', async () => {
    const adapter = await adapterWith('scopes.exchanges.json');
    await expect(adapter.apply(denyDecision('d', 'token', 'Bearer abc'))).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
    });
    await expect(adapter.apply(denyDecision('d', 'session', 's1'))).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
    });
    expect(replay!.received).toHaveLength(0);
  });

  it('a missing token file is a configuration error', async () => {
    replay = await startReplay([]);
    const adapter = create({ ...config(replay.url), token_file: join(secrets, 'nope') }, { logger: silentLogger });
    await expect(adapter.apply(denyDecision('d', 'ip', '10.0.0.1'))).rejects.toMatchObject({
      code: 'MW_ERR_CONFIG_INVALID',
    });
  });
});
