import { type Static, Type } from '@sinclair/typebox';

/** Feature groups of an API description, each hashed into its own block of the feature vector. */
export const FEATURE_GROUPS = ['name', 'host', 'path', 'params', 'tags', 'text'] as const;
export type FeatureGroup = (typeof FEATURE_GROUPS)[number];

/**
 * Default group weights W_g (sum 1). Each feature i of group g gets w_i = W_g / dims_per_group, so the weights of all
 * features sum to 1 as in D = sqrt(sum_i w_i (x_ir - x_it)^2). Chosen by provider-grouped cross-validation inside the
 * APIs-guru training lines only (eval/association/tune.ts), never on test ids: with k = 15 and prior_correction 0.5,
 * within-style 5-fold CV gave 0.805 accuracy / 0.359 macro-F1 and provider-held-out CV 0.228 / 0.127.
 */
export const DEFAULT_GROUP_WEIGHTS: Record<FeatureGroup, number> = {
  name: 0.05,
  host: 0.3,
  path: 0.05,
  params: 0.05,
  tags: 0.05,
  text: 0.5,
};

export const GroupWeightsSchema = Type.Object(
  {
    name: Type.Number({ minimum: 0, maximum: 1, description: 'title / name tokens' }),
    host: Type.Number({ minimum: 0, maximum: 1, description: 'host, provider and service tokens' }),
    path: Type.Number({ minimum: 0, maximum: 1, description: 'path segment tokens' }),
    params: Type.Number({ minimum: 0, maximum: 1, description: 'parameter and body field names' }),
    tags: Type.Number({ minimum: 0, maximum: 1, description: 'tags of the API and its operations' }),
    text: Type.Number({ minimum: 0, maximum: 1, description: 'descriptions and operation summaries' }),
  },
  { additionalProperties: false },
);

export const AssociationConfigSchema = Type.Object(
  {
    /** neighbours per prediction */
    k: Type.Integer({ minimum: 1, maximum: 200, default: 15 }),
    /** additive smoothing s in P(Y_i|x) = (N_i + s) / (K + C s) */
    smoothing: Type.Number({ minimum: 0, maximum: 10, default: 0.1 }),
    /**
     * below this probability the label is `unassigned` (needs review). With weighted votes the probabilities are
     * modest: with k = 15 and ~35 classes a unanimous neighbourhood scores about 0.4, half of the vote weight ~0.2
     */
    min_confidence: Type.Number({ minimum: 0, maximum: 1, default: 0.2 }),
    /** hashed TF-IDF buckets per feature group */
    dims_per_group: Type.Integer({ minimum: 16, maximum: 65536, default: 1024 }),
    /** per-group weights, summing to 1 (renormalised when they do not) */
    group_weights: Type.Optional(GroupWeightsSchema),
    /**
     * catalogues up to this size are searched exactly with ml-knn's kd-tree; larger ones with the sparse inverted
     * index (exact unless prune_df_ratio < 1)
     */
    kdtree_max_entries: Type.Integer({ minimum: 0, default: 5000 }),
    /**
     * sparse index only, above kdtree_max_entries: posting lists of buckets present in more than this share of
     * entries are skipped at query time (they carry little IDF weight); 1 = exact. Measured at 100,000 entries
     * (bench/association.bench.ts): 0.01 → p50 7.7 ms, recall@15 0.66; 0.05 → p50 39 ms, recall@15 0.86
     */
    prune_df_ratio: Type.Number({ minimum: 0.001, maximum: 1, default: 0.01 }),
    /**
     * extension to the paper: at most this many neighbours from one provider (registrable host domain), so one
     * provider with hundreds of near-identical definitions cannot fill every neighbour slot; 0 = no cap
     */
    max_per_provider: Type.Integer({ minimum: 0, maximum: 200, default: 0 }),
    /**
     * extension to the paper: votes of class i are scaled by (n_max / n_i)^prior_correction (n_i training APIs of
     * the class) and renormalised to the same total before smoothing; 0 = the paper's votes
     */
    prior_correction: Type.Number({ minimum: 0, maximum: 2, default: 0.5 }),
    /** neighbour search: auto (kd-tree up to kdtree_max_entries, then sparse), or forced */
    index: Type.Union([Type.Literal('auto'), Type.Literal('kdtree'), Type.Literal('sparse')], { default: 'auto' }),
  },
  { additionalProperties: false },
);
export type AssociationConfig = Static<typeof AssociationConfigSchema>;

export const defaultAssociationConfig: AssociationConfig = {
  k: 15,
  smoothing: 0.1,
  min_confidence: 0.2,
  dims_per_group: 1024,
  kdtree_max_entries: 5000,
  prune_df_ratio: 0.01,
  max_per_provider: 0,
  prior_correction: 0.5,
  index: 'auto',
};

/** the group weights in effect: defaults when absent, renormalised to sum 1 */
export function effectiveWeights(cfg: Pick<AssociationConfig, 'group_weights'>): Record<FeatureGroup, number> {
  const w = { ...(cfg.group_weights ?? DEFAULT_GROUP_WEIGHTS) };
  let sum = 0;
  for (const g of FEATURE_GROUPS) sum += w[g];
  if (sum <= 0) return { ...DEFAULT_GROUP_WEIGHTS };
  for (const g of FEATURE_GROUPS) w[g] /= sum;
  return w;
}
