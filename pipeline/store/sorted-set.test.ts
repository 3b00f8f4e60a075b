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

  it('reads the members before a (score, member) position, highest first', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        fc.integer({ min: -6, max: 6 }),
        fc.option(fc.constantFrom('a', 'b', 'bb', 'c', 'g', 'h'), { nil: null }),
        fc.integer({ min: 0, max: 8 }),
        (ops, score, member, limit) => {
          const z = new SortedSet();
          for (const [kind, m, s] of ops) {
            if (kind === 'add') z.add(m, s);
            else z.delete(m);
          }
          const expected = [...z.entries()]
            .filter(([m, s]) => s < score || (s === score && member !== null && m < member))
            .sort((x, y) => y[1] - x[1] || (y[0] < x[0] ? -1 : 1))
            .slice(0, limit)
            .map(([m]) => m);
          expect(z.rangeBefore(score, member, limit)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads the same past many blocks: thousands of adds, re-scores and deletes, and a snapshot of them', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        let x = seed;
        const rand = (n: number) => {
          x = (Math.imul(x, 1103515245) + 12345) | 0;
          return (x >>> 8) % n;
        };
        const z = new SortedSet();
        const naive = new Map<string, number>();
        for (let i = 0; i < 6000; i++) {
          const member = `m${rand(2500)}`;
          // deletes in runs empty whole blocks
          if (rand(10) < 3 || (i > 4000 && i < 4600)) {
            z.delete(member);
            naive.delete(member);
          } else {
            const score = rand(40);
            z.add(member, score);
            naive.set(member, score);
          }
        }
        expect(z.size).toBe(naive.size);
        const snapshot = new SortedSet(z.entries());
        for (let q = 0; q < 30; q++) {
          const [a, b] = [rand(44) - 2, rand(44) - 2];
          const [min, max] = a <= b ? [a, b] : [b, a];
          const rev = rand(2) === 0;
          const limit = rand(3) === 0 ? undefined : rand(900);
          expect(z.range(min, max, rev, limit)).toEqual(naiveRange(naive, min, max, rev, limit));
          expect(snapshot.range(min, max, rev, limit)).toEqual(naiveRange(naive, min, max, rev, limit));
          const member = `m${rand(2500)}`;
          const below = naiveRange(naive, Number.NEGATIVE_INFINITY, a, true).filter(
            (m) => (naive.get(m) as number) < a || m < member,
          );
          expect(z.rangeBefore(a, member, 700)).toEqual(below.slice(0, 700));
        }
      }),
      { numRuns: 10 },
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
