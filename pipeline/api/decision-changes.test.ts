import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum } from '../../test/harness/metrics.js';
import { type RedisServer, startRedis } from '../../test/harness/redis.js';
import type { Decision } from '../core/decision.js';
import { MemoryStore } from '../store/memory-store.js';
import { createRedisStore } from '../store/redis-store.js';
import type { Store } from '../store/store.js';
import { announceDecisionChanges, followDecisionChanges } from './decision-changes.js';

/** what the policy engine's subscribe gives its listeners, driven by the test */
function engineLike() {
  const listeners = new Set<(c: { decision: Decision }) => void>();
  return {
    subscribe(l: (c: { decision: Decision }) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    decide: (decision: Decision) => {
      for (const l of listeners) l({ decision });
    },
    listening: () => listeners.size,
  };
}

const decision = (id: string, value = '198.51.100.7', o: Record<string, unknown> = {}) =>
  ({ id, value, scope: 'ip', type: 'deny', state: 'active', updatedAt: 1, ...o }) as unknown as Decision;

/** the decisions a follower on `store` receives, as they come */
async function received(store: Store) {
  const follower = await followDecisionChanges(store);
  const got: string[] = [];
  follower.subscribe(({ decision: d }) => got.push(d.id));
  return { follower, got };
}

describe('decision changes announced on the store for every API process', () => {
  it('reach a follower on the same store; an announcement that is not a decision is counted and dropped', async () => {
    const store = new MemoryStore();
    const engine = engineLike();
    const stop = announceDecisionChanges(engine, store);
    const { follower, got } = await received(store);
    engine.decide(decision('dec_1'));
    await expect.poll(() => got).toEqual(['dec_1']);
    const bad = await metricSum('meshward_decision_announcements_invalid_total');
    await store.publish('decisions:changes', 'not json');
    await store.publish('decisions:changes', JSON.stringify({ id: 7 }));
    engine.decide(decision('dec_2'));
    await expect.poll(() => got).toEqual(['dec_1', 'dec_2']);
    expect((await metricSum('meshward_decision_announcements_invalid_total')) - bad).toBe(2);
    // stopped: the engine's listener is gone; closed: the follower hears nothing more
    stop();
    expect(engine.listening()).toBe(0);
    await follower.close();
    await store.publish('decisions:changes', JSON.stringify(decision('dec_3')));
    expect(got).toEqual(['dec_1', 'dec_2']);
  });

  describe('over Redis, between processes', () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('a change whose announcement was lost reaches the follower from the changes log, once, never after a later one', async () => {
      const store = createRedisStore({ url: server.url, keyPrefix: 'lost:' });
      // the announcing process's pub/sub loses everything (a follower reconnecting, a publish that failed)
      const lossy = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'publish') return async () => {};
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const engine = engineLike();
      announceDecisionChanges(engine, lossy);
      const follower = await followDecisionChanges(store, { catchUpMs: 30 });
      const got: string[] = [];
      follower.subscribe(({ decision: d }) => got.push(`${d.id} ${d.state}`));
      const caught = await metricSum('meshward_decision_changes_caught_up_total');
      engine.decide(decision('dec_lost'));
      await expect.poll(() => got).toEqual(['dec_lost active']);
      expect((await metricSum('meshward_decision_changes_caught_up_total')) - caught).toBe(1);
      // a later change told live, then the log holds an earlier one and that same one: neither is told again
      await store.publish(
        'decisions:changes',
        JSON.stringify(decision('dec_x', 'v', { state: 'active', updatedAt: 2 })),
      );
      await expect.poll(() => got).toEqual(['dec_lost active', 'dec_x active']);
      await store.append(
        'decisions:changes:log',
        JSON.stringify(decision('dec_x', 'v', { state: 'pending_approval' })),
      );
      await store.append(
        'decisions:changes:log',
        JSON.stringify(decision('dec_x', 'v', { state: 'active', updatedAt: 2 })),
      );
      await new Promise((r) => setTimeout(r, 150));
      expect(got).toEqual(['dec_lost active', 'dec_x active']);
      await follower.close();
      await store.close();
    });

    it("the actions role's engine announces, each API replica's follower hears it", async () => {
      const actions = createRedisStore({ url: server.url });
      const api1 = createRedisStore({ url: server.url });
      const api2 = createRedisStore({ url: server.url });
      try {
        const engine = engineLike();
        announceDecisionChanges(engine, actions);
        const one = await received(api1);
        const two = await received(api2);
        engine.decide(decision('dec_r1'));
        await expect.poll(() => [one.got, two.got]).toEqual([['dec_r1'], ['dec_r1']]);
        await one.follower.close();
        await two.follower.close();
      } finally {
        await Promise.all([actions.close(), api1.close(), api2.close()]);
      }
    });
  });
});
