import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedSet } from './sorted-set.js';

/** what the embedded store did before: filter and sort the whole set at each read */
function naiveRange(z: Map<string, number>, min: number, max: number, rev: boolean, limit?: number): string[] {
  const hits: [string, number][] = [];
  for (const [m, s] of z) if (s >= min && s <= max) hits.push([m, s]);
  hits.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (rev) hits.reverse();
  return hits.slice(0, limit ?? hits.length).map((h) => h[0]);
}

const op = fc.oneof(
  fc.tuple(
    fc.constant('add' as const),
    fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'),
    fc.integer({ min: -5, max: 5 }),
  ),
  fc.tuple(fc.constant('del' as const), fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), fc.constant(0)),
);
const bound = fc.oneof(
  fc.integer({ min: -6, max: 6 }),
  fc.constantFrom(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
);

describe('SortedSet', () => {
  it('reads the same ranges as sorting the whole set, after any adds, re-scores and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        bound,
        bound,
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
        (ops, a, b, rev, limit) => {
          const z = new SortedSet();
          const naive = new Map<string, number>();
          for (const [kind, member, score] of ops) {
            if (kind === 'add') {
              z.add(member, score);
              naive.set(member, score);
            } else {
              z.delete(member);
              naive.delete(member);
            }
          }
          const [min, max] = a <= b ? [a, b] : [b, a];
          expect(z.range(min, max, rev, limit)).toEqual(naiveRange(naive, min, max, rev, limit));
          expect(z.size).toBe(naive.size);
          // a snapshot rebuilds the same set
          expect(new SortedSet(z.entries()).range(min, max, rev, limit)).toEqual(z.range(min, max, rev, limit));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives nothing for an empty range or a limit of 0', () => {
    const z = new SortedSet([
      ['x', 1],
      ['y', 2],
    ]);
    expect(z.range(3, 9)).toEqual([]);
    expect(z.range(0, 9, false, 0)).toEqual([]);
    expect(z.range(2, 1)).toEqual([]);
  });
});
