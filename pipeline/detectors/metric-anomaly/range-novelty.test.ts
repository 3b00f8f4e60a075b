import { describe, expect, it } from 'vitest';
import { RangeNovelty } from './range-novelty.js';

/** visit each value with the running range, as the scorer does */
function visitAll(r: RangeNovelty, values: number[], range = { lo: Infinity, hi: -Infinity }): number[] {
  return values.map((x) => {
    range.lo = Math.min(range.lo, x);
    range.hi = Math.max(range.hi, x);
    return r.visit(x, range.lo, range.hi);
  });
}

describe('RangeNovelty', () => {
  it('a value is new on a grid only the first time its bin is visited', () => {
    // one grid of 10 bins laid over [0, 100] (the first visit sees the whole range): bins are 10 wide
    const r = new RangeNovelty(1, 10, 10, 1.5);
    const range = { lo: 0, hi: 100 };
    expect(r.visit(5, range.lo, range.hi)).toBe(1);
    expect(r.visit(9, range.lo, range.hi)).toBe(0); // same bin [0, 10)
    expect(r.visit(10, range.lo, range.hi)).toBe(1); // next bin
    expect(r.visit(55, range.lo, range.hi)).toBe(1);
    expect(r.visit(51, range.lo, range.hi)).toBe(0);
    // below the origin and above the top, within the growth the grid allows, bins exist too
    expect(r.visit(-21, -21, 100)).toBe(1); // bin [-30, -20)
    expect(r.visit(-25, -25, 100)).toBe(0);
    expect(r.visit(120, -25, 120)).toBe(1); // 1.45 x the laid range: the same grid
    expect(r.visit(125, -25, 125)).toBe(0);
  });

  it('the share of grids that had not seen the bin: a finer grid tells values apart that a coarse one does not', () => {
    // grids of 2 and 20 bins over [0, 100]
    const r = new RangeNovelty(2, 2, 20, 1.5);
    expect(r.visit(10, 0, 100)).toBe(1);
    expect(r.visit(30, 0, 100)).toBe(0.5); // same half, another twentieth
    expect(r.visit(31, 0, 100)).toBe(0);
    expect(r.visit(80, 0, 100)).toBe(1);
  });

  it('a recurring spike stops being new, a spike of a new size is new', () => {
    const r = new RangeNovelty(8, 6, 20, 1.5);
    const quiet = Array.from({ length: 300 }, (_, i) => 100 + 5 * Math.sin(i / 7));
    const range = { lo: Infinity, hi: -Infinity };
    // the first spike grows the range past the laid one: the grids are laid again and everything is new
    visitAll(r, [...quiet, 180, ...quiet], range);
    const again = visitAll(r, [...quiet, 180, ...quiet], range);
    expect(Math.max(...again)).toBe(0);
    // a drop to a level never visited, within the range the grids cover
    const [drop] = visitAll(r, [60], range);
    expect(drop).toBe(1);
  });

  it('forgets its visits when the range outgrows the grids', () => {
    const r = new RangeNovelty(1, 10, 10, 1.5);
    expect(r.visit(50, 0, 100)).toBe(1);
    expect(r.visit(50, 0, 100)).toBe(0);
    expect(r.visit(149, 0, 149)).toBe(1); // 1.49 x the laid range: still the same grids
    expect(r.visit(50, 0, 149)).toBe(0);
    expect(r.visit(151, 0, 151)).toBe(1); // past 1.5 x: laid again over [0, 151], nothing visited
    expect(r.visit(50, 0, 151)).toBe(1);
  });

  it('memory is fixed: the same bytes after a million rows of a drifting series', () => {
    const r = new RangeNovelty(8, 6, 20, 1.5);
    const before = r.bytes;
    const range = { lo: Infinity, hi: -Infinity };
    for (let i = 0; i < 1_000_000; i++) {
      const x = Math.sin(i / 50) * (1 + i / 1000) + i * 0.01;
      range.lo = Math.min(range.lo, x);
      range.hi = Math.max(range.hi, x);
      const v = r.visit(x, range.lo, range.hi);
      if (v < 0 || v > 1) throw new Error(`novelty ${v} out of [0, 1]`);
    }
    expect(r.bytes).toBe(before);
    expect(r.snapshot().visited.length).toBeLessThanOrEqual(before);
  });

  it('snapshot/restore through JSON gives the same answers; a misfit snapshot is refused and changes nothing', () => {
    const a = new RangeNovelty(8, 6, 20, 1.5);
    const values = Array.from({ length: 500 }, (_, i) => ((i * 37) % 101) + (i > 400 ? 60 : 0));
    const range = { lo: Infinity, hi: -Infinity };
    visitAll(a, values.slice(0, 300), range);
    const b = new RangeNovelty(8, 6, 20, 1.5);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const rangeB = { ...range };
    expect(visitAll(b, values.slice(300), rangeB)).toEqual(visitAll(a, values.slice(300), range));

    const small = new RangeNovelty(1, 2, 2, 1.5);
    const kept = small.snapshot();
    expect(() => small.restore(a.snapshot())).toThrow(RangeError);
    expect(small.snapshot()).toEqual(kept);
    expect(() => new RangeNovelty(0, 6, 20, 1.5)).toThrow(RangeError);
    expect(() => new RangeNovelty(4, 20, 6, 1.5)).toThrow(RangeError);
    expect(() => new RangeNovelty(4, 6, 20, 1)).toThrow(RangeError);
  });
});
