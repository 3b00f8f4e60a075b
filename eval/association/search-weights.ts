/**
 * Coordinate search of the smart kNN's group weights, k, prior_correction and unseen_provider_cap by cross-validation
 * inside training lines only (never the test ids): the folds of tune.ts (within-style on the within split's training
 * lines, provider-held-out on the new-provider split's), objective the sum of both accuracies and macro-F1s.
 * The per-group squared distances of every held-out definition to every training definition of its fold are computed
 * once, so one configuration costs a weighted sum, a sort and a vote per definition (same formulas as SmartKnn, with
 * the exact neighbour search). Two weight vectors are searched: for held-out definitions of a provider with other
 * definitions in the training folds, and for those of an unseen provider (unseen_provider_weights). It scores the kNN
 * alone (linear_blend 0), one API at a time (pool_unseen_provider false), without the provider's class mix
 * (provider_prior 0) or class names (label_name_prior 0): those are measured afterwards with tune.ts.
 * Usage: node --max-old-space-size=6000 dist/eval/association/search-weights.js [--data <dir>] [--passes 2]
 * [--embeddings auto|off|<cache file>] [--start '<json: weights, unseenWeights (by group name), k, prior, cap>']
 */
import { pathToFileURL } from 'node:url';
import {
  DEFAULT_GROUP_WEIGHTS,
  DEFAULT_UNSEEN_PROVIDER_WEIGHTS,
  defaultAssociationConfig,
  FEATURE_GROUPS,
  type FeatureGroup,
} from '../../pipeline/association/config.js';
import { loadEmbeddings } from '../../pipeline/association/embedding-source.js';
import { Featurizer, squaredNorm, tokenize } from '../../pipeline/association/features.js';
import { voteWeights } from '../../pipeline/association/knn-math.js';
import { providerOf } from '../../pipeline/association/smart-knn.js';
import type { WordEmbeddings } from '../../pipeline/association/word-embeddings.js';
import { defaultDataDir, type GuruApi, type GuruData, guruToDescription, loadGuru } from './data.js';
import { scores } from './metrics.js';
import { FOLD_COUNT, FOLD_SEED, folds, trainingSplits } from './tune.js';

const G = FEATURE_GROUPS.length;

export interface Fold {
  mode: 'within' | 'provider';
  /** squared distance per (held-out, training row, group) */
  d2: Float32Array;
  trainLabel: string[];
  trainProvider: string[];
  held: { truth: string; seen: boolean }[];
  classCount: Map<string, number>;
  classProviders: Map<string, Set<string>>;
}

export interface SearchPoint {
  weights: number[];
  /** group weights for held-out definitions of a provider absent from the training folds (default: weights) */
  unseenWeights?: number[];
  k: number;
  prior: number;
  cap: number;
}

function prepare(
  apis: readonly GuruApi[],
  mode: 'within' | 'provider',
  dims: number,
  embeddings: WordEmbeddings | null,
): Fold[] {
  const descs = new Map(apis.map((a) => [a.id, guruToDescription(a)]));
  const docs = new Map(apis.map((a) => [a.id, tokenize(descs.get(a.id)!)]));
  const provider = new Map(apis.map((a) => [a.id, providerOf(descs.get(a.id)!, a.id)]));
  return folds(apis, mode, FOLD_COUNT[mode], FOLD_SEED).map((heldIds) => {
    const train = apis.filter((a) => !heldIds.has(a.id));
    const held = apis.filter((a) => heldIds.has(a.id));
    const f = new Featurizer(dims, embeddings);
    f.addDocuments(train.map((a) => docs.get(a.id)!));
    const tv = train.map((a) => f.vectorize(docs.get(a.id)!));
    const tn = tv.map((v) => v.map(squaredNorm));
    const postings = FEATURE_GROUPS.map((_, g) => {
      const m = new Map<number, number[]>();
      tv.forEach((v, r) => {
        for (let i = 0; i < v[g].idx.length; i++) {
          const p = m.get(v[g].idx[i]) ?? [];
          p.push(r, v[g].val[i]);
          m.set(v[g].idx[i], p);
        }
      });
      return m;
    });
    const n = train.length;
    const d2 = new Float32Array(held.length * n * G);
    const acc = new Float64Array(n);
    held.forEach((a, q) => {
      const v = f.vectorize(docs.get(a.id)!);
      for (let g = 0; g < G; g++) {
        acc.fill(0);
        for (let i = 0; i < v[g].idx.length; i++) {
          const p = postings[g].get(v[g].idx[i]) ?? [];
          for (let j = 0; j < p.length; j += 2) acc[p[j]] += v[g].val[i] * p[j + 1];
        }
        const qq = squaredNorm(v[g]);
        for (let r = 0; r < n; r++) d2[(q * n + r) * G + g] = Math.max(0, qq + tn[r][g] - 2 * acc[r]);
      }
    });
    const trainProviders = new Set(train.map((a) => provider.get(a.id)!));
    const classCount = new Map<string, number>();
    const classProviders = new Map<string, Set<string>>();
    for (const a of train) {
      const c = a.categories[0];
      classCount.set(c, (classCount.get(c) ?? 0) + 1);
      classProviders.set(c, (classProviders.get(c) ?? new Set()).add(provider.get(a.id)!));
    }
    return {
      mode,
      d2,
      trainLabel: train.map((a) => a.categories[0]),
      trainProvider: train.map((a) => provider.get(a.id)!),
      held: held.map((a) => ({ truth: a.categories[0], seen: trainProviders.has(provider.get(a.id)!) })),
      classCount,
      classProviders,
    };
  });
}

function predictFold(fold: Fold, p: SearchPoint): string[] {
  const n = fold.trainLabel.length;
  const d = new Float64Array(n);
  const order = new Int32Array(n);
  return fold.held.map((h, q) => {
    const gw = !h.seen && p.unseenWeights ? p.unseenWeights : p.weights;
    for (let r = 0; r < n; r++) {
      let x = 0;
      for (let g = 0; g < G; g++) x += gw[g] * fold.d2[(q * n + r) * G + g];
      d[r] = x;
      order[r] = r;
    }
    order.sort((a, b) => d[a] - d[b] || a - b);
    const nb: number[] = [];
    const per = new Map<string, number>();
    for (let i = 0; i < n && nb.length < p.k; i++) {
      const r = order[i];
      if (!h.seen && p.cap > 0) {
        const c = per.get(fold.trainProvider[r]) ?? 0;
        if (c >= p.cap) continue;
        per.set(fold.trainProvider[r], c + 1);
      }
      nb.push(r);
    }
    const labels = nb.map((r) => fold.trainLabel[r]);
    const w = voteWeights(nb.map((r) => Math.sqrt(d[r])));
    let before = 0;
    let after = 0;
    for (let j = 0; j < w.length; j++) {
      before += w[j];
      w[j] *= (fold.classProviders.get(labels[j])!.size / fold.classCount.get(labels[j])!) ** p.prior;
      after += w[j];
    }
    const votes = new Map<string, number>();
    for (let j = 0; j < labels.length; j++) {
      votes.set(labels[j], (votes.get(labels[j]) ?? 0) + (after > 0 ? (w[j] * before) / after : 0));
    }
    let best = labels[0];
    for (const [c, v] of votes) if (v > votes.get(best)! + 1e-12) best = c;
    return best;
  });
}

/**
 * the CV folds of tune.ts with their distances: within-style and provider-held-out, training lines only. Without
 * word embeddings the embedding group's distances are 0
 */
export function prepareFolds(
  data: GuruData,
  dims = defaultAssociationConfig.dims_per_group,
  embeddings: WordEmbeddings | null = null,
): Fold[] {
  const train = trainingSplits(data);
  return [
    ...prepare(train.within, 'within', dims, embeddings),
    ...prepare(train.provider, 'provider', dims, embeddings),
  ];
}

export function evaluatePoint(
  foldsBySplit: Fold[],
  p: SearchPoint,
): Record<'within' | 'provider', { accuracy: number; macroF1: number }> {
  const out = {} as Record<'within' | 'provider', { accuracy: number; macroF1: number }>;
  for (const mode of ['within', 'provider'] as const) {
    const truth: string[] = [];
    const pred: string[] = [];
    for (const f of foldsBySplit.filter((x) => x.mode === mode)) {
      truth.push(...f.held.map((h) => h.truth));
      pred.push(...predictFold(f, p));
    }
    out[mode] = scores(truth, pred);
  }
  return out;
}

const named = (w: number[] | undefined) =>
  w && Object.fromEntries(FEATURE_GROUPS.map((g, i) => [g, w[i]]).filter(([, x]) => x !== 0));
const vector = (w: Partial<Record<FeatureGroup, number>>) => FEATURE_GROUPS.map((g) => w[g] ?? 0);

function main(argv: string[]): void {
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const data = loadGuru(at('--data') ?? defaultDataDir());
  const passes = Number(at('--passes') ?? 2);
  const cfg = defaultAssociationConfig;
  const embeddings = loadEmbeddings(at('--embeddings') ?? cfg.word_embeddings);
  const all = prepareFolds(data, cfg.dims_per_group, embeddings);
  const objective = (r: ReturnType<typeof evaluatePoint>) =>
    r.within.accuracy + r.within.macroF1 + r.provider.accuracy + r.provider.macroF1;
  const show = (p: SearchPoint, r: ReturnType<typeof evaluatePoint>) =>
    `${JSON.stringify({ ...p, weights: named(p.weights), unseenWeights: named(p.unseenWeights) })} within ${r.within.accuracy.toFixed(3)} / ${r.within.macroF1.toFixed(3)}, provider-held-out ${r.provider.accuracy.toFixed(3)} / ${r.provider.macroF1.toFixed(3)}`;
  // start: the defaults, or --start '{"weights": {...}, "unseenWeights": {...}, "k": 30, "prior": 0.25, "cap": 1}'
  const start = JSON.parse(at('--start') ?? '{}') as {
    weights?: Partial<Record<FeatureGroup, number>>;
    unseenWeights?: Partial<Record<FeatureGroup, number>>;
    k?: number;
    prior?: number;
    cap?: number;
  };
  let point: SearchPoint = {
    weights: vector(start.weights ?? DEFAULT_GROUP_WEIGHTS),
    unseenWeights: vector(start.unseenWeights ?? start.weights ?? DEFAULT_UNSEEN_PROVIDER_WEIGHTS),
    k: start.k ?? cfg.k,
    prior: start.prior ?? cfg.prior_correction,
    cap: start.cap ?? cfg.unseen_provider_cap,
  };
  let best = evaluatePoint(all, point);
  process.stdout.write(
    `word embeddings: ${embeddings ? `${embeddings.size} words (${embeddings.source})` : 'off'}\ndefaults: ${show(point, best)}\n`,
  );
  const normalise = (w: number[]) => {
    const s = w.reduce((a, b) => a + b, 0);
    return w.map((x) => Number((x / s).toFixed(4)));
  };
  const tryPoint = (p: SearchPoint) => {
    const r = evaluatePoint(all, p);
    if (objective(r) > objective(best) + 1e-4) {
      best = r;
      point = p;
      process.stdout.write(`better: ${show(p, r)}\n`);
    }
  };
  // the known-provider weights, then those of unseen providers (each only moves the predictions of its queries)
  const scale = (w: number[], g: number, m: number) =>
    normalise(w.map((x, i) => (i !== g ? x : m === 0 ? 0 : Math.max(x, 0.05) * m)));
  for (let pass = 0; pass < passes; pass++) {
    for (const which of ['weights', 'unseenWeights'] as const) {
      for (let g = 0; g < G; g++) {
        if (FEATURE_GROUPS[g] === 'embedding' && !embeddings) continue;
        for (const m of [0, 0.5, 1.5, 2.5]) tryPoint({ ...point, [which]: scale(point[which] ?? point.weights, g, m) });
      }
    }
    for (const k of [20, 30, 40, 60]) {
      for (const prior of [0.15, 0.25, 0.4, 0.5]) for (const cap of [0, 1, 2]) tryPoint({ ...point, k, prior, cap });
    }
  }
  process.stdout.write(`best: ${show(point, best)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
