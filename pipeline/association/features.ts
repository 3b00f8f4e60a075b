import { FEATURE_GROUPS, type FeatureGroup } from './config.js';
import { hostTokens, pathTokens, splitIdentifier, stem, textTokens } from './tokens.js';

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
}

export type TokenDoc = Record<FeatureGroup, string[]>;

/** one L2-normalised block per group: sorted bucket indices and values */
export interface SparseBlock {
  idx: Int32Array;
  val: Float64Array;
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
  for (const g of FEATURE_GROUPS) if (doc[g].length === 0) doc[g].push(EMPTY_TOKEN);
  return doc;
}

export const EMPTY_TOKEN = '\u0000empty';

/** FNV-1a 32-bit */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Hashed TF-IDF featuriser. Document frequencies are kept per hashed bucket (bounded memory, O(groups x dims)),
 * so entries can be added incrementally; IDF values are read at vectorisation time.
 */
export class Featurizer {
  readonly dims: number;
  private readonly df: Float64Array[];
  private docs = 0;

  constructor(dims: number) {
    this.dims = dims;
    this.df = FEATURE_GROUPS.map(() => new Float64Array(dims));
  }

  get documents(): number {
    return this.docs;
  }

  /** count a document in the document frequencies */
  addDocument(doc: TokenDoc): void {
    this.docs++;
    FEATURE_GROUPS.forEach((g, gi) => {
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
    return FEATURE_GROUPS.map((g, gi) => this.block(doc[g], this.df[gi]));
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
    const n = this.docs;
    for (let i = 0; i < keys.length; i++) {
      const c = tf.get(keys[i])!;
      const w = Math.sign(c) * (1 + Math.log(Math.abs(c) || 1)) * (Math.log((n + 1) / (df[keys[i]] + 1)) + 1);
      idx[i] = keys[i];
      val[i] = c === 0 ? 0 : w;
      norm += val[i] * val[i];
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < val.length; i++) val[i] /= norm;
    return { idx, val };
  }
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
