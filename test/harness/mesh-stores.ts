import { afterAll, beforeAll, describe } from 'vitest';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
import { createRedisStore } from '../../pipeline/store/redis-store.js';
import type { Store } from '../../pipeline/store/store.js';
import { type RedisServer, startRedis } from './redis.js';

/**
 * Declares the scenarios of what shards share through the store twice: on the in-memory store (one process) and on a
 * redis-server (correlators of several processes). `scenarios(name, open)` declares them; `open` gives each scenario
 * a store of its own (on Redis, a key prefix of its own on one server)
 */
export function onEachStore(scenarios: (name: string, open: () => Promise<Store>) => void): void {
  scenarios('in-memory store', async () => new MemoryStore());
  describe('with Redis', () => {
    let server: RedisServer;
    const stores: Store[] = [];
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      for (const s of stores) await s.close();
      await server?.stop();
    });
    let db = 0;
    scenarios('redis-server', async () => {
      const s = createRedisStore({ url: server.url, keyPrefix: `t${db++}:` });
      stores.push(s);
      return s;
    });
  });
}

/** an in-memory store whose every call fails while `down()` says so (a store outage) */
export function flakyStore(down: () => boolean): Store {
  return new Proxy(new MemoryStore(), {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) =>
        down() ? Promise.reject(new Error('store down')) : (v as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
}
