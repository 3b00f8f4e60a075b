/**
 * Is a window's change more than counting noise? A window of a quiet endpoint holds a few dozen requests, so its
 * rate, error ratio and p95 move a lot by chance alone; the scorer judges how unusual a value is against the series'
 * history, these helpers judge whether the counts behind it could be chance. Each change is turned into a count with
 * a known chance level (requests against the expected rate, errors against the usual error ratio, requests slower
 * than the usual p95 against the 5 % that always are) and its Poisson tail probability is stated as standard normal
 * deviations, so one threshold fits every volume (exact tails: a square-root approximation understates rare counts,
 * e.g. 10 errors where 1.3 are usual).
 */
import { cumulativeStdNormalProbability, gammaln, probit } from 'simple-statistics';

/** z of the standard normal's 95th percentile */
const Z95 = 1.6449;
/** an expected count is never taken below this (a series that never failed is not infinitely surprised by one error) */
const MIN_EXPECTED = 1;
const MAX_TERMS = 100_000;

/**
 * How many standard deviations `observed` lies above (positive) or below (negative) a Poisson count of mean
 * `expected`: the tail probability P(X ≥ observed) or P(X ≤ observed) as a normal deviate; 0 when the count is on
 * the expected side of the mean. Fractional counts (estimates) are rounded.
 */
export function countZ(observed: number, expected: number): number {
  const k = Math.max(0, Math.round(observed));
  const lambda = Math.max(expected, MIN_EXPECTED);
  if (k > lambda) return deviateOf(logTail(k, lambda, 1));
  if (k < lambda) return -deviateOf(logTail(k, lambda, -1));
  return 0;
}

/** log of P(X ≥ k) (step 1) or P(X ≤ k) (step -1) for X ~ Poisson(lambda), summed outward from k */
function logTail(k: number, lambda: number, step: 1 | -1): number {
  const logLambda = Math.log(lambda);
  const logPmf = (i: number) => -lambda + i * logLambda - gammaln(i + 1);
  const first = logPmf(k);
  let sum = 0;
  for (let i = k, n = 0; i >= 0 && n < MAX_TERMS; i += step, n++) {
    const term = Math.exp(logPmf(i) - first);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return first + Math.log(sum);
}

/** the normal deviate z ≥ 0 whose upper tail is exp(logP) (asymptotic where probit runs out of precision) */
function deviateOf(logP: number): number {
  if (logP >= Math.log(0.5)) return 0;
  if (logP > -25) return -probit(Math.exp(logP));
  // upper normal tail ≈ φ(z) / z: solve -logP = z² / 2 + ln z + ln √(2π)
  const L = -logP - 0.5 * Math.log(2 * Math.PI);
  let z = Math.sqrt(2 * L);
  for (let i = 0; i < 4; i++) z = Math.sqrt(2 * (L - Math.log(z)));
  return z;
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
