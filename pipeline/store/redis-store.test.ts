import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmgetContract } from '../../test/harness/hmget-contract.js';
import { shareContract } from '../../test/harness/share-contract.js';
import { lexIndexContract, lexIndexDelContract } from '../../test/harness/lex-index-contract.js';
import { type RedisServer, startRedis } from '../../test/harness/redis.js';
import { MeshwardError } from '../core/errors.js';
import { type RedisStore, createRedisStore } from './redis-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof MeshwardError ? e.code : `not a MeshwardError: ${String(e)}`),
  );

describe('RedisStore against redis-server', () => {
  let server: RedisServer;
  let store: RedisStore;
  /** a second, raw client to look at what the store wrote */
  let raw: Redis;

  beforeAll(async () => {
    server = await startRedis();
    store = createRedisStore({ url: server.url, keyPrefix: 'mw:', reconnectStepMs: 20, maxReconnectDelayMs: 100 });
    raw = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    raw.on('error', () => {}); // the outage test takes Redis down under it
    await raw.connect();
  });

  afterAll(async () => {
    await store?.close();
    raw?.disconnect();
    await server?.stop();
  });

  it('works right after creation and reports healthy', async () => {
    const fresh = createRedisStore({ url: server.url });
    try {
      expect(await fresh.get('nothing-here')).toBeNull();
      expect(fresh.healthy()).toBe(true);
      expect(fresh.kind).toBe('redis');
    } finally {
      await fresh.close();
      await fresh.close();
    }
    expect(fresh.healthy()).toBe(false);
    expect(await codeOf(fresh.get('x'))).toBe('MW_ERR_STORE_UNAVAILABLE');
  });

  it('get / set / mget / del, under the key prefix', async () => {
    await store.set('a', '1');
    await store.set('b', '{"x":2}');
    expect(await store.get('a')).toBe('1');
    expect(await raw.get('mw:a')).toBe('1');
    expect(await raw.get('a')).toBeNull();
    expect(await store.mget(['a', 'missing', 'b'])).toEqual(['1', null, '{"x":2}']);
    expect(await store.mget([])).toEqual([]);
    await store.del('a');
    expect(await store.get('a')).toBeNull();
    await store.del('a');
  });

  it('expires keys set with a TTL', async () => {
    await store.set('ttl', 'v', 150);
    const pttl = await raw.pttl('mw:ttl');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(150);
    expect(await store.get('ttl')).toBe('v');
    await until('ttl key gone', async () => (await store.get('ttl')) === null, 3_000);
    await store.set('no-ttl', 'v');
    expect(await raw.pttl('mw:no-ttl')).toBe(-1);
  });

  it('setIfAbsent sets once, keeps the first value, and honours its TTL', async () => {
    expect(await store.setIfAbsent('guard', 'first')).toBe(true);
    expect(await store.setIfAbsent('guard', 'second')).toBe(false);
    expect(await store.get('guard')).toBe('first');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.setIfAbsent('race', `w${i}`)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.setIfAbsent('short', 'x', 100)).toBe(true);
    await until('short guard expired', async () => (await store.get('short')) === null, 3_000);
    expect(await store.setIfAbsent('short', 'y', 100)).toBe(true);
  });

  it('incr creates at 0, adds atomically, and sets the TTL only on creation', async () => {
    expect(await store.incr('n')).toBe(1);
    expect(await store.incr('n', 5)).toBe(6);
    expect(await store.incr('n', -2)).toBe(4);
    expect(await store.incr('f', 0.5)).toBe(0.5);
    expect(await store.incr('f', 0.25)).toBe(0.75);
    const all = await Promise.all(Array.from({ length: 50 }, () => store.incr('c')));
    expect(new Set(all).size).toBe(50);
    expect(Math.max(...all)).toBe(50);

    expect(await store.incr('win', 1, 10_000)).toBe(1);
    const first = await raw.pttl('mw:win');
    expect(first).toBeGreaterThan(9_000);
    await raw.pexpire('mw:win', 60_000);
    await store.incr('win', 1, 10_000);
    // not reset by the second incr
    expect(await raw.pttl('mw:win')).toBeGreaterThan(50_000);
    expect(await raw.pttl('mw:n')).toBe(-1);
    await expect(store.incr('n', Number.NaN)).rejects.toThrow(/finite/);
  });

  it('hash operations', async () => {
    await store.hset('h', 'f1', 'v1');
    await store.hset('h', 'f2', 'v2');
    await store.hset('h', 'f1', 'v1b');
    expect(await store.hget('h', 'f1')).toBe('v1b');
    expect(await store.hget('h', 'none')).toBeNull();
    expect(await store.hgetall('h')).toEqual({ f1: 'v1b', f2: 'v2' });
    await store.hdel('h', 'f1');
    expect(await store.hgetall('h')).toEqual({ f2: 'v2' });
    expect(await store.hgetall('no-such-hash')).toEqual({});
    // a counter field: from 0, atomic, under the prefix
    expect(await Promise.all([store.hincr('h', 'n'), store.hincr('h', 'n', 4)])).toEqual([1, 5]);
    expect(await raw.hget('mw:h', 'n')).toBe('5');
    await expect(store.hincr('h', 'n', 0.5)).rejects.toThrow(/integer/);
  });

  it('hmget reads several fields of a hash in one call, under the prefix', async () => {
    await hmgetContract(store, 'hm');
  });

  it('keeps the shares of a count several processes write, in one key that expires', async () => {
    await shareContract(store, 'shares');
    const ttl = await raw.pttl('mw:shares');
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await raw.hget('mw:hm', 'b')).toBe('{"x":2}');
    await store.set('plain-hm', 'x');
    expect(await codeOf(store.hmget('plain-hm', ['f']))).toBe('MW_ERR_INTERNAL');
  });

  it('hsetMax raises a hash field atomically, never lowers it, and overwrites a value that is not a number', async () => {
    expect(await store.hsetMax('seen', 'a', 1_764_647_884_000)).toBe(true);
    expect(await store.hsetMax('seen', 'a', 1_764_647_883_999)).toBe(false);
    expect(await store.hsetMax('seen', 'a', 1_764_647_884_000)).toBe(false);
    // written as given, under the prefix (not as Lua would print the number)
    expect(await raw.hget('mw:seen', 'a')).toBe('1764647884000');
    // many writers at once, in any order: the largest stays
    const values = Array.from({ length: 50 }, (_, i) => ((i * 37) % 50) + 1.5);
    expect((await Promise.all(values.map((v) => store.hsetMax('seen', 'b', v)))).some(Boolean)).toBe(true);
    expect(await store.hget('seen', 'b')).toBe('50.5');
    expect(await store.hsetMax('seen', 'b', 1e21)).toBe(true);
    expect(await store.hsetMax('seen', 'b', 2e20)).toBe(false);
    for (const junk of ['', 'soon', 'inf', 'nan', '1e999']) {
      await raw.hset('mw:seen', 'c', junk);
      expect(await store.hsetMax('seen', 'c', -5)).toBe(true);
      expect(await raw.hget('mw:seen', 'c')).toBe('-5');
    }
    await expect(store.hsetMax('seen', 'a', Number.NaN)).rejects.toThrow(/finite/);
    expect(await store.hget('seen', 'a')).toBe('1764647884000');
  });

  it('sorted set: score ranges ascending and descending, limits, removal', async () => {
    for (const [m, s] of [
      ['a', 10],
      ['b', 20],
      ['c', 30],
      ['d', 40],
      ['e', 50],
    ] as const) {
      await store.zadd('z', s, m);
    }
    expect(await store.zrange('z', 20, 40)).toEqual(['b', 'c', 'd']);
    expect(await store.zrange('z', 20, 40, { rev: true })).toEqual(['d', 'c', 'b']);
    expect(await store.zrange('z', 0, 100, { limit: 2 })).toEqual(['a', 'b']);
    expect(await store.zrange('z', 0, 100, { rev: true, limit: 2 })).toEqual(['e', 'd']);
    expect(await store.zrange('z', Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)).toHaveLength(5);
    expect(await store.zrange('z', 0, 100, { limit: 0 })).toEqual([]);
    await store.zadd('z', 5, 'c'); // re-score
    expect(await store.zrange('z', 0, 15)).toEqual(['c', 'a']);
    await store.zrem('z', 'c');
    expect(await store.zrange('z', 0, 100)).toEqual(['a', 'b', 'd', 'e']);
  });

  it('lex index: one entry per id, read from the highest down in byte order, under the prefix', async () => {
    await lexIndexContract(store, 'queue');
    expect(await raw.zrange('mw:queue', '0', '-1')).toEqual(['a0a', 'a9b', 'b1c']);
    expect(await raw.hgetall('mw:queue:ids')).toEqual({ a: 'a0a', b: 'a9b', c: 'b1c' });
    await expect(store.lexIndexSet('queue', 'e', '')).rejects.toMatchObject({ code: 'MW_ERR_BAD_REQUEST' });
  });

  it("del takes a lex index whole, its ids too, and only a lex index's ids", async () => {
    await lexIndexDelContract(store, 'q-del', async () => {
      expect(await raw.keys('mw:q-del*')).toEqual([]);
    });
    // a time index and a key of another kind named as a lex index's ids: the del of the one leaves the other
    await store.zadd('by-time', 1, 'x');
    await store.set('by-time:ids', 'mine');
    await store.del('by-time');
    expect(await raw.keys('mw:by-time*')).toEqual(['mw:by-time:ids']);
  });

  it('append-only log: ordered ids, paging with afterId and count', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await store.append('audit', JSON.stringify({ i })));
    expect(new Set(ids).size).toBe(7);
    const all = await store.readLog('audit');
    expect(all.map((e) => e.id)).toEqual(ids);
    expect(all.map((e) => JSON.parse(e.entry).i)).toEqual([0, 1, 2, 3, 4, 5, 6]);

    const pages: number[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.readLog('audit', after, 3);
      if (page.length === 0) break;
      pages.push(page.map((e) => JSON.parse(e.entry).i));
      after = page[page.length - 1].id;
    }
    expect(pages).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(await store.readLog('audit', ids[6])).toEqual([]);
    expect(await store.readLog('no-such-log')).toEqual([]);
    expect(await codeOf(store.readLog('audit', 'not-an-id'))).toBe('MW_ERR_BAD_REQUEST');
    // backwards: newest first, from before an id
    const back = async (before: string | undefined, n: number) =>
      (await store.readLogBackwards('audit', before, n)).map((e) => JSON.parse(e.entry).i);
    expect(await back(undefined, 3)).toEqual([6, 5, 4]);
    expect(await back(ids[4], 3)).toEqual([3, 2, 1]);
    expect(await back(ids[1], 3)).toEqual([0]);
    expect(await back(ids[0], 3)).toEqual([]);
    expect(await codeOf(store.readLogBackwards('audit', 'nope', 3))).toBe('MW_ERR_BAD_REQUEST');
  });

  it('a capped log keeps at least its newest maxLen entries and drops the oldest; del removes a log; zcard', async () => {
    for (let i = 0; i < 1000; i++) await store.append('capped', `e${i}`, { maxLen: 200 });
    const kept = (await store.readLog('capped')).map((e) => e.entry);
    // MAXLEN ~ trims whole stream nodes (100 entries each by default): no fewer than 200, far fewer than 1000
    expect(kept.length).toBeGreaterThanOrEqual(200);
    expect(kept.length).toBeLessThan(400);
    expect(kept.at(-1)).toBe('e999');
    expect(kept.at(0)).toBe(`e${1000 - kept.length}`);
    await store.del('capped');
    expect(await store.readLog('capped')).toEqual([]);
    await store.zadd('zc', 1, 'a');
    await store.zadd('zc', 2, 'b');
    expect(await store.zcard('zc')).toBe(2);
    expect(await store.zcard('zc-none')).toBe(0);
  });

  it('publish reaches every subscriber on the same Redis under the prefix, until it unsubscribes', async () => {
    const other = createRedisStore({ url: server.url, keyPrefix: 'mw:' });
    const stranger = createRedisStore({ url: server.url, keyPrefix: 'other:' });
    try {
      const got: string[] = [];
      const strangerGot: string[] = [];
      const stop = await other.subscribe('news', (m) => got.push(`a:${m}`));
      const stop2 = await other.subscribe('news', (m) => got.push(`b:${m}`));
      await stranger.subscribe('news', (m) => strangerGot.push(m));
      await store.publish('news', 'one');
      await until('both handlers got it', () => got.length === 2);
      expect(got.sort()).toEqual(['a:one', 'b:one']);
      await stop();
      await store.publish('news', 'two');
      await until('the remaining handler got it', () => got.length === 3);
      expect(got[2]).toBe('b:two');
      await stop2();
      await store.publish('news', 'three');
      await sleep(100);
      expect(got).toHaveLength(3);
      expect(strangerGot).toEqual([]);
    } finally {
      await other.close();
      await stranger.close();
    }
  });

  it('compareAndSet writes only over the expected value (null: only when absent), under the prefix', async () => {
    expect(await store.compareAndSet('cas', null, 'a')).toBe(true);
    expect(await store.compareAndSet('cas', null, 'b')).toBe(false);
    expect(await store.compareAndSet('cas', 'x', 'b')).toBe(false);
    expect(await store.compareAndSet('cas', 'a', 'b')).toBe(true);
    expect(await raw.get('mw:cas')).toBe('b');
    // an empty string is a value, not absence
    await store.set('empty', '');
    expect(await store.compareAndSet('empty', null, 'x')).toBe(false);
    expect(await store.compareAndSet('empty', '', 'x')).toBe(true);
    // with a TTL the value expires; without one it keeps none
    expect(await store.compareAndSet('cas', 'b', 'c', 60_000)).toBe(true);
    expect(await raw.pttl('mw:cas')).toBeGreaterThan(50_000);
    expect(await store.compareAndSet('cas', 'c', 'd')).toBe(true);
    expect(await raw.pttl('mw:cas')).toBe(-1);
  });

  it('a Redis error that is not an outage is reported as such', async () => {
    await store.set('plain', 'x');
    expect(await codeOf(store.hget('plain', 'f'))).toBe('MW_ERR_INTERNAL');
    expect(store.healthy()).toBe(true);
  });

  it('fails fast with STORE_UNAVAILABLE while Redis is down and recovers by itself', async () => {
    await store.set('survivor', 'before');
    const listener = createRedisStore({ url: server.url, keyPrefix: 'mw:' });
    const heard: string[] = [];
    await listener.subscribe('after-outage', (m) => heard.push(m));
    await server.kill();
    await until('unhealthy', () => !store.healthy(), 5_000);
    const started = Date.now();
    expect(await codeOf(store.get('survivor'))).toBe('MW_ERR_STORE_UNAVAILABLE');
    expect(await codeOf(store.set('k', 'v'))).toBe('MW_ERR_STORE_UNAVAILABLE');
    expect(await codeOf(store.append('audit', 'x'))).toBe('MW_ERR_STORE_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(1_000);
    // a store created during the outage waits for its first connection only up to the connect timeout
    const late = createRedisStore({ url: server.url, connectTimeoutMs: 300 });
    const lateStarted = Date.now();
    expect(await codeOf(late.get('x'))).toBe('MW_ERR_STORE_UNAVAILABLE');
    expect(Date.now() - lateStarted).toBeLessThan(2_000);
    await late.close();

    await server.restart();
    await until('healthy again', () => store.healthy(), 10_000);
    // an in-memory Redis without persistence comes back empty
    expect(await store.get('survivor')).toBeNull();
    await store.set('survivor', 'after');
    expect(await store.get('survivor')).toBe('after');
    expect(await store.incr('after-restart')).toBe(1);
    // subscriptions are renewed after the reconnect
    await until('listener reconnected', () => listener.healthy(), 10_000);
    await until('announcement heard', async () => {
      await store.publish('after-outage', 'back');
      return heard.length > 0;
    });
    expect(heard[0]).toBe('back');
    expect(await codeOf(listener.close())).toBe('resolved');
  });
});
