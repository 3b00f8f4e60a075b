import { describe, expect, it } from 'vitest';
import {
  addDistinct,
  copyDistinct,
  countDistinct,
  distinctFromJson,
  distinctToJson,
  emptyDistinct,
} from './distinct-set.js';

describe('DistinctSet', () => {
  it('counts exactly up to its limit, then in a sketch within its error; a copy counts on its own', () => {
    const set = emptyDistinct();
    expect([addDistinct(set, 'a', 4), addDistinct(set, 'a', 4), addDistinct(set, 'b', 4)]).toEqual([true, false, true]);
    expect(set).toMatchObject({ exact: ['a', 'b'], distinct: 2, hll: null });
    const copy = copyDistinct(set);
    for (let i = 0; i < 3; i++) addDistinct(set, `v${i}`, 4);
    // five values: past the limit of 4, a sketch
    expect(set).toMatchObject({ exact: null, hashes: null });
    expect(Math.round(set.distinct)).toBe(5);
    expect(copy.distinct).toBe(2);
    for (let i = 0; i < 1000; i++) addDistinct(copy, `w${i}`, 4);
    expect(Math.abs(copy.distinct - 1002) / 1002).toBeLessThan(0.15);
    // a copy of a sketch counts on its own too
    const again = copyDistinct(copy);
    for (let i = 0; i < 1000; i++) addDistinct(again, `x${i}`, 4);
    expect(again.distinct).toBeGreaterThan(copy.distinct * 1.5);
  });

  it('reads back what it wrote to a checkpoint, hashes rebuilt', () => {
    const exact = emptyDistinct();
    for (const v of ['a', 'b', 'c']) addDistinct(exact, v, 8);
    const back = distinctFromJson(JSON.parse(JSON.stringify(distinctToJson(exact))));
    expect(back).toEqual(exact);
    expect(addDistinct(back, 'b', 8)).toBe(false);
    const sketch = emptyDistinct();
    for (let i = 0; i < 100; i++) addDistinct(sketch, `v${i}`, 8);
    const read = distinctFromJson(JSON.parse(JSON.stringify(distinctToJson(sketch))));
    expect(read.distinct).toBe(sketch.distinct);
    expect(read.hll?.count()).toBe(sketch.hll?.count());
  });

  it("leaves the sketch's estimate to countDistinct when asked not to recount", () => {
    const set = emptyDistinct();
    for (let i = 0; i < 10; i++) addDistinct(set, `v${i}`, 4);
    const before = set.distinct;
    for (let i = 10; i < 500; i++) addDistinct(set, `v${i}`, 4, false);
    expect(set.distinct).toBe(before);
    expect(Math.abs(countDistinct(set) - 500) / 500).toBeLessThan(0.15);
    expect(set.distinct).toBe(countDistinct(set));
  });

  it("never counts more than the owner's bound, where the sketch's estimate would", () => {
    // the first number of values past the exact limit that the sketch over-estimates
    const set = emptyDistinct();
    let added = 0;
    while (added < 2_000 && !(set.hll && set.hll.count() > added)) addDistinct(set, `user${added++}`, 64);
    expect(countDistinct(set)).toBeGreaterThan(added);
    expect(countDistinct(set, added)).toBe(added);
    expect(countDistinct(set, added + 1_000)).toBe(countDistinct(set));
  });
});
