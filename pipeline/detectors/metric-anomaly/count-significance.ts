/**
 * Is a window's change more than counting noise? A window of a quiet endpoint holds a few dozen requests, so its
 * rate, error ratio and p95 move a lot by chance alone; the scorer judges how unusual a value is against the series'
 * history, these helpers judge whether the counts behind it could be chance. Each change is turned into a count with
 * a known chance level (requests against the expected rate, errors against the usual error ratio, requests slower
 * than the usual p95 against the 5 % that always are) and compared on the square-root scale on which a Poisson
 * count has unit variance (Anscombe), so one threshold in standard deviations fits every volume.
 */
import { cumulativeStdNormalProbability } from 'simple-statistics';

/** z of the standard normal's 95th percentile */
const Z95 = 1.6449;

/**
 * How many standard deviations of Poisson noise `observed` lies above (positive) or below (negative) `expected`:
 * 2 (√(observed + 3/8) − √(expected + 3/8)), close to N(0, 1) when the count is chance.
 */
export function countZ(observed: number, expected: number): number {
  return 2 * (Math.sqrt(Math.max(observed, 0) + 0.375) - Math.sqrt(Math.max(expected, 0) + 0.375));
}

/**
 * The share of a window's requests slower than `threshold` ms, read off the window's p50 and p95 through a
 * log-normal fitted to them (latencies are close to log-normal; the window keeps only quantiles). When p95 does not
 * exceed p50 nothing is known beyond the two quantiles: half the requests when the threshold is under them, else 5 %.
 */
export function shareSlowerThan(threshold: number, p50: number, p95: number): number {
  const lo = Math.log1p(Math.max(p50, 0));
  const hi = Math.log1p(Math.max(p95, 0));
  const at = Math.log1p(Math.max(threshold, 0));
  if (!(hi > lo)) return at < lo ? 0.5 : 0.05;
  return 1 - cumulativeStdNormalProbability((Z95 * (at - lo)) / (hi - lo));
}
