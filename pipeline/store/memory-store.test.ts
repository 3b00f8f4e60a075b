import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hmgetContract } from '../../test/harness/hmget-contract.js';
import { shareContract } from '../../test/harness/share-contract.js';
import { lexIndexContract, lexIndexDelContract } from '../../test/harness/lex-index-contract.js';
import { MemoryStore } from './memory-store.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mw-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('MemoryStore', () => {
  it('compareAndSet writes only over the expected value (null: only when absent)', async () => {
    const s = new MemoryStore();
    expect(await s.compareAndSet('k', null, 'a')).toBe(true);
    expect(await s.compareAndSet('k', null, 'b')).toBe(false);
    expect(await s.compareAndSet('k', 'x', 'b')).toBe(false);
    expect(await s.compareAndSet('k', 'a', 'b')).toBe(true);
    expect(await s.get('k')).toBe('b');
  });

  it('compareAndSet with a TTL: the value expires then; without one it keeps none', async () => {
    let now = 1000;
    const s = new MemoryStore({ clock: () => now });
    expect(await s.compareAndSet('k', null, 'a', 500)).toBe(true);
    now = 1400;
    expect(await s.compareAndSet('k', 'a', 'b')).toBe(true);
    now = 5000;
    expect(await s.get('k')).toBe('b');
    expect(await s.compareAndSet('k', 'b', 'c', 500)).toBe(true);
    now = 5600;
    expect(await s.get('k')).toBeNull();
  });

  it("publish reaches the channel's subscribers after the publisher's turn, until they unsubscribe", async () => {
    const s = new MemoryStore();
    const got: string[] = [];
    const stop = await s.subscribe('c', (m) => got.push(m));
    await s.subscribe('other', (m) => got.push(`other:${m}`));
    const sent = s.publish('c', 'one');
    expect(got).toEqual([]);
    await sent;
    await Promise.resolve();
    expect(got).toEqual(['one']);
    await stop();
    await s.publish('c', 'two');
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual(['one']);
    await s.close();
  });

  it('implements key/value with TTL, setIfAbsent and incr', async () => {
    let now = 1000;
    const s = new MemoryStore({ clock: () => now });
    await s.set('a', '1', 50);
    expect(await s.get('a')).toBe('1');
    expect(await s.setIfAbsent('a', '2')).toBe(false);
    now += 51;
    expect(await s.get('a')).toBeNull();
    expect(await s.setIfAbsent('a', '2')).toBe(true);
    expect(await s.mget(['a', 'zz'])).toEqual(['2', null]);
    expect(await s.incr('n', 2, 100)).toBe(2);
    expect(await s.incr('n')).toBe(3);
    now += 101;
    expect(await s.incr('n')).toBe(1);
    await s.close();
  });

  it('orders sorted sets and pages logs', async () => {
    const s = new MemoryStore();
    await s.zadd('z', 3, 'c');
    await s.zadd('z', 1, 'a');
    await s.zadd('z', 2, 'b');
    expect(await s.zrange('z', 0, 10)).toEqual(['a', 'b', 'c']);
    expect(await s.zrange('z', 2, 10, { rev: true, limit: 1 })).toEqual(['c']);
    await s.zrem('z', 'c');
    expect(await s.zrange('z', 0, 10)).toEqual(['a', 'b']);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await s.append('audit', `e${i}`));
    expect((await s.readLog('audit', undefined, 2)).map((e) => e.entry)).toEqual(['e0', 'e1']);
    expect((await s.readLog('audit', ids[1], 10)).map((e) => e.entry)).toEqual(['e2', 'e3', 'e4']);
    await s.hset('h', 'f', 'v');
    expect(await s.hgetall('h')).toEqual({ f: 'v' });
    await s.hdel('h', 'f');
    expect(await s.hget('h', 'f')).toBeNull();
    await s.close();
  });

  it('keeps a lex index (one entry per id, read from the highest down), across a restart, and deletes it with del', async () => {
    const dir = tempDir();
    const store = new MemoryStore({ dataDir: dir });
    await lexIndexContract(store, 'queue');
    await store.close();
    const again = new MemoryStore({ dataDir: dir });
    expect(await again.lexIndexRange('queue', { limit: 10 })).toEqual(['b1c', 'a9b', 'a0a']);
    // the ids' entries came back too: a new entry replaces the one restored
    await again.lexIndexSet('queue', 'b', 'b2b');
    expect(await again.lexIndexRange('queue', { limit: 10 })).toEqual(['b2b', 'b1c', 'a0a']);
    await again.del('queue');
    expect(await again.lexIndexRange('queue', { limit: 10 })).toEqual([]);
    await again.lexIndexSet('queue', 'c', 'c');
    expect(await again.lexIndexRange('queue', { limit: 10 })).toEqual(['c']);
    await again.close();
  });

  it('del takes a lex index whole: written again, it is as a new one', async () => {
    await lexIndexDelContract(new MemoryStore(), 'queue');
  });

  it('keeps one entry per id when two lex index writes of an id run at the same time', async () => {
    const store = new MemoryStore();
    await store.lexIndexSet('queue', 'a', 'a1');
    await Promise.all([store.lexIndexSet('queue', 'a', 'a2'), store.lexIndexSet('queue', 'a', 'a3')]);
    expect(await store.lexIndexRange('queue', { limit: 10 })).toEqual(['a3']);
    await store.lexIndexSet('queue', 'a', null);
    expect(await store.lexIndexRange('queue', { limit: 10 })).toEqual([]);
    await store.close();
  });

  it('hmget reads several fields of a hash in one call', async () => {
    await hmgetContract(new MemoryStore(), 'hm');
  });

  it('drops the keys whose TTL passed, read or not (a long-running process would keep every expired one)', async () => {
    let now = 1_000;
    const store = new MemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    await store.set('ev:a', 'x', 1_000);
    await store.setIfAbsent('ev:b', 'y', 5_000);
    await store.set('kept', 'z');
    await store.setShare('share', '0', 1, 1_000);
    expect(store.sweepExpired()).toBe(0);
    now += 1_000;
    expect(store.sweepExpired()).toBe(2);
    expect(store.sweepExpired()).toBe(0);
    expect(await store.mget(['ev:a', 'ev:b', 'kept', 'share'])).toEqual([null, 'y', 'z', null]);
    now += 4_000;
    expect(store.sweepExpired()).toBe(1);
    expect(await store.get('kept')).toBe('z');
    await store.close();
  });

  it('keeps the shares of a count several processes write, and forgets them after their time', async () => {
    let now = 1_000;
    const store = new MemoryStore({ clock: () => now });
    await shareContract(store, 'shares');
    now += 60_001;
    expect(await store.setShare('shares', '9', 1, 60_000)).toEqual({ total: 1, members: 1 });
  });

  it('hincr adds to a hash field atomically, from 0, and a restart keeps it', async () => {
    const dir = tempDir();
    const a = new MemoryStore({ dataDir: dir });
    expect(await a.hincr('counts', 'x')).toBe(1);
    // concurrent increments each count (no read-then-write across turns)
    expect(await Promise.all([a.hincr('counts', 'x', 2), a.hincr('counts', 'x', 3)])).toEqual([3, 6]);
    await a.hset('counts', 'y', 'z');
    expect(await a.hgetall('counts')).toEqual({ x: '6', y: 'z' });
    await a.close();
    const b = new MemoryStore({ dataDir: dir });
    expect(await b.hincr('counts', 'x')).toBe(7);
    await b.close();
  });

  it('hsetMax raises a hash field, never lowers it, and overwrites a value that is not a number', async () => {
    const s = new MemoryStore();
    expect(await s.hsetMax('seen', 'a', 1_764_647_884_000)).toBe(true);
    expect(await s.hsetMax('seen', 'a', 1_764_647_883_999)).toBe(false);
    expect(await s.hsetMax('seen', 'a', 1_764_647_884_000)).toBe(false);
    expect(await s.hget('seen', 'a')).toBe('1764647884000');
    // concurrent writers in either order: the newest stays
    await Promise.all([s.hsetMax('seen', 'b', 20), s.hsetMax('seen', 'b', 10)]);
    await Promise.all([s.hsetMax('seen', 'c', 10), s.hsetMax('seen', 'c', 20)]);
    expect(await s.hsetMax('seen', 'a', 1_764_647_884_001)).toBe(true);
    for (const junk of ['', 'soon', 'Infinity', 'NaN']) {
      await s.hset('seen', 'd', junk);
      expect(await s.hsetMax('seen', 'd', -5)).toBe(true);
    }
    expect(await s.hgetall('seen')).toEqual({ a: '1764647884001', b: '20', c: '20', d: '-5' });
    await expect(s.hsetMax('seen', 'a', Number.NaN)).rejects.toThrow(/finite/);
    await expect(s.hsetMax('seen', 'a', Number.POSITIVE_INFINITY)).rejects.toThrow(/finite/);
    expect(await s.hget('seen', 'a')).toBe('1764647884001');
  });

  it('survives a restart through its data directory', async () => {
    const dir = tempDir();
    const a = new MemoryStore({ dataDir: dir });
    await a.set('k', 'v');
    await a.hset('h', 'f', 'v');
    await a.zadd('z', 5, 'm');
    await a.append('audit', 'first');
    await a.close();
    const b = new MemoryStore({ dataDir: dir });
    expect(await b.get('k')).toBe('v');
    expect(await b.hget('h', 'f')).toBe('v');
    expect(await b.zrange('z', 0, 10)).toEqual(['m']);
    const id = await b.append('audit', 'second');
    expect((await b.readLog('audit')).map((e) => e.entry)).toEqual(['first', 'second']);
    expect(id).toBe('000000000002');
    await b.close();
    await b.close();
  });

  it('keeps about maxLen newest entries of a capped log, across a restart, and deletes logs with del', async () => {
    const dir = tempDir();
    const a = new MemoryStore({ dataDir: dir });
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `e${from + i}`);
    for (let i = 1; i <= 25; i++) await a.append('access', `e${i}`, { maxLen: 20 });
    // trimmed to 20 when the 23rd arrived (past 20 + a tenth), then 24 and 25 appended
    expect((await a.readLog('access')).map((e) => e.entry)).toEqual(range(4, 25));
    for (let i = 1; i <= 3; i++) await a.append('notes', `n${i}`);
    await a.close();

    const b = new MemoryStore({ dataDir: dir });
    expect((await b.readLog('access')).map((e) => e.entry)).toEqual(range(4, 25));
    expect(await b.append('access', 'e26', { maxLen: 20 })).toBe('000000000026');
    expect((await b.readLog('access')).map((e) => e.entry)).toEqual(range(7, 26));
    expect(await b.zcard('nothing')).toBe(0);
    await b.zadd('z', 1, 'x');
    await b.zadd('z', 2, 'y');
    expect(await b.zcard('z')).toBe(2);
    await b.del('notes');
    expect(await b.readLog('notes')).toEqual([]);
    await b.close();
    const c = new MemoryStore({ dataDir: dir });
    expect(await c.readLog('notes')).toEqual([]);
    expect((await c.readLog('access')).map((e) => e.entry)).toEqual(range(7, 26));
    await c.close();
  });

  it('reads a log backwards from the newest, or from before an id', async () => {
    const s = new MemoryStore();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await s.append('audit', `e${i}`));
    const entries = (page: { entry: string }[]) => page.map((e) => e.entry);
    expect(entries(await s.readLogBackwards('audit', undefined, 2))).toEqual(['e4', 'e3']);
    expect(entries(await s.readLogBackwards('audit', ids[3], 2))).toEqual(['e2', 'e1']);
    expect(entries(await s.readLogBackwards('audit', ids[1], 5))).toEqual(['e0']);
    expect(await s.readLogBackwards('audit', ids[0], 5)).toEqual([]);
    expect(await s.readLogBackwards('none', undefined, 5)).toEqual([]);
  });
});
