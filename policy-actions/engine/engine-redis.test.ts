import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../../pipeline/store/redis-store.js';
import { type RedisServer, startRedis } from '../../test/harness/redis.js';
import { createPolicyEngine, decisionIdOf } from './engine.js';
import { parsePolicy } from './policy.js';
import { makeAlert } from './testdata/alerts.js';
import { RecordingAdapter } from './testdata/recording-adapter.js';

const policy = parsePolicy(readFileSync(join(import.meta.dirname, 'testdata/policy.yaml'), 'utf8'));

describe('policy engine over a real Redis (distributed: two engine processes share one store)', () => {
  let redis: RedisServer;
  let stores: RedisStore[];
  beforeAll(async () => {
    redis = await startRedis();
    stores = [
      createRedisStore({ url: redis.url, keyPrefix: 'pa-test:' }),
      createRedisStore({ url: redis.url, keyPrefix: 'pa-test:' }),
    ];
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await redis.stop();
  });

  it('one alert delivered to both engines is enforced once; a decision made by one is approved through the other', async () => {
    const adapter = new RecordingAdapter('idp/test', ['revoke_token', 'step_up']);
    const [a, b] = stores.map((store) =>
      createPolicyEngine({ store, policy, adapters: { 'idp/test': adapter }, config: { expiry_interval_ms: 0 } }),
    );
    const alert = makeAlert({ id: `alert-redis-${Date.now()}` });
    const [ra, rb] = await Promise.all([a.handleAlert(alert), b.handleAlert(alert)]);
    expect(ra[0].id).toBe(rb[0].id);
    expect(adapter.applies()).toBe(1);

    const [pending] = await a.handleAlert(
      makeAlert({
        id: `alert-redis-risky-${Date.now()}`,
        kind: 'brute_force',
        subject: { type: 'user', value: 'zoe' },
      }),
    );
    expect(pending.state).toBe('pending_approval');
    expect((await b.list({ state: 'pending_approval' })).map((d) => d.id)).toContain(pending.id);
    const approved = await b.approve(pending.id, 'analyst-9');
    expect(approved.state).toBe('active');
    expect(adapter.applies()).toBe(2);
    expect((await a.get(pending.id))?.state).toBe('active');
    const audit = await a.audit.query({ decisionId: pending.id });
    expect(audit.entries.map((e) => e.action)).toEqual(['decision_created', 'approved', 'adapter_apply']);
    expect((await a.enforced()).map((d) => d.id).sort()).toEqual([ra[0].id, pending.id].sort());
    await a.close();
    await b.close();
  });

  it('a refreshed alert delivered to both engines after its deny expired renews it once', async () => {
    const gateway = new RecordingAdapter('gateways/test', ['deny']);
    // a day on: an actions-per-minute budget of its own
    let now = Date.now() + 86_400_000;
    const [a, b] = stores.map((store) =>
      createPolicyEngine({
        store,
        policy,
        adapters: { 'gateways/test': gateway },
        clock: () => now,
        config: { expiry_interval_ms: 0 },
      }),
    );
    const attack = makeAlert({
      id: `alert-redis-renew-${now}`,
      kind: 'enumeration',
      subject: { type: 'ip', value: '203.0.113.70' },
      labels: { category: 'payments' },
      lastSeen: now,
    });
    const [first] = await a.handleAlert(attack);
    now = (first.until ?? 0) + 1;
    await b.expireDue();
    expect((await a.get(first.id))?.state).toBe('expired');
    const refreshed = { ...attack, count: 2, lastSeen: now, updatedAt: now };
    const [[ra], [rb]] = await Promise.all([a.handleAlert(refreshed), b.handleAlert(refreshed)]);
    expect(ra.id).toBe(rb.id);
    expect(ra).toMatchObject({ id: decisionIdOf(attack.id, 'deny-enumerators', 1), renews: first.id });
    // and once more each, in turn: still the one renewal
    expect((await b.handleAlert(refreshed))[0].id).toBe(ra.id);
    expect((await a.handleAlert(refreshed))[0].id).toBe(ra.id);
    expect(gateway.calls.map((c) => [c.op, c.id])).toEqual([
      ['apply', first.id],
      ['revert', first.id],
      ['apply', ra.id],
    ]);
    const renewed = (await a.audit.query({ decisionId: first.id })).entries.filter((e) => e.action === 'renewed');
    expect(renewed).toHaveLength(1);
    await a.close();
    await b.close();
  });
});
