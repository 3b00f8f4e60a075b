import {
  type AssociationConfig,
  defaultAssociationConfig,
  effectiveUnseenWeights,
  effectiveWeights,
  FEATURE_GROUPS,
  type FeatureGroup,
} from './config.js';
import { loadEmbeddings } from './embedding-source.js';
import {
  absentGroups,
  type ApiDescription,
  EMPTY_BLOCK,
  type FeatureVector,
  Featurizer,
  type TokenDoc,
  tokenize,
} from './features.js';
import { addCallersReason, addNamedReason, MAX_BECAUSE, sharedTokens } from './explain.js';
import { namedClasses } from './label-names.js';
import { NestedCounts } from './nested-counts.js';
import { blendClassMix, type PeerEvidence, type Peers, purity, ServiceClassMix } from './peer-mix.js';
import { hostTokens, internalHostName } from './tokens.js';
import { SOFTMAX_MAX_CLASSES, SoftmaxScorer } from './softmax-scorer.js';
import type { WordEmbeddings } from './word-embeddings.js';
import { blockDistance, classProbabilities, voteWeights } from './knn-math.js';
import { PackedVectors } from './packed-vectors.js';
import {
  capByGroup,
  type GroupCap,
  KdTreeIndex,
  type Neighbour,
  type NeighbourIndex,
  SparseIndex,
} from './neighbour-index.js';

export const UNASSIGNED = 'unassigned';

/** classes explained per dimension (the most probable among the neighbours'), and neighbours read per class */
const BECAUSE_CLASSES = 3;
const BECAUSE_NEIGHBOURS = 3;
/** training APIs searched from by warm(), each as a known and an unseen provider's query */
const WARM_SEARCHES = 8;
const EMBEDDING_GROUP = FEATURE_GROUPS.indexOf('embedding');

export type Labels = Record<string, string>;

export interface LabelPrediction {
  /** the predicted class, or `unassigned` when the probability is below min_confidence */
  value: string;
  probability: number;
  /** ids of the neighbours that voted, nearest first */
  neighbours: string[];
  /** the best class when value is `unassigned` */
  candidate?: string;
  /** APIs of the same unseen provider (this one included) whose class probabilities were averaged (pool_unseen_provider) */
  pooled?: number;
  /**
   * why: the API's tokens its nearest neighbours of the class (value, or candidate) share, those that bring them
   * closest first (`word refund`, `host stripe.com`; explain.ts)
   */
  because?: string[];
}

/** one dimension's class probabilities (before the review decision), with the neighbours' labels and ids */
export interface DimensionEvidence {
  probs: Map<string, number>;
  labels: string[];
  neighbours: string[];
  /** the explanation (LabelPrediction.because) of each of the most probable classes among the neighbours' */
  because?: Map<string, string[]>;
  /**
   * of those classes, the ones with no evidence at all: no token shared with their nearest neighbours (not even a
   * common one) and not the known provider's; such a class is never assigned, only a candidate for review
   */
  unsupported?: Set<string>;
  /** the classes the API's own words name (label_name_prior; an unseen provider's API), weighed when decided */
  named?: string[];
}

/** what the model found for one API: per dimension its evidence (null without neighbours or classes) */
export interface ApiEvidence {
  /** providerOf the API (`@domain`, `~service`, `#` without either) */
  provider: string;
  /** whether the provider had live training APIs when the evidence was taken */
  seen: boolean;
  dims: Map<string, DimensionEvidence | null>;
}

/** an API of an unseen named provider (an API with neither host nor service is its own provider) */
export function poolable(e: ApiEvidence): boolean {
  return !e.seen && namedProvider(e.provider);
}

/** the evidence of a batch's APIs of unseen providers, by provider (the siblings `SmartKnn.decide` may pool) */
export function unseenProviderGroups(evidence: readonly ApiEvidence[]): Map<string, ApiEvidence[]> {
  const groups = new Map<string, ApiEvidence[]>();
  for (const e of evidence) {
    if (!poolable(e)) continue;
    const g = groups.get(e.provider);
    if (g) g.push(e);
    else groups.set(e.provider, [e]);
  }
  return groups;
}

/**
 * a query's feature vector and the token groups it lacks (their blocks left empty; see SmartKnn.queryVector), with
 * the API it describes (its callers: peer_prior)
 */
interface QueryVector {
  doc: TokenDoc;
  vec: FeatureVector;
  absent: number[];
  api: ApiDescription;
}

export interface TrainingItem {
  id: string;
  api: ApiDescription;
  labels: Labels;
}

interface Row {
  id: string;
  labels: Labels;
  live: boolean;
  /** registrable domain of the first host, `#id` without host (max_per_provider, prior_by providers) */
  provider: string;
  /** the provider's number in providerIds (the group of the neighbour caps) */
  providerId: number;
  /** the API's service (what a caller's name says: peer_prior) */
  service?: string;
}

/**
 * the most probable class (ties to the class met first among the neighbours, the nearest); `unassigned` with it as
 * candidate below min_confidence
 */
function decideClass(
  probs: Map<string, number>,
  labels: readonly string[],
  neighbours: string[],
  minConfidence: number,
): LabelPrediction {
  let best = labels[0];
  let bestP = probs.get(best) ?? 0;
  for (const [c, p] of probs) {
    if (
      p > bestP + 1e-12 ||
      (Math.abs(p - bestP) <= 1e-12 && labels.indexOf(c) !== -1 && labels.indexOf(c) < labels.indexOf(best))
    ) {
      best = c;
      bestP = p;
    }
  }
  if (bestP < minConfidence) return { value: UNASSIGNED, probability: bestP, neighbours, candidate: best };
  return { value: best, probability: bestP, neighbours };
}

/**
 * who provides an API: the registrable domain of its first host with one (`@adyen.com`); for an API whose hosts name
 * none (a mesh's internal names such as `orders.shop.svc.cluster.local`, `*.internal`, or no host) its service
 * (`~orders`: the mesh's service names are stable where its host names vary, `orders`, `orders.shop`, `orders:8080`),
 * else its first internal host name (`~seldon.local`; not a documentation placeholder such as `api.example.com`,
 * loopback or an address); an API with none of these is its own provider (`#id`)
 */
export function providerOf(api: ApiDescription, id: string): string {
  for (const h of api.hosts ?? []) {
    const t = hostTokens(h)[0];
    if (t?.startsWith('@')) return t;
  }
  const service = api.service?.trim().toLowerCase();
  if (service) return `~${service}`;
  for (const h of api.hosts ?? []) {
    const name = internalHostName(h);
    if (name) return `~${name}`;
  }
  return `#${id}`;
}

/** whether a provider is named (a domain, an internal service or host), not an API of its own (`#id`) */
export function namedProvider(provider: string): boolean {
  return provider.startsWith('@') || provider.startsWith('~');
}

/**
 * The smart association model: kNN over a weighted Euclidean distance on hashed TF-IDF feature groups, neighbour
 * votes weighted by distance, and smoothed class probabilities, one prediction per label dimension.
 * Incremental: confirm() adds (or relabels) an API in the training set.
 */
export class SmartKnn {
  readonly config: AssociationConfig;
  private featurizer: Featurizer;
  private rows: Row[] = [];
  /** the training rows' vectors, packed (row r of the model is their row r) */
  private vectors: PackedVectors;
  private byId = new Map<string, number>();
  private classes = new Map<string, Set<string>>();
  /** training APIs per class, per dimension */
  private classCounts = new Map<string, Map<string, number>>();
  /** training APIs per provider, per class, per dimension (prior_by providers) */
  private readonly classProviders = new NestedCounts();
  /** training APIs per service, per class, per dimension (peer_prior) */
  private readonly serviceMix = new ServiceClassMix();
  private index: NeighbourIndex | null = null;
  /** the linear half of the blend per dimension (built on first use; null: linear_blend 0 or too many classes) */
  private scorers = new Map<string, SoftmaxScorer | null>();
  /** a number per provider ever seen, and its live training rows (unseen_provider_cap) */
  private providerIds = new Map<string, number>();
  private providerLiveRows: number[] = [];
  private readonly providerGroup = (row: number): number => this.rows[row].providerId;
  private changes = 0;
  /** per-feature weights of each group (known-provider queries) */
  readonly featureWeights: Float64Array;
  /** the same for queries of an unseen provider (unseen_provider_weights; the same array when equal) */
  readonly unseenFeatureWeights: Float64Array;
  /** word vectors of the embedding group (shared by every model of the process), null when off or absent */
  readonly embeddings: WordEmbeddings | null;

  constructor(config: Partial<AssociationConfig> = {}) {
    this.config = { ...defaultAssociationConfig, ...config };
    this.vectors = new PackedVectors(FEATURE_GROUPS.length, [EMBEDDING_GROUP], this.config.dims_per_group);
    const wanted = effectiveWeights(this.config).embedding + effectiveUnseenWeights(this.config).embedding > 0;
    this.embeddings = wanted ? loadEmbeddings(this.config.word_embeddings) : null;
    const has = this.embeddings !== null;
    // every block has unit norm (or is empty), so W_g / dims_per_group gives each group the share W_g of D^2 whatever
    // its length (the embedding block has 100 coordinates, the hashed blocks dims_per_group)
    const perFeature = (w: Record<FeatureGroup, number>) =>
      Float64Array.from(FEATURE_GROUPS, (g) => w[g] / this.config.dims_per_group);
    this.featureWeights = perFeature(effectiveWeights(this.config, has));
    const unseen = perFeature(effectiveUnseenWeights(this.config, has));
    this.unseenFeatureWeights = unseen.every((x, i) => x === this.featureWeights[i]) ? this.featureWeights : unseen;
    this.featurizer = new Featurizer(this.config.dims_per_group, this.embeddings);
  }

  get size(): number {
    return this.byId.size;
  }

  /** changes with every fit() and confirm(): evidence taken at another version may be stale */
  get version(): number {
    return this.changes;
  }

  get indexKind(): 'kdtree' | 'sparse' {
    return this.wantedIndexKind();
  }

  /** replace the training set; document frequencies are computed over it */
  fit(items: readonly TrainingItem[]): void {
    this.changes++;
    this.featurizer = new Featurizer(this.config.dims_per_group, this.embeddings);
    this.rows = [];
    this.vectors = new PackedVectors(FEATURE_GROUPS.length, [EMBEDDING_GROUP], this.config.dims_per_group);
    this.byId.clear();
    this.classes.clear();
    this.classCounts.clear();
    this.classProviders.clear();
    this.serviceMix.clear();
    this.providerIds.clear();
    this.providerLiveRows = [];
    this.index = null;
    this.scorers.clear();
    const docs = items.map((it) => tokenize(it.api));
    this.featurizer.addDocuments(docs);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      this.addRow(it.id, this.featurizer.vectorize(docs[i]), it.labels, providerOf(it.api, it.id), it.api.service);
    }
  }

  /**
   * add a confirmed API (or correct the labels of a known one). Its tokens count in the document frequencies (and its
   * mean word vector in the embedding centre) from now on; vectors already indexed keep the IDF and centre they were
   * built with (refit with fit() to recompute).
   */
  confirm(id: string, api: ApiDescription, labels: Labels): void {
    this.changes++;
    const old = this.byId.get(id);
    if (old !== undefined) {
      const row = this.rows[old];
      row.live = false;
      this.providerLiveRows[row.providerId]--;
      for (const [dim, v] of Object.entries(row.labels)) {
        const counts = this.classCounts.get(dim)!;
        counts.set(v, (counts.get(v) ?? 1) - 1);
        this.classProviders.add(dim, v, row.provider, -1);
        this.serviceMix.add(row.service, dim, v, -1);
      }
    }
    const doc = tokenize(api);
    this.featurizer.addDocument(doc);
    const row = this.addRow(id, this.featurizer.vectorize(doc), labels, providerOf(api, id), api.service);
    // a relabelled API cannot be unlearnt: the scorers are rebuilt on next use; a new one is learnt in place
    if (old !== undefined) this.scorers.clear();
    else for (const dim of Object.keys(this.rows[row].labels)) this.learn(dim, row);
  }

  vectorize(api: ApiDescription): FeatureVector {
    return this.featurizer.vectorize(tokenize(api));
  }

  /**
   * build now what the first prediction would (the neighbour index, the linear scorer of every dimension): at start-up
   * rather than on the first API met in traffic (100,000 entries: seconds)
   */
  warm(): void {
    this.ensureIndex();
    for (const dim of this.classes.keys()) this.scorer(dim);
    this.warmSearch();
  }

  /**
   * a few neighbour searches from training APIs' own vectors, as a known provider's query and as an unseen one's (its
   * cap and weight profile): the search's code is compiled before the first APIs met in traffic rather than on them
   * (at 100,000 entries the first queries were the slowest, the tail of the latency). Changes nothing in the model
   */
  private warmSearch(): void {
    const n = Math.min(WARM_SEARCHES, this.rows.length);
    for (let i = 0; i < n; i++) {
      const r = Math.floor((i * this.rows.length) / n);
      for (const provider of [this.rows[r].provider, undefined]) {
        const { groupCap, profile } = this.queryPolicy(provider);
        this.neighbours(this.vectors.vector(r), this.config.k, () => true, groupCap, profile);
      }
    }
  }

  /** one prediction per label dimension (all known dimensions unless `dims` is given) */
  predict(api: ApiDescription, dims?: readonly string[]): Record<string, LabelPrediction> {
    return this.decide(this.evidence(api, dims));
  }

  /**
   * one prediction per API of a batch (the associate command, the endpoints an API-discovery shard met). With
   * pool_unseen_provider, the APIs of one provider that has no training API are associated together: each gets the
   * mean of their class probabilities (see `decide`)
   */
  predictBatch(apis: readonly ApiDescription[], dims?: readonly string[]): Record<string, LabelPrediction>[] {
    const evidence = apis.map((api) => this.evidence(api, dims));
    const groups = unseenProviderGroups(evidence);
    return evidence.map((e) => this.decide(e, groups.get(e.provider)));
  }

  /** the class probabilities of an API per dimension, before the review decision (predict = decide(evidence)) */
  evidence(api: ApiDescription, dims?: readonly string[]): ApiEvidence {
    return this.evidenceOf(this.queryVector(api), providerOf(api, ''), dims);
  }

  /**
   * an API's vector as a query: with query_absent_groups `ignore`, the blocks of the attributes it lacks that its
   * source could not show (`unobserved`: an endpoint seen in traffic has no description or tags) are left empty
   * (listed in `absent`), so they say nothing of its distance to a training API, rather than drawing it to the
   * training APIs that lack them too
   */
  private queryVector(api: ApiDescription): QueryVector {
    const doc = tokenize(api);
    const vec = this.featurizer.vectorize(doc);
    if (this.config.query_absent_groups === 'match') return { doc, vec, absent: [], api };
    const absent = absentGroups(doc, api.unobserved);
    for (const g of absent) vec[g] = EMPTY_BLOCK;
    return { doc, vec, absent, api };
  }

  /**
   * the prediction of each dimension of `own`. With pool_unseen_provider, an API of an unseen named provider (see
   * providerOf; not one that is its own provider) takes the mean of its class probabilities and those of the `siblings` given (other
   * APIs of the same unseen provider; others are ignored), and says how many it pooled; its neighbours stay its own
   */
  decide(own: ApiEvidence, siblings: readonly ApiEvidence[] = []): Record<string, LabelPrediction> {
    const minConfidence = own.seen
      ? this.config.min_confidence
      : Math.max(this.config.min_confidence, this.config.unseen_provider_min_confidence);
    const pool = poolable(own) ? siblings.filter((s) => s !== own && s.provider === own.provider && !s.seen) : [];
    const out: Record<string, LabelPrediction> = {};
    for (const [dim, ev] of own.dims) {
      if (!ev) {
        out[dim] = { value: UNASSIGNED, probability: 0, neighbours: [] };
        continue;
      }
      const others = this.config.pool_unseen_provider
        ? pool.flatMap((s) => {
            const x = s.dims.get(dim);
            return x ? [x.probs] : [];
          })
        : [];
      let p: LabelPrediction;
      if (others.length === 0)
        p = decideClass(this.weighNamed(ev.probs, ev.named), ev.labels, ev.neighbours, minConfidence);
      else {
        const mean = new Map(ev.probs);
        for (const probs of others) for (const [c, x] of probs) mean.set(c, (mean.get(c) ?? 0) + x);
        for (const [c, x] of mean) mean.set(c, x / (others.length + 1));
        p = {
          ...decideClass(this.weighNamed(mean, ev.named), ev.labels, ev.neighbours, minConfidence),
          pooled: others.length + 1,
        };
      }
      const because = ev.because?.get(p.candidate ?? p.value);
      // a class that only the catalogue's class mix put first (an API sharing nothing with its neighbours: in a
      // small catalogue the vote weights spread 1 to 0 over near-equal distances) goes to review, whatever its
      // probability; pooled, the siblings' evidence counts
      if (others.length === 0 && p.value !== UNASSIGNED && !because?.length && ev.unsupported?.has(p.value)) {
        out[dim] = { ...p, value: UNASSIGNED, candidate: p.value };
        continue;
      }
      out[dim] = because?.length ? { ...p, because } : p;
    }
    return out;
  }

  private evidenceOf(query: QueryVector, provider: string | undefined, dims?: readonly string[]): ApiEvidence {
    const { vec } = query;
    const { groupCap, profile, seen } = this.queryPolicy(provider);
    const out: ApiEvidence = { provider: provider ?? '', seen, dims: new Map() };
    for (const dim of dims ?? [...this.classes.keys()]) {
      const classes = this.classes.get(dim);
      if (!classes) {
        out.dims.set(dim, null);
        continue;
      }
      const accept = (r: number) => this.rows[r].labels[dim] !== undefined;
      const nb = this.withoutAbsent(this.neighbours(vec, this.config.k, accept, groupCap, profile), query, profile);
      const probs = this.knnProbabilities(nb, dim, classes);
      if (probs) {
        this.blendLinear(probs.probs, vec, dim);
        if (seen && provider !== undefined) this.blendProviderMix(probs.probs, provider, dim, classes);
        const named = seen || !(this.config.label_name_prior > 0) ? [] : namedClasses(query.doc, classes);
        if (named.length) probs.named = named;
        const callers = seen ? undefined : this.blendPeerMix(probs.probs, query.api, dim, classes);
        const explained = this.explain(query, nb, probs, profile, seen ? provider : undefined, dim);
        probs.because = explained.because;
        if (explained.unsupported.size) probs.unsupported = explained.unsupported;
        if (named.length) addNamedReason(probs.because, named);
        if (callers) addCallersReason(probs.because, callers);
      }
      out.dims.set(dim, probs);
    }
    return out;
  }

  /**
   * the k nearest live training rows accepted by `accept`, nearest first; with `provider` (providerOf of the query),
   * the neighbour caps and weight profile a prediction for that provider would use
   */
  nearest(
    vec: FeatureVector,
    k: number,
    accept: (row: number) => boolean = () => true,
    provider?: string,
  ): { id: string; distance: number }[] {
    const { groupCap, profile } = this.explicitPolicy(provider);
    return this.neighbours(vec, k, accept, groupCap, profile).map((n) => ({
      id: this.rows[n.row].id,
      distance: n.distance,
    }));
  }

  /** exhaustive search (no index), for benchmarks and recall checks; `provider` as for nearest() */
  nearestBruteForce(vec: FeatureVector, k: number, provider?: string): { id: string; distance: number }[] {
    const { groupCap, weights } = this.explicitPolicy(provider);
    const all: Neighbour[] = [];
    this.rows.forEach((r, i) => {
      if (r.live) all.push({ row: i, distance: blockDistance(vec, this.vectors.vector(i), weights) });
    });
    all.sort((a, b) => a.distance - b.distance || a.row - b.row);
    const out = groupCap ? capByGroup(all, k, groupCap) : all.slice(0, k);
    return out.map((n) => ({ id: this.rows[n.row].id, distance: n.distance }));
  }

  /** the exact distance from a vector to a training API (recall checks); `provider` as for nearest() */
  distanceTo(vec: FeatureVector, id: string, provider?: string): number {
    const row = this.byId.get(id);
    const { weights } = this.explicitPolicy(provider);
    return row === undefined ? Number.POSITIVE_INFINITY : blockDistance(vec, this.vectors.vector(row), weights);
  }

  /** queryPolicy for an explicit provider (none: no cap, the known-provider profile), with that profile's weights */
  private explicitPolicy(provider: string | undefined): {
    groupCap?: GroupCap;
    profile: number;
    weights: Float64Array;
  } {
    const { groupCap, profile } =
      provider === undefined ? { groupCap: undefined, profile: 0 } : this.queryPolicy(provider);
    return { groupCap, profile, weights: this.weightsOf(profile) };
  }

  /**
   * the class mix of the catalogued APIs of an API's callers in a dimension (peer_prior; `self`, the API's own
   * service, left out), null when none of them has one
   */
  peerEvidence(dim: string, peers: Peers, self?: string): PeerEvidence | null {
    return this.serviceMix.evidence(dim, peers, self);
  }

  /**
   * the neighbours allowed per provider (max_per_provider, and unseen_provider_cap when the query's provider has no
   * live training API; undefined = no cap), the weight profile (1 = unseen_provider_weights for such a query) and
   * whether the provider has live training APIs (seen)
   */
  private queryPolicy(provider: string | undefined): { groupCap?: GroupCap; profile: number; seen: boolean } {
    const caps: number[] = [];
    if (this.config.max_per_provider > 0) caps.push(this.config.max_per_provider);
    const id = provider === undefined ? undefined : this.providerIds.get(provider);
    const seen = id !== undefined && this.providerLiveRows[id] > 0;
    if (!seen && this.config.unseen_provider_cap > 0) caps.push(this.config.unseen_provider_cap);
    const profile = !seen && this.unseenFeatureWeights !== this.featureWeights ? 1 : 0;
    return {
      groupCap: caps.length === 0 ? undefined : { of: this.providerGroup, cap: Math.min(...caps) },
      profile,
      seen,
    };
  }

  /** the per-feature weights of a weight profile (0: known-provider queries, 1: unseen_provider_weights) */
  private weightsOf(profile: number): Float64Array {
    return profile === 0 ? this.featureWeights : this.unseenFeatureWeights;
  }

  private neighbours(
    vec: FeatureVector,
    k: number,
    accept: (row: number) => boolean,
    groupCap?: GroupCap,
    profile = 0,
  ): Neighbour[] {
    const index = this.ensureIndex();
    return index.nearest(vec, k, (r) => this.rows[r].live && accept(r), groupCap, profile);
  }

  /**
   * LabelPrediction.because of the BECAUSE_CLASSES most probable classes among the neighbours' (the decision, pooled,
   * may pick one of them; another has none): from each class's nearest BECAUSE_NEIGHBOURS neighbours, after the
   * known provider (`provider stripe.com`, `service orders`) when it has training APIs of the class (provider_prior)
   */
  private explain(
    query: QueryVector,
    nb: Neighbour[],
    ev: Pick<DimensionEvidence, 'probs' | 'labels'>,
    profile: number,
    knownProvider: string | undefined,
    dim: string,
  ): { because: Map<string, string[]>; unsupported: Set<string> } {
    const weights = this.weightsOf(profile);
    const classes = [...new Set(ev.labels)]
      .sort((a, b) => (ev.probs.get(b) ?? 0) - (ev.probs.get(a) ?? 0))
      .slice(0, BECAUSE_CLASSES);
    const out = new Map<string, string[]>();
    const unsupported = new Set<string>();
    // the provider's own name and labels say what `provider …` / `service …` says
    const name = knownProvider?.slice(1) ?? '';
    const skipHost = new Set(name ? hostTokens(name).map((t) => (t.startsWith('@') ? t.slice(1) : t)) : []);
    for (const c of classes) {
      const rows = nb.filter((_, j) => ev.labels[j] === c).slice(0, BECAUSE_NEIGHBOURS);
      const vectors = rows.map((n) => this.vectors.vector(n.row));
      const dims = this.config.dims_per_group;
      const why = sharedTokens(
        query.doc,
        query.vec,
        vectors,
        weights,
        dims,
        (g, b) => this.featurizer.dfRatio(g, b),
        skipHost,
      );
      const own =
        knownProvider !== undefined &&
        this.config.provider_prior > 0 &&
        (this.classProviders.get(dim, c)?.get(knownProvider) ?? 0) > 0;
      if (own) why.unshift(knownProvider.startsWith('~') ? `service ${name}` : `provider ${name}`);
      if (why.length > 0) out.set(c, why.slice(0, MAX_BECAUSE));
      // nothing worth naming: is anything shared at all, however common?
      else if (sharedTokens(query.doc, query.vec, vectors, weights, dims, () => 0).length === 0) unsupported.add(c);
    }
    return { because: out, unsupported };
  }

  /**
   * the neighbours' distances over the groups the query has: an empty query block adds the row's |x_g|^2 (1: every
   * hashed block has unit norm) times the group's weight to every D^2, the same for all rows, so the order stands
   * and only that constant is taken off (the vote weights depend on the distances' differences)
   */
  private withoutAbsent(nb: Neighbour[], query: QueryVector, profile: number): Neighbour[] {
    if (query.absent.length === 0) return nb;
    const weights = this.weightsOf(profile);
    let c = 0;
    for (const g of query.absent) c += weights[g];
    return nb.map((n) => ({ row: n.row, distance: Math.sqrt(Math.max(0, n.distance * n.distance - c)) }));
  }

  /** the smoothed kNN probability of every class, with the neighbours' labels and ids; null without neighbours */
  private knnProbabilities(nb: Neighbour[], dim: string, classes: Set<string>): DimensionEvidence | null {
    if (nb.length === 0) return null;
    const labels = nb.map((n) => this.rows[n.row].labels[dim]);
    const weights = voteWeights(nb.map((n) => n.distance));
    if (this.config.prior_correction > 0) this.correctForPriors(labels, weights, dim);
    const probs = classProbabilities(labels, weights, classes, this.config.smoothing);
    return { probs, labels, neighbours: nb.map((n) => this.rows[n.row].id) };
  }

  /** (1 - b) x P_knn + b x P_linear, in place (linear_blend b; nothing when the dimension has no scorer) */
  private blendLinear(probs: Map<string, number>, vec: FeatureVector, dim: string): void {
    const scorer = this.scorer(dim);
    if (!scorer) return;
    const b = this.config.linear_blend;
    const linear = scorer.probabilities(vec);
    for (const [c, p] of probs) probs.set(c, (1 - b) * p);
    scorer.classes.forEach((c, i) => {
      probs.set(c, (probs.get(c) ?? 0) + b * linear[i]);
    });
  }

  /**
   * (1 - λ') x P + λ' x (n_pi + s) / (n_p + C s), in place: n_pi the provider's live training APIs of class i, n_p
   * its APIs labelled in the dimension, s the smoothing, C the classes; λ' = provider_prior x purity², purity the
   * share of the provider's largest class (a provider whose APIs span many clusters, such as an enterprise's own
   * domain, leans little). Nothing when provider_prior is 0 or the provider has no API labelled in the dimension
   */
  private blendProviderMix(probs: Map<string, number>, provider: string, dim: string, classes: Set<string>): void {
    const byClass = this.classProviders.of(dim);
    if (this.config.provider_prior <= 0 || !byClass) return;
    const mix = new Map<string, number>();
    let n = 0;
    for (const c of classes) {
      const k = byClass.get(c)?.get(provider) ?? 0;
      if (k === 0) continue;
      mix.set(c, k);
      n += k;
    }
    if (n === 0) return;
    const s = this.config.smoothing;
    const denominator = n + classes.size * s;
    const lambda = this.config.provider_prior * purity(mix) ** 2;
    blendClassMix(probs, (c) => ((mix.get(c) ?? 0) + s) / denominator, lambda, classes);
  }

  /**
   * the probabilities with the classes the API's own words name (DimensionEvidence.named; label_name_prior β)
   * weighing e^β times more, rescaled to their previous sum; the same map when none is named. After pooling, so the
   * API's own words count in full
   */
  private weighNamed(probs: Map<string, number>, named: readonly string[] | undefined): Map<string, number> {
    if (!named?.length) return probs;
    const boost = Math.exp(this.config.label_name_prior);
    const out = new Map<string, number>();
    let before = 0;
    let after = 0;
    for (const [c, p] of probs) {
      const q = named.includes(c) ? p * boost : p;
      out.set(c, q);
      before += p;
      after += q;
    }
    if (after > 0) for (const [c, q] of out) out.set(c, (q * before) / after);
    return out;
  }

  /**
   * (1 - λ') x P + λ' x Q, in place, for an API of an unseen provider with callers (peer_prior of the dimension): Q
   * the class mix of its callers' catalogued APIs, λ' = peer_prior x the callers' reliability in the estate x
   * purity² x the callers' summed weights (at most 1). Returns the callers' evidence, for the explanation; undefined
   * when nothing was blended
   */
  private blendPeerMix(
    probs: Map<string, number>,
    { peers, peerReliability, service }: ApiDescription,
    dim: string,
    classes: Set<string>,
  ): PeerEvidence | undefined {
    const strength = (this.config.peer_prior[dim] ?? 0) * (peerReliability?.[dim] ?? 0);
    if (!(strength > 0) || !peers) return undefined;
    const ev = this.serviceMix.evidence(dim, peers, service);
    if (!ev) return undefined;
    const lambda = strength * purity(ev.mix) ** 2 * Math.min(1, ev.mass);
    blendClassMix(probs, (c) => ev.mix.get(c) ?? 0, lambda, classes);
    return ev;
  }

  /** the dimension's scorer, trained on its live rows on first use */
  private scorer(dim: string): SoftmaxScorer | null {
    if (this.config.linear_blend <= 0) return null;
    let scorer = this.scorers.get(dim);
    if (scorer !== undefined) return scorer;
    scorer = null;
    if ((this.classes.get(dim)?.size ?? 0) <= SOFTMAX_MAX_CLASSES) {
      const sizes = FEATURE_GROUPS.map((g) =>
        g === 'embedding' ? (this.embeddings?.dims ?? 0) : this.config.dims_per_group,
      );
      const weights = effectiveWeights(this.config, this.embeddings !== null);
      scorer = new SoftmaxScorer(
        FEATURE_GROUPS.map((g) => weights[g]),
        sizes,
      );
      const rows = [];
      for (let r = 0; r < this.rows.length; r++) {
        const { live, labels, providerId } = this.rows[r];
        if (live && labels[dim] !== undefined)
          rows.push({ vec: this.vectors.vector(r), label: labels[dim], provider: providerId });
      }
      scorer.train(rows);
    }
    this.scorers.set(dim, scorer);
    return scorer;
  }

  /** a confirmed row joins the dimension's scorer when one is built (a class past the limit drops it) */
  private learn(dim: string, row: number): void {
    const scorer = this.scorers.get(dim);
    if (!scorer) return;
    if (scorer.classes.length >= SOFTMAX_MAX_CLASSES && !scorer.classes.includes(this.rows[row].labels[dim])) {
      this.scorers.set(dim, null);
      return;
    }
    scorer.add({
      vec: this.vectors.vector(row),
      label: this.rows[row].labels[dim],
      provider: this.rows[row].providerId,
    });
  }

  /**
   * scales votes by (p_class / n_class)^alpha (prior_by providers) or (n_max / n_class)^alpha (definitions), keeping
   * their total
   */
  private correctForPriors(labels: string[], weights: number[], dim: string): void {
    const counts = this.classCounts.get(dim);
    if (!counts) return;
    const providers = this.config.prior_by === 'providers' ? this.classProviders.of(dim) : undefined;
    let nMax = 1;
    if (!providers) for (const n of counts.values()) nMax = Math.max(nMax, n);
    let before = 0;
    let after = 0;
    for (let j = 0; j < weights.length; j++) {
      const n = Math.max(1, counts.get(labels[j]) ?? 1);
      const target = providers ? Math.max(1, providers.get(labels[j])?.size ?? 1) : nMax;
      before += weights[j];
      weights[j] *= (target / n) ** this.config.prior_correction;
      after += weights[j];
    }
    if (after > 0) for (let j = 0; j < weights.length; j++) weights[j] *= before / after;
  }

  private addRow(id: string, vec: FeatureVector, labels: Labels, provider: string, service?: string): number {
    const row = this.rows.length;
    const clean: Labels = {};
    for (const [dim, v] of Object.entries(labels)) {
      if (typeof v !== 'string' || v === '' || v === UNASSIGNED) continue;
      clean[dim] = v;
      let set = this.classes.get(dim);
      if (!set) {
        set = new Set();
        this.classes.set(dim, set);
      }
      set.add(v);
      let counts = this.classCounts.get(dim);
      if (!counts) {
        counts = new Map();
        this.classCounts.set(dim, counts);
      }
      counts.set(v, (counts.get(v) ?? 0) + 1);
      this.classProviders.add(dim, v, provider);
      this.serviceMix.add(service, dim, v);
    }
    let providerId = this.providerIds.get(provider);
    if (providerId === undefined) {
      providerId = this.providerLiveRows.length;
      this.providerIds.set(provider, providerId);
      this.providerLiveRows.push(0);
    }
    this.providerLiveRows[providerId]++;
    this.rows.push({ id, labels: clean, live: true, provider, providerId, service });
    this.vectors.add(vec);
    this.byId.set(id, row);
    if (this.index && this.index.kind === this.wantedIndexKind()) this.index.add(row, vec);
    else this.index = null;
    return row;
  }

  private wantedIndexKind(): 'kdtree' | 'sparse' {
    if (this.config.index !== 'auto') return this.config.index;
    return this.byId.size <= this.config.kdtree_max_entries ? 'kdtree' : 'sparse';
  }

  private ensureIndex(): NeighbourIndex {
    if (this.index) return this.index;
    const profiles =
      this.unseenFeatureWeights === this.featureWeights
        ? [this.featureWeights]
        : [this.featureWeights, this.unseenFeatureWeights];
    const index: NeighbourIndex =
      this.wantedIndexKind() === 'kdtree'
        ? new KdTreeIndex(this.config.dims_per_group, profiles)
        : new SparseIndex(
            profiles,
            this.config.index === 'sparse' ? 1 : this.config.prune_df_ratio,
            [EMBEDDING_GROUP],
            this.vectors,
          );
    this.vectors.compact();
    this.rows.forEach((r, i) => {
      if (r.live) index.add(i, this.vectors.vector(i));
    });
    index.compact?.();
    this.index = index;
    return index;
  }

  /** the neighbour index (its posting lists; the rows' vectors are vectorMemoryBytes) */
  memoryBytes(): number {
    return this.ensureIndex().memoryBytes();
  }

  /** the training rows' packed vectors (read by the index, the scorer and the explanations) */
  vectorMemoryBytes(): number {
    return this.vectors.memoryBytes();
  }

  /** the linear scorers built so far (linear_blend) */
  scorerMemoryBytes(): number {
    let n = 0;
    for (const s of this.scorers.values()) n += s?.memoryBytes() ?? 0;
    return n;
  }

  /** training labels of an id (tests, review UI) */
  labelsOf(id: string): Labels | undefined {
    const r = this.byId.get(id);
    return r === undefined ? undefined : { ...this.rows[r].labels };
  }
}
