import { describe, expect, it } from 'vitest';
import { PostingLists } from './posting-lists.js';

/** a bucket's entries as [row, value] pairs, in walking order: the packed part, then the lists added since */
function entries(p: PostingLists, bucket: number): [number, number][] {
  const out: [number, number][] = [];
  if (bucket + 1 < p.start.length) {
    for (let j = p.start[bucket]; j < p.start[bucket + 1]; j++) out.push([p.rows[j], p.vals[j]]);
  }
  const x = p.extra.get(bucket);
  for (let j = 0; j < (x?.n ?? 0); j++) out.push([x!.rows[j], x!.vals[j]]);
  return out;
}

describe('posting lists', () => {
  it('keep each bucket its entries in the order added, across compactions and later additions', () => {
    const p = new PostingLists();
    const expected = new Map<number, [number, number][]>();
    const add = (bucket: number, row: number, val: number) => {
      p.add(bucket, row, val);
      expected.set(bucket, [...(expected.get(bucket) ?? []), [row, val]]);
    };
    for (let row = 0; row < 50; row++) for (const b of [row % 7, 100 + (row % 3), 9000]) add(b, row, row / 10 + b);
    p.compact();
    expect(p.extra.size).toBe(0);
    // after the build: a new bucket past every packed one, and buckets the packed part has
    for (let row = 50; row < 55; row++) for (const b of [row % 7, 12000]) add(b, row, -row);
    for (const [b, xs] of expected) {
      expect(entries(p, b)).toEqual(xs);
      expect(p.count(b)).toBe(xs.length);
    }
    expect(p.count(4242)).toBe(0);
    expect(p.size).toBe(expected.size);
    expect(p.entries).toBe([...expected.values()].reduce((n, xs) => n + xs.length, 0));
    p.compact();
    for (const [b, xs] of expected) expect(entries(p, b)).toEqual(xs);
  });

  it('merge the lists added since once they hold 65,536 entries, without losing or reordering any', () => {
    const p = new PostingLists();
    for (let i = 0; i < 70_000; i++) p.add(i % 5, i, i * 0.5);
    // compacted at the 65,536th entry; the rest waits in the lists added since
    expect(p.rows.length).toBe(65_536);
    expect([...p.extra.values()].reduce((n, x) => n + x.n, 0)).toBe(70_000 - 65_536);
    const bucket3 = entries(p, 3);
    expect(bucket3).toHaveLength(14_000);
    expect(bucket3.every(([row, val], j) => row === 3 + 5 * j && val === row * 0.5)).toBe(true);
  });
});
