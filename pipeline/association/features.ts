import { TOKEN_GROUPS, type TokenGroup } from './config.js';
import { hostTokens, pathTokens, splitIdentifier, stem, textTokens } from './tokens.js';
import type { Peers } from './peer-mix.js';
import type { WordEmbeddings } from './word-embeddings.js';

/** What the association model knows about an API: catalogue entry, OpenAPI document or inventory entry. */
export interface ApiDescription {
  name?: string;
  description?: string;
  hosts?: string[];
  service?: string;
  tags?: string[];
  paths?: string[];
  params?: string[];
  /** operation summaries and other free text */
  summaries?: string[];
  /**
   * token groups its source cannot show (traffic shows no description or tags): as a query, the API's lack of them
   * says nothing of it (query_absent_groups)
   */
  unobserved?: readonly TokenGroup[];
  /** the services that call it in traffic, with the weight of each one's evidence (peer_prior; not a token group) */
  peers?: Peers;
  /**
   * per dimension, how far callers tell the class of what they call in this estate (peerReliability; 0–1): scales
   * peer_prior. A dimension without it takes no evidence from callers
   */
  peerReliability?: Readonly<Record<string, number>>;
}

export type TokenDoc = Record<TokenGroup, string[]>;

/** one L2-normalised block per feature group (config FEATURE_GROUPS): sorted bucket indices and values */
export interface SparseBlock {
  /** Uint16Array for a training row's block (PackedVectors), Int32Array for a query's */
  idx: Int32Array | Uint16Array;
  /** float32 for the dense embedding block (half the memory of 100 doubles per row), float64 for the hashed blocks */
  val: Float64Array | Float32Array;
}
export type FeatureVector = SparseBlock[];

const MAX_PATHS = 300;
const MAX_SUMMARIES = 200;

export function tokenize(api: ApiDescription): TokenDoc {
  const host: string[] = [];
  for (const h of (api.hosts ?? []).slice(0, 8)) host.push(...hostTokens(h));
  if (api.service) host.push(...splitIdentifier(api.service).map(stem));
  const path: string[] = [];
  for (const p of (api.paths ?? []).slice(0, MAX_PATHS)) path.push(...pathTokens(p));
  const params: string[] = [];
  for (const p of (api.params ?? []).slice(0, 2000)) params.push(...splitIdentifier(p).map(stem));
  const tags: string[] = [];
  for (const t of (api.tags ?? []).slice(0, 500)) tags.push(...textTokens(t, 20));
  const text = textTokens(api.description, 200);
  for (const s of (api.summaries ?? []).slice(0, MAX_SUMMARIES)) text.push(...textTokens(s, 40));
  const name = textTokens(api.name, 50);
  // one bag of every word the API uses, whatever the attribute: `weather` in a path meets `weather` in another
  // API's description (the separate groups only match words within one attribute)
  const words = [...name, ...text, ...tags, ...path, ...params];
  const doc: TokenDoc = { name, host, path, params, tags, text, words };
  // an absent attribute is a token of its own, so every block has unit norm: two APIs both lacking tags are at
  // distance 0 in that group, one lacking them is at the full distance (sqrt 2) from any tagged API
  for (const g of TOKEN_GROUPS) if (doc[g].length === 0) doc[g].push(EMPTY_TOKEN);
  return doc;
}

export const EMPTY_TOKEN = '\u0000empty';

/** the numbers of the groups among `groups` in which a document has nothing but EMPTY_TOKEN (attributes it lacks) */
export function absentGroups(doc: TokenDoc, groups: readonly TokenGroup[] = []): number[] {
  const out: number[] = [];
  TOKEN_GROUPS.forEach((g, gi) => {
    if (groups.includes(g) && doc[g].length === 1 && doc[g][0] === EMPTY_TOKEN) out.push(gi);
  });
  return out;
}

/** FNV-1a 32-bit */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORDS_GROUP = TOKEN_GROUPS.indexOf('words');
export const EMPTY_BLOCK: SparseBlock = { idx: new Int32Array(0), val: new Float64Array(0) };
const denseIdx = new Map<number, Int32Array>();

/** scales v to unit length in place; false when v is 0 */
function normalise(v: Float64Array | Float32Array): boolean {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  if (norm === 0) return false;
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return true;
}

/** 0..n-1, shared by every dense block of that size */
export function denseIndices(n: number): Int32Array {
  let idx = denseIdx.get(n);
  if (!idx) {
    idx = Int32Array.from({ length: n }, (_, i) => i);
    denseIdx.set(n, idx);
  }
  return idx;
}

/**
 * Hashed TF-IDF featuriser. Document frequencies are kept per hashed bucket (bounded memory, O(groups x dims)),
 * so entries can be added incrementally; IDF values are read at vectorisation time. With word embeddings, a last
 * dense block holds the mean word vector of the `words` tokens, each distinct word weighted by its TF-IDF weight in
 * the `words` group ((1 + ln tf) x idf), L2-normalised, minus the mean of the training APIs' such vectors, and
 * L2-normalised again; an API none of whose words has a vector gets an empty (zero) block.
 */
export class Featurizer {
  readonly dims: number;
  private readonly df: Float64Array[];
  private docs = 0;
  /** sum and count of the training documents' mean word vectors (the embedding centre) */
  private centreSum: Float64Array | null = null;
  private centreCount = 0;
  /**
   * the mean word vector of a document counted into the centre, kept for its vectorize() while the document count
   * (so the IDF) is unchanged: computed once per document, not twice
   */
  private readonly means = new WeakMap<TokenDoc, { docs: number; mean: Float64Array | null }>();

  constructor(
    dims: number,
    private readonly embeddings: WordEmbeddings | null = null,
  ) {
    this.dims = dims;
    this.df = TOKEN_GROUPS.map(() => new Float64Array(dims));
  }

  get documents(): number {
    return this.docs;
  }

  /**
   * count the documents of a training set in the document frequencies, then their word-vector mean (the centre the
   * embedding blocks are taken from) with the final IDF
   */
  addDocuments(docs: readonly TokenDoc[]): void {
    for (const d of docs) this.countDocument(d);
    for (const d of docs) this.addToCentre(d);
  }

  /** count one more document (incremental: the embedding centre moves by its share) */
  addDocument(doc: TokenDoc): void {
    this.countDocument(doc);
    this.addToCentre(doc);
  }

  private addToCentre(doc: TokenDoc): void {
    if (!this.embeddings) return;
    const u = this.meanWordVector(doc.words);
    this.means.set(doc, { docs: this.docs, mean: u });
    if (!u) return;
    this.centreSum ??= new Float64Array(this.embeddings.dims);
    for (let i = 0; i < u.length; i++) this.centreSum[i] += u[i];
    this.centreCount++;
  }

  private countDocument(doc: TokenDoc): void {
    this.docs++;
    TOKEN_GROUPS.forEach((g, gi) => {
      const seen = new Set<number>();
      for (const t of doc[g]) seen.add(hash32(t) % this.dims);
      const df = this.df[gi];
      for (const b of seen) df[b]++;
    });
  }

  /** share of documents with the bucket set, per group (for index pruning) */
  dfRatio(group: number, bucket: number): number {
    return this.docs === 0 ? 0 : this.df[group][bucket] / this.docs;
  }

  vectorize(doc: TokenDoc): FeatureVector {
    const v = TOKEN_GROUPS.map((g, gi) => this.block(doc[g], this.df[gi]));
    v.push(this.embeddingBlock(doc));
    return v;
  }

  private idf(df: Float64Array, bucket: number): number {
    return Math.log((this.docs + 1) / (df[bucket] + 1)) + 1;
  }

  /**
   * the embedding block: the mean word vector minus the centre (the mean of the training APIs' mean word vectors,
   * which all share a large common direction), L2-normalised; empty when no word has a vector
   */
  private embeddingBlock(doc: TokenDoc): SparseBlock {
    const kept = this.means.get(doc);
    this.means.delete(doc);
    const u = kept && kept.docs === this.docs ? kept.mean : this.meanWordVector(doc.words);
    if (!u) return EMPTY_BLOCK;
    if (this.centreSum && this.centreCount > 0) {
      for (let i = 0; i < u.length; i++) u[i] -= this.centreSum[i] / this.centreCount;
    }
    // normalised after the rounding to float32, so the stored block has unit norm
    const val = Float32Array.from(u);
    if (!normalise(val)) return EMPTY_BLOCK;
    return { idx: denseIndices(val.length), val };
  }

  /** the TF-IDF weighted mean of the word vectors of the tokens, L2-normalised; null when none has a vector */
  private meanWordVector(tokens: readonly string[]): Float64Array | null {
    const emb = this.embeddings;
    if (!emb) return null;
    const tf = new Map<string, number>();
    for (const t of tokens) if (t !== EMPTY_TOKEN) tf.set(t, (tf.get(t) ?? 0) + 1);
    const acc = new Float64Array(emb.dims);
    const df = this.df[WORDS_GROUP];
    for (const [t, c] of tf) {
      const row = emb.rowFor(t);
      if (row === undefined) continue;
      emb.addRow(row, (1 + Math.log(c)) * this.idf(df, hash32(t) % this.dims), acc);
    }
    return normalise(acc) ? acc : null;
  }

  private block(tokens: string[], df: Float64Array): SparseBlock {
    const tf = new Map<number, number>();
    for (const t of tokens) {
      const h = hash32(t);
      const b = h % this.dims;
      const sign = h & 0x80000000 ? -1 : 1;
      tf.set(b, (tf.get(b) ?? 0) + sign);
    }
    const keys = [...tf.keys()].sort((a, b) => a - b);
    const idx = new Int32Array(keys.length);
    const val = new Float64Array(keys.length);
    let norm = 0;
    for (let i = 0; i < keys.length; i++) {
      const c = tf.get(keys[i])!;
      const w = Math.sign(c) * (1 + Math.log(Math.abs(c) || 1)) * this.idf(df, keys[i]);
      idx[i] = keys[i];
      val[i] = c === 0 ? 0 : w;
      norm += val[i] * val[i];
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < val.length; i++) val[i] /= norm;
    return { idx, val };
  }
}

/** the value of bucket b in a sparse block (binary search of its sorted indices), 0 when absent */
export function valueAt(block: SparseBlock, b: number): number {
  let lo = 0;
  let hi = block.idx.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (block.idx[mid] === b) return block.val[mid];
    if (block.idx[mid] < b) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** dot product of two sorted sparse blocks */
export function sparseDot(a: SparseBlock, b: SparseBlock): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.idx.length && j < b.idx.length) {
    const x = a.idx[i];
    const y = b.idx[j];
    if (x === y) {
      s += a.val[i++] * b.val[j++];
    } else if (x < y) i++;
    else j++;
  }
  return s;
}

export function squaredNorm(a: SparseBlock): number {
  let s = 0;
  for (let i = 0; i < a.val.length; i++) s += a.val[i] * a.val[i];
  return s;
}

/** the dense form: blocks concatenated (group-major), for ml-knn's kd-tree */
export function toDense(v: FeatureVector, dims: number): number[] {
  const out = new Array<number>(v.length * dims).fill(0);
  v.forEach((blk, g) => {
    for (let i = 0; i < blk.idx.length; i++) out[g * dims + blk.idx[i]] = blk.val[i];
  });
  return out;
}
