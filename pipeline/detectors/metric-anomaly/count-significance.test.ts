import { describe, expect, it } from 'vitest';
import { countZ, shareSlowerThan } from './count-significance.js';
import { mulberry32 } from './testdata/series.js';

const rand = mulberry32(42);
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
/** Knuth's Poisson draw (small means) */
function poisson(mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

describe('countZ', () => {
  it.each([2, 20, 60])('passes Poisson counts of mean %d at the rates of the normal tail', (mean) => {
    const zs = Array.from({ length: 20_000 }, () => countZ(poisson(mean), mean));
    // at or beyond 2 deviations: at most 2.3 % each side (fewer: counts are whole numbers)
    expect(zs.filter((z) => z >= 2).length / zs.length).toBeLessThan(0.03);
    expect(zs.filter((z) => z >= 2).length / zs.length).toBeGreaterThan(0.005);
    // at or beyond 4 deviations: about 3 in 100,000 each side
    expect(zs.filter((z) => Math.abs(z) >= 4).length).toBeLessThan(10);
  });

  it('grows with the change and is signed', () => {
    expect(countZ(36, 20)).toBeGreaterThan(3);
    expect(countZ(36, 20)).toBeLessThan(3.5); // a 3-deviation wobble of a quiet endpoint
    expect(countZ(180, 20)).toBeGreaterThan(15);
    expect(countZ(2, 60)).toBeLessThan(-9);
    expect(countZ(20, 20)).toBe(0);
    // exact tails: 10 errors where 1.3 are usual is rarer than a square-root scale says (about 3.9 there)
    expect(countZ(10, 1.3)).toBeGreaterThan(4.6);
    // never surprised without limit: an expected count under one counts as one
    expect(countZ(5, 0)).toBeCloseTo(countZ(5, 1), 10);
  });
});

describe('shareSlowerThan', () => {
  it('recovers the share of a log-normal window slower than a threshold from its p50 and p95', () => {
    const lat = Array.from({ length: 5000 }, () => 50 * Math.exp(0.6 * normal())).sort((a, b) => a - b);
    const p50 = lat[2500];
    const p95 = lat[4750];
    for (const threshold of [20, 50, 80, 150]) {
      const actual = lat.filter((x) => x > threshold).length / lat.length;
      expect(shareSlowerThan(threshold, p50, p95)).toBeCloseTo(actual, 1);
    }
  });

  it('knows only the two quantiles when they coincide', () => {
    expect(shareSlowerThan(10, 30, 30)).toBe(0.5);
    expect(shareSlowerThan(40, 30, 30)).toBe(0.05);
  });
});
