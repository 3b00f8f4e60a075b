import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  normalise,
  OUTSIDE,
  PROBATION,
  PROFILES,
  prepareFile,
  probationLength,
  scaledSigmoid,
  scoreFile,
  sweep,
  windowsToRows,
} from './scorer.js';

const S = scaledSigmoid;

describe('NAB scoring primitives', () => {
  it('scaled sigmoid: 0 at 0, -1 beyond 3, symmetric around 0', () => {
    expect(S(0)).toBe(0);
    expect(S(-1)).toBeCloseTo(2 / (1 + Math.exp(-5)) - 1, 15);
    expect(S(3.0001)).toBe(-1);
    expect(S(3)).toBeCloseTo(2 / (1 + Math.exp(15)) - 1, 15);
    expect(S(0.4)).toBeCloseTo(-S(-0.4), 15);
  });

  it('probation: 15 % of the rows, at most 750', () => {
    expect(probationLength(1000)).toBe(150);
    expect(probationLength(1243)).toBe(186);
    expect(probationLength(4032)).toBe(604);
    expect(probationLength(15902)).toBe(750);
  });

  it('maps label timestamps onto inclusive row indices', () => {
    const ts = [0, 10, 20, 30, 40, 50];
    expect(windowsToRows(ts, [[10, 30]])).toEqual([{ left: 1, right: 3 }]);
    expect(windowsToRows(ts, [[15, 45]])).toEqual([{ left: 2, right: 4 }]);
    expect(windowsToRows(ts, [[60, 70]])).toEqual([]);
  });
});

describe('scoring one file by hand', () => {
  // 20 rows, probation floor(3) = 3 rows, one window on rows 10..14 (width 5)
  const file = prepareFile('hand', 20, [{ left: 10, right: 14 }], PROFILES.standard);
  const detect = (...rows: number[]) => {
    const s = new Array(20).fill(0);
    for (const r of rows) s[r] = 1;
    return scoreFile(file, s, 0.5, PROFILES.standard);
  };

  it('classifies rows', () => {
    expect(file.kind[2]).toBe(PROBATION);
    expect(file.kind[3]).toBe(OUTSIDE);
    expect(file.kind[10]).toBe(0);
    expect(file.kind[14]).toBe(0);
    expect(file.kind[15]).toBe(OUTSIDE);
  });

  it('a miss costs fnWeight', () => {
    expect(detect().score).toBeCloseTo(-1, 12);
  });

  it('detection at the left edge is worth exactly tpWeight', () => {
    // y = -(14 - 10 + 1) / 5 = -1, worth S(-1) / S(-1)
    expect(detect(10).score).toBeCloseTo(1, 12);
  });

  it('later in the window is worth less; only the best detection counts', () => {
    // row 12: y = -(14 - 12 + 1) / 5 = -0.6
    expect(detect(12).score).toBeCloseTo(S(-0.6) / S(-1), 12);
    expect(detect(12, 13, 14).score).toBeCloseTo(S(-0.6) / S(-1), 12);
    expect(detect(11, 12).score).toBeCloseTo(S(-0.8) / S(-1), 12);
  });

  it('a false positive before any window costs fpWeight; probation rows are ignored', () => {
    expect(detect(5, 10).score).toBeCloseTo(1 - 0.11, 12);
    expect(detect(1, 10).score).toBeCloseTo(1, 12);
  });

  it('a false positive after a window is discounted by its distance', () => {
    // row 16: y = |14 - 16| / (5 - 1) = 0.5, worth S(0.5) * 0.11 (a small negative number)
    expect(detect(10, 16).score).toBeCloseTo(1 + S(0.5) * 0.11, 12);
    // row 19: y = 5 / 4
    expect(detect(19).score).toBeCloseTo(-1 + S(1.25) * 0.11, 12);
  });

  it('profiles weight outcomes differently', () => {
    const lowFn = prepareFile('hand', 20, [{ left: 10, right: 14 }], PROFILES.reward_low_FN_rate);
    expect(scoreFile(lowFn, new Array(20).fill(0), 0.5, PROFILES.reward_low_FN_rate).score).toBe(-2);
    const lowFp = prepareFile('hand', 20, [{ left: 10, right: 14 }], PROFILES.reward_low_FP_rate);
    const s = new Array(20).fill(0);
    s[5] = 1;
    s[10] = 1;
    expect(scoreFile(lowFp, s, 0.5, PROFILES.reward_low_FP_rate).score).toBeCloseTo(1 - 0.22, 12);
  });

  it('normalises between the null and the perfect detector', () => {
    expect(normalise(-116, PROFILES.standard, 116)).toBe(0);
    expect(normalise(116, PROFILES.standard, 116)).toBe(100);
    expect(normalise(46.634450197137596, PROFILES.standard, 116)).toBeCloseTo(70.101, 3);
    expect(normalise(-232, PROFILES.reward_low_FN_rate, 116)).toBe(0);
  });
});

describe('threshold sweep', () => {
  it('agrees with scoring every candidate threshold one by one', () => {
    const arb = fc.record({
      rows: fc.integer({ min: 30, max: 120 }),
      windows: fc.array(fc.tuple(fc.integer({ min: 0, max: 119 }), fc.integer({ min: 2, max: 15 })), { maxLength: 3 }),
      // few distinct levels so ties happen
      levels: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 120, maxLength: 120 }),
    });
    fc.assert(
      fc.property(arb, ({ rows, windows, levels }) => {
        const wins = windows
          .map(([left, w]) => ({ left: Math.min(left, rows - 1), right: Math.min(left + w, rows - 1) }))
          .sort((a, b) => a.left - b.left)
          .filter((w, i, all) => i === 0 || w.left > all[i - 1].right);
        const file = prepareFile('p', rows, wins, PROFILES.standard);
        const scores = levels.slice(0, rows).map((l) => l / 8);
        const result = sweep([{ file, scores }], PROFILES.standard);
        for (const point of result.curve.slice(1)) {
          expect(point.score).toBeCloseTo(scoreFile(file, scores, point.threshold, PROFILES.standard).score, 9);
        }
        const best = Math.max(...result.curve.map((p) => p.score));
        expect(result.score).toBe(best);
        expect(result.curve[0].score).toBeCloseTo(-file.windows, 12);
      }),
      { numRuns: 150 },
    );
  });
});
