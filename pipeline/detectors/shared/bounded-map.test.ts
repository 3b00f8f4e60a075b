import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.js';

/**
 * The first BoundedMap, kept as the model: recency is the Map's own insertion order (a refreshed entry is deleted and
 * set again), eviction takes `keys().next()`. The linked-list version must give the same answers and the same order.
 */
class InsertionOrderModel<V> {
  evicted = 0;
  expired = 0;
  private map = new Map<string, { v: V; t: number; seq: number }>();
  private seq = 0;
  constructor(
    readonly max: number,
    readonly ttlMs: number,
  ) {}
  get size(): number {
    return this.map.size;
  }
  get(key: string, now: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (now - e.t > this.ttlMs) {
      this.map.delete(key);
      this.expired++;
      return undefined;
    }
    if (now > e.t) e.t = now;
    if (this.seq - e.seq > this.max >>> 1) {
      this.map.delete(key);
      e.seq = ++this.seq;
      this.map.set(key, e);
    }
    return e.v;
  }
  set(key: string, value: V, now: number): void {
    const had = this.map.delete(key);
    this.map.set(key, { v: value, t: now, seq: ++this.seq });
    if (!had && this.map.size > this.max) {
      this.map.delete(this.map.keys().next().value as string);
      this.evicted++;
    }
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  dump(): [string, V, number][] {
    return [...this.map].map(([k, e]) => [k, e.v, e.t]);
  }
}

describe('BoundedMap', () => {
  it('caps its size, evicting cold entries first, and expires idle entries by event time', () => {
    const m = new BoundedMap<string, number>(100, 1000);
    for (let i = 0; i < 100; i++) m.set(`k${i}`, i, 0);
    for (let r = 0; r < 3; r++) expect(m.get('k0', 10)).toBe(0);
    for (let i = 100; i < 150; i++) m.set(`k${i}`, i, 20);
    expect(m.size).toBe(100);
    expect(m.evicted).toBe(50);
    expect(m.get('k0', 30)).toBe(0);
    expect(m.get('k1', 30)).toBeUndefined();
    expect(m.get('k149', 2000)).toBeUndefined();
    expect(m.expired).toBe(1);
  });

  it('tells onDrop of each entry evicted or expired, not of one deleted, replaced or cleared', () => {
    const dropped: [string, number][] = [];
    const m = new BoundedMap<string, number>(2, 1000, (k, v) => dropped.push([k, v]));
    m.set('a', 1, 0);
    m.set('b', 2, 0);
    m.set('c', 3, 0); // evicts a
    m.set('b', 20, 500); // replaced: not dropped
    expect(m.get('c', 1500)).toBeUndefined(); // expired on read
    m.set('d', 4, 1500);
    expect(m.sweep(2400)).toBe(1); // b expires in the sweep (d is younger)
    m.delete('d');
    m.set('e', 5, 2600);
    m.clear();
    expect(dropped).toEqual([
      ['a', 1],
      ['c', 3],
      ['b', 20],
    ]);
  });

  it('answers, evicts and orders as the insertion-order model does', () => {
    const op = fc.record({
      kind: fc.constantFrom('get', 'set', 'upsert', 'delete', 'peek'),
      key: fc.integer({ min: 0, max: 12 }),
      dt: fc.integer({ min: 0, max: 40 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 10, max: 200 }),
        fc.array(op, { maxLength: 200 }),
        (max, ttl, ops) => {
          const m = new BoundedMap<string, number>(max, ttl);
          const model = new InsertionOrderModel<number>(max, ttl);
          let now = 0;
          ops.forEach(({ kind, key, dt }, i) => {
            now += dt;
            const k = `k${key}`;
            if (kind === 'get') expect(m.get(k, now)).toBe(model.get(k, now));
            else if (kind === 'set') {
              m.set(k, i, now);
              model.set(k, i, now);
            } else if (kind === 'upsert') {
              let want = model.get(k, now);
              if (want === undefined) {
                model.set(k, i, now);
                want = i;
              }
              expect(m.upsert(k, now, () => i)).toBe(want);
            } else if (kind === 'delete') {
              m.delete(k);
              model.delete(k);
            } else expect(m.peek(k)).toBe(model.dump().find(([mk]) => mk === k)?.[1]);
            expect(m.size).toBe(model.size);
          });
          expect(m.dump((v) => v)).toEqual(model.dump());
          expect([m.evicted, m.expired]).toEqual([model.evicted, model.expired]);
          const back = new BoundedMap<string, number>(max, ttl);
          back.load(
            m.dump((v) => v),
            (v) => v,
          );
          expect(back.dump((v) => v)).toEqual(model.dump());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('holds a large cap, evicting the oldest first (300,000 entries through a cap of 100,000)', () => {
    const m = new BoundedMap<number, number>(100_000);
    for (let i = 0; i < 300_000; i++) m.set(i, i, i);
    expect(m.size).toBe(100_000);
    expect(m.evicted).toBe(200_000);
    expect(m.oldestKey()).toBe(200_000);
  });
});
