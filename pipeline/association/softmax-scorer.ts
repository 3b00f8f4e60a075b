import { Rng } from '../core/prng.js';
import type { FeatureVector } from './features.js';

/**
 * Training settings of the linear scorer, chosen by cross-validation inside the APIs-guru training lines (README.md):
 * 5 epochs lose 0.003–0.005; a cap of 1 or 5 rows per provider and class scores within 0.002 of 2
 */
export const SOFTMAX_TRAINING = {
  epochs: 10,
  l2: 1e-5,
  learningRate: 0.5,
  /** the bias moves at this share of the learning rate */
  biasRate: 0.1,
  /** at most this many training APIs of one provider and class are learnt from (the rest mostly repeat them) */
  perProviderClass: 2,
  seed: 1,
} as const;

/** the scorer is not built for a label dimension with more classes (its weights are classes x features) */
export const SOFTMAX_MAX_CLASSES = 100;

export interface ScorerRow {
  vec: FeatureVector;
  label: string;
  /** the provider's number: every provider weighs the same in training, whatever its number of APIs */
  provider: number;
}

/**
 * A multinomial logistic regression (softmax) over the same weighted feature blocks as the kNN distance (block g
 * scaled by sqrt W_g, so a dot product of two vectors is the similarity the distance measures), trained by SGD with
 * L2 regularisation, each provider's APIs sharing one provider's weight. The linear half of the association blend:
 * where the kNN weighs a few neighbours, this sees every training API's words at once.
 * Incremental: add() learns one more API as training would have.
 */
export class SoftmaxScorer {
  private readonly classList: string[] = [];
  private readonly classIndex = new Map<string, number>();
  /**
   * feature-major weights (the classes of one feature side by side), stored divided by `scale` (the L2 decay of every
   * weight is one multiplication of scale)
   */
  private w: Float32Array;
  private bias: Float64Array;
  /** per class, the step of the current SGD update */
  private step = new Float64Array(0);
  private scale = 1;
  private steps = 0;
  /** per feature group, the index of its first feature (-1 when its weight is 0): feature f of g is offsets[g] + f */
  private readonly offsets: Int32Array;
  private readonly groupScale: Float64Array;
  private readonly width: number;
  /** learnt rows per provider and class (the sample cap), and per provider (the sample weights) */
  private readonly perProviderClass = new Map<string, number>();
  private readonly perProvider = new Map<number, number>();
  private rowsLearnt = 0;
  private readonly rng = new Rng(SOFTMAX_TRAINING.seed);

  /** groupWeights: W_g per feature group; groupSizes: the coordinates of each group's block */
  constructor(groupWeights: ArrayLike<number>, groupSizes: ArrayLike<number>) {
    this.offsets = new Int32Array(groupWeights.length).fill(-1);
    this.groupScale = Float64Array.from(groupWeights, (w) => Math.sqrt(w));
    let width = 0;
    for (let g = 0; g < groupWeights.length; g++) {
      if (groupWeights[g] <= 0 || groupSizes[g] <= 0) continue;
      this.offsets[g] = width;
      width += groupSizes[g];
    }
    this.width = width;
    this.w = new Float32Array(0);
    this.bias = new Float64Array(0);
  }

  get classes(): readonly string[] {
    return this.classList;
  }

  memoryBytes(): number {
    return this.w.byteLength + this.bias.byteLength;
  }

  /** learn a training set (rows past the per-provider-and-class cap are skipped), `epochs` shuffled passes */
  train(rows: readonly ScorerRow[]): void {
    const sample = rows.filter((r) => this.admit(r));
    this.growClasses(sample.map((r) => r.label));
    const order = sample.map((_, i) => i);
    for (let e = 0; e < SOFTMAX_TRAINING.epochs; e++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(this.rng.next() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (const i of order) this.sgdStep(sample[i]);
    }
  }

  /** learn one more row (an API confirmed in review): as many steps as training gives each row */
  add(row: ScorerRow): void {
    if (!this.admit(row)) return;
    this.growClasses([row.label]);
    for (let e = 0; e < SOFTMAX_TRAINING.epochs; e++) this.sgdStep(row);
  }

  /** class probabilities (softmax), in the order of `classes` */
  probabilities(vec: FeatureVector): Float64Array {
    const p = this.logits(vec);
    let max = Number.NEGATIVE_INFINITY;
    for (const x of p) max = Math.max(max, x);
    let z = 0;
    for (let c = 0; c < p.length; c++) {
      p[c] = Math.exp(p[c] - max);
      z += p[c];
    }
    for (let c = 0; c < p.length; c++) p[c] /= z;
    return p;
  }

  /** counts the row in the sample when its provider and class are under the cap */
  private admit(row: ScorerRow): boolean {
    const key = `${row.provider}\u0000${row.label}`;
    const n = this.perProviderClass.get(key) ?? 0;
    if (n >= SOFTMAX_TRAINING.perProviderClass) return false;
    this.perProviderClass.set(key, n + 1);
    this.perProvider.set(row.provider, (this.perProvider.get(row.provider) ?? 0) + 1);
    this.rowsLearnt++;
    return true;
  }

  /** the labels not yet known become classes: the feature-major weights get their slots, in one copy */
  private growClasses(labels: readonly string[]): void {
    const old = this.classList.length;
    for (const l of labels) {
      if (this.classIndex.has(l)) continue;
      this.classIndex.set(l, this.classList.length);
      this.classList.push(l);
    }
    const C = this.classList.length;
    if (C === old) return;
    const w = new Float32Array(C * this.width);
    if (old > 0) for (let f = 0; f < this.width; f++) w.set(this.w.subarray(f * old, (f + 1) * old), f * C);
    this.w = w;
    const b = new Float64Array(C);
    b.set(this.bias);
    this.bias = b;
    this.step = new Float64Array(C);
  }

  /** one SGD step of the weighted cross-entropy loss plus L2 */
  private sgdStep(row: ScorerRow): void {
    const { learningRate, l2, biasRate } = SOFTMAX_TRAINING;
    const eta = learningRate / (1 + learningRate * l2 * this.steps++);
    // each provider weighs 1 in total; the mean row weight is 1
    const weight = this.rowsLearnt / this.perProvider.size / (this.perProvider.get(row.provider) ?? 1);
    const p = this.probabilities(row.vec);
    const y = this.classIndex.get(row.label)!;
    this.scale *= 1 - eta * l2;
    if (this.scale < 1e-6) this.rescale();
    const C = p.length;
    const step = this.step;
    for (let c = 0; c < C; c++) {
      const grad = (p[c] - (c === y ? 1 : 0)) * weight;
      step[c] = (-eta * grad) / this.scale;
      this.bias[c] -= eta * biasRate * grad;
    }
    const w = this.w;
    for (let g = 0; g < row.vec.length; g++) {
      const off = this.offsets[g];
      if (off < 0) continue;
      const { idx, val } = row.vec[g];
      const gs = this.groupScale[g];
      for (let i = 0; i < idx.length; i++) {
        const base = (off + idx[i]) * C;
        const x = val[i] * gs;
        for (let c = 0; c < C; c++) w[base + c] += step[c] * x;
      }
    }
  }

  private logits(vec: FeatureVector): Float64Array {
    const C = this.classList.length;
    const out = new Float64Array(C);
    const w = this.w;
    for (let g = 0; g < vec.length; g++) {
      const off = this.offsets[g];
      if (off < 0) continue;
      const { idx, val } = vec[g];
      const gs = this.groupScale[g];
      for (let i = 0; i < idx.length; i++) {
        const base = (off + idx[i]) * C;
        const x = val[i] * gs;
        for (let c = 0; c < C; c++) out[c] += w[base + c] * x;
      }
    }
    for (let c = 0; c < C; c++) out[c] = out[c] * this.scale + this.bias[c];
    return out;
  }

  private rescale(): void {
    for (let i = 0; i < this.w.length; i++) this.w[i] *= this.scale;
    this.scale = 1;
  }
}
