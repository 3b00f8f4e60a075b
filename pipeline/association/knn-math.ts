/**
 * The formulas of the smart association model (Hussain et al., "Intelligent Service Mesh Framework for API Security
 * and Management"), as small pure functions so tests can check them on hand-computed examples.
 */
import { type FeatureVector, sparseDot, squaredNorm } from './features.js';

/** D = sqrt(sum_i w_i (x_ir - x_it)^2) over dense vectors */
export function weightedEuclidean(a: ArrayLike<number>, b: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    const d = a[i] - b[i];
    s += w[i] * d * d;
  }
  return Math.sqrt(s);
}

/**
 * The same distance over block-sparse vectors: feature i of group g has weight groupWeight[g] / dims, and
 * ||x_g - y_g||^2 = |x_g|^2 + |y_g|^2 - 2 x_g.y_g.
 */
export function blockDistance(a: FeatureVector, b: FeatureVector, featureWeightPerGroup: ArrayLike<number>): number {
  let s = 0;
  for (let g = 0; g < a.length; g++) {
    const c = featureWeightPerGroup[g];
    if (c === 0) continue;
    const d = squaredNorm(a[g]) + squaredNorm(b[g]) - 2 * sparseDot(a[g], b[g]);
    if (d > 0) s += c * d;
  }
  return Math.sqrt(s);
}

/** neighbour vote weights w_j = (d_k - d_j) / (d_k - d_1), all 1 when d_k = d_1; distances ascending */
export function voteWeights(distances: readonly number[]): number[] {
  const n = distances.length;
  if (n === 0) return [];
  const d1 = distances[0];
  const dk = distances[n - 1];
  if (dk - d1 <= 1e-12) return distances.map(() => 1);
  return distances.map((d) => (dk - d) / (dk - d1));
}

/**
 * P(Y_i|x) = (N_i + s) / (K + C s): N_i the weighted votes of class i among the K neighbours, C the number of
 * classes, s the smoothing. With weighted votes sum N_i <= K, so the probabilities sum to at most 1 (a conservative
 * confidence). Returns every class of `classes`.
 */
export function classProbabilities(
  neighbourLabels: readonly string[],
  weights: readonly number[],
  classes: Iterable<string>,
  smoothing: number,
): Map<string, number> {
  const votes = new Map<string, number>();
  for (const c of classes) votes.set(c, 0);
  for (let j = 0; j < neighbourLabels.length; j++) {
    votes.set(neighbourLabels[j], (votes.get(neighbourLabels[j]) ?? 0) + weights[j]);
  }
  const K = neighbourLabels.length;
  const C = votes.size;
  const denom = K + C * smoothing;
  const out = new Map<string, number>();
  for (const [c, n] of votes) out.set(c, denom > 0 ? (n + smoothing) / denom : 0);
  return out;
}
