import KNN from 'ml-knn';
import { type FeatureVector, squaredNorm, valueAt } from './features.js';
import { blockDistance } from './knn-math.js';
import { grow, PackedVectors } from './packed-vectors.js';
import { PostingLists } from './posting-lists.js';

export interface Neighbour {
  row: number;
  distance: number;
}

/** at most `cap` neighbours of one group (a provider): `of` maps a row to its group number */
export interface GroupCap {
  of: (row: number) => number;
  cap: number;
}

/** Nearest-neighbour search over the rows of the training set (rows are added, never moved; `live` filters). */
export interface NeighbourIndex {
  readonly kind: 'kdtree' | 'sparse';
  add(row: number, vec: FeatureVector): void;
  /**
   * the k nearest live rows, ascending distance (ties by row), with at most groupCap.cap rows of one group; distances
   * with the feature weights of `profile` (an index into the weight profiles the index was built with)
   */
  nearest(
    query: FeatureVector,
    k: number,
    live: (row: number) => boolean,
    groupCap?: GroupCap,
    profile?: number,
  ): Neighbour[];
  /** packs what a bulk build added (optional: an index that packs nothing has none) */
  compact?(): void;
  /** approximate bytes held by the index structures */
  memoryBytes(): number;
}

const byDistance = (a: Neighbour, b: Neighbour): number => a.distance - b.distance || a.row - b.row;

/** per-group feature weights: one profile, or several (the query chooses one: known / unseen provider) */
export type WeightProfiles = Float64Array | readonly Float64Array[];
const asProfiles = (p: WeightProfiles): readonly Float64Array[] => (p instanceof Float64Array ? [p] : p);

/**
 * pruned sparse index: rows ranked on the walked posting lists, the best RERANK x k re-ranked by their full distance;
 * x 8 when the query has a dense group (the word vectors), which the first ranking leaves out entirely
 */
const RERANK = 4;
const RERANK_DENSE = 8;

/**
 * Exact search with ml-knn's kd-tree (`kdTree.nearest`, with the row number as the point's label). The points given
 * to ml-knn are the `splitDims` coordinates of highest weighted variance (the tree splits on those); the custom
 * distance is the full weighted Euclidean distance between the query and a point, computed on the sparse blocks
 * (the row label says which). For the tree's hyperplane probes (plain objects that differ from a node in the split
 * coordinate only) it returns sqrt(w_s)|q_s - x_s|, a lower bound of the full distance to anything beyond the
 * hyperplane, so pruning never loses a true neighbour: the search stays exact while each visited node costs one
 * sparse distance instead of a pass over groups x dims coordinates. The tree is rebuilt lazily after additions.
 */
export class KdTreeIndex implements NeighbourIndex {
  readonly kind = 'kdtree' as const;
  private readonly rows = new Map<number, FeatureVector>();
  private knn: KNN | null = null;
  private query: number[] | null = null;
  private queryVec: FeatureVector | null = null;
  /** (group, bucket) of each coordinate given to ml-knn, and its feature weight */
  private coords: { g: number; b: number }[] = [];
  private readonly profiles: readonly Float64Array[];
  /** the feature weights of the query being searched */
  private weights: Float64Array;

  constructor(
    private readonly dims: number,
    profiles: WeightProfiles,
    private readonly splitDims = 32,
  ) {
    this.profiles = asProfiles(profiles);
    this.weights = this.profiles[0];
  }

  add(row: number, vec: FeatureVector): void {
    this.rows.set(row, vec);
    this.knn = null;
  }

  private distance = (a: ArrayLike<number> | Record<number, number>, b: ArrayLike<number> | Record<number, number>) => {
    const m = this.coords.length;
    if (a === this.query && this.queryVec) {
      return blockDistance(this.queryVec, this.rows.get((b as number[])[m])!, this.weights);
    }
    const x = a as Record<number, number>;
    const y = b as Record<number, number>;
    let s = 0;
    for (let i = 0; i < m; i++) {
      const d = x[i] - y[i];
      if (d !== 0) s += this.weights[this.coords[i].g] * d * d;
    }
    return Math.sqrt(s);
  };

  private project(vec: FeatureVector): number[] {
    return this.coords.map(({ g, b }) => valueAt(vec[g], b));
  }

  private chooseCoords(): void {
    const n = this.rows.size;
    const sum = new Map<number, number>();
    const sq = new Map<number, number>();
    for (const vec of this.rows.values()) {
      vec.forEach((blk, g) => {
        for (let i = 0; i < blk.idx.length; i++) {
          const key = g * this.dims + blk.idx[i];
          sum.set(key, (sum.get(key) ?? 0) + blk.val[i]);
          sq.set(key, (sq.get(key) ?? 0) + blk.val[i] * blk.val[i]);
        }
      });
    }
    const scored = [...sum.keys()].map((key) => {
      const g = Math.floor(key / this.dims);
      const mean = sum.get(key)! / n;
      // split on the coordinates of highest weighted variance under any profile
      let w = 0;
      for (const p of this.profiles) w = Math.max(w, p[g]);
      return { key, score: w * (sq.get(key)! / n - mean * mean) };
    });
    scored.sort((x, y) => y.score - x.score || x.key - y.key);
    this.coords = scored.slice(0, this.splitDims).map(({ key }) => {
      const g = Math.floor(key / this.dims);
      return { g, b: key % this.dims };
    });
  }

  private tree(): KNN | null {
    if (this.knn || this.rows.size === 0) return this.knn;
    this.chooseCoords();
    const data: number[][] = [];
    const labels: number[] = [];
    for (const [row, vec] of this.rows) {
      data.push(this.project(vec));
      labels.push(row);
    }
    this.knn = new KNN(data, labels, { k: 1, distance: this.distance });
    return this.knn;
  }

  nearest(
    query: FeatureVector,
    k: number,
    live: (row: number) => boolean,
    groupCap?: GroupCap,
    profile = 0,
  ): Neighbour[] {
    this.weights = this.profiles[profile] ?? this.profiles[0];
    if (!groupCap) return this.search(query, k, live);
    // the tree knows nothing of groups: ask for more neighbours until k survive the cap (or every row was seen)
    for (let want = k * 4; ; want *= 4) {
      const found = this.search(query, want, live);
      const out = capByGroup(found, k, groupCap);
      if (out.length === k || found.length < want) return out;
    }
  }

  private search(query: FeatureVector, k: number, live: (row: number) => boolean): Neighbour[] {
    const knn = this.tree();
    if (!knn) return [];
    let want = k;
    for (const row of this.rows.keys()) if (!live(row)) want++;
    this.query = this.project(query);
    this.queryVec = query;
    try {
      const found = knn.kdTree.nearest(this.query, Math.min(want, this.rows.size));
      const m = this.coords.length;
      return found
        .map(([p, distance]) => ({ row: p[m], distance }))
        .filter((n) => live(n.row))
        .sort(byDistance)
        .slice(0, k);
    } finally {
      this.query = null;
      this.queryVec = null;
    }
  }

  memoryBytes(): number {
    // ml-knn's points (split coordinates + label, doubles) and tree nodes, plus the sparse blocks
    return this.rows.size * ((this.coords.length + 1) * 8 + 96) + sparseBytes(this.rows.values());
  }
}

/**
 * keeps a group's `cap` nearest rows in ascending order, a nearer row pushing out the farthest kept one.
 * Returns whether the row was kept: added to its group's list, or in place of its farthest row
 */
function keepInGroup(
  kept: Map<number, Neighbour[]>,
  { of, cap }: GroupCap,
  row: number,
  distance: number,
): 'added' | 'replaced' | false {
  const g = of(row);
  let list = kept.get(g);
  if (!list) {
    list = [];
    kept.set(g, list);
  }
  const full = list.length >= cap;
  if (full) {
    // byDistance(list[cap - 1], { row, distance }) <= 0, without making the object of a row that is not kept
    const last = list[cap - 1];
    if ((last.distance - distance || last.row - row) <= 0) return false;
    list.pop();
  }
  const n = { row, distance };
  let i = list.length;
  list.push(n);
  while (i > 0 && byDistance(list[i - 1], n) > 0) {
    list[i] = list[i - 1];
    i--;
  }
  list[i] = n;
  return full ? 'replaced' : 'added';
}

/** the first k of `sorted` (ascending distance) with at most cap rows of one group */
export function capByGroup(sorted: readonly Neighbour[], k: number, { of, cap }: GroupCap): Neighbour[] {
  const per = new Map<number, number>();
  const out: Neighbour[] = [];
  for (const n of sorted) {
    if (out.length === k) break;
    const g = of(n.row);
    const c = per.get(g) ?? 0;
    if (c >= cap) continue;
    per.set(g, c + 1);
    out.push(n);
  }
  return out;
}

function sparseBytes(vecs: Iterable<FeatureVector>): number {
  let b = 0;
  for (const v of vecs) for (const blk of v) b += blk.idx.byteLength + blk.val.byteLength + 64;
  return b;
}

/**
 * Inverted index over the hashed buckets. D^2(q, x) = Q + base(x) - 2 sum_g c_g q_g.x_g, where c_g is the per-feature
 * weight of group g in the query's weight profile, Q = sum_g c_g |q_g|^2 and base(x) = sum_g c_g |x_g|^2 (kept per
 * profile). Sparse groups go through posting lists. Dense groups (the embedding block: every row has every coordinate,
 * so their posting lists would hold every row) are read from the rows' packed vectors, and their dot product is
 * computed for each candidate row. Rows sharing no bucket with the query have D^2 >= Q + base(x) - 2 sum_dense c_g
 * |q_g| max|x_g|, so they are taken from a list ordered by base until that bound passes the k-th distance: the search
 * is exact. When `pruneDfRatio` < 1, posting lists of buckets present in more than that share of rows are not walked
 * (their IDF weight is small; at 100k entries they would dominate the query time): the rows are ranked without them
 * (and without the dense groups), and the best few times k re-ranked by their full distance (see nearest), so the
 * distances returned are exact and the neighbours nearly so. Memory (issue #4): the posting lists are packed typed
 * arrays (posting-lists.ts), their values in 32 bits when pruned (they only rank the rows re-ranked by their full
 * distance from the 64-bit vectors; the exact index keeps 64: its distances are the lists' sums), and the rows'
 * vectors are the model's PackedVectors, read in place.
 */
export class SparseIndex implements NeighbourIndex {
  readonly kind = 'sparse' as const;
  private readonly profiles: readonly Float64Array[];
  private readonly postings: PostingLists[];
  /**
   * the rows' vectors, packed (the model's own when it gives them: row r is their row r; else the index packs the
   * vectors it is given, and `slot` maps a row to its place), for the full distance of the rows re-ranked and the
   * dense groups' dot products
   */
  private readonly vectors: PackedVectors;
  private readonly shared: boolean;
  private slot = new Int32Array(0);
  private readonly dense: boolean[];
  /** dense groups: the largest block norm seen */
  private readonly denseMaxNorm: number[];
  /** groups of weight 0 in every profile: nothing of them is kept (see add) */
  private readonly unused: boolean[];
  /** base(x) by profile then row, and the rows in ascending base per profile */
  private readonly base: number[][];
  private readonly byBase: number[][];
  private readonly byBaseSorted: boolean[];
  private acc = new Float64Array(0);
  private mark = new Uint8Array(0);
  /** the rows the query's posting lists reached (their acc and mark are reset after the search) */
  private touched = new Int32Array(0);
  /** per group, one past the largest bucket of any row, and the query scattered over as many buckets (fullDistances) */
  private readonly span: number[] = [];
  private readonly queryDense: Float64Array[] = [];
  /** the kept distances within the bound (kthKept) */
  private within = new Float64Array(0);
  private rowCount = 0;

  constructor(
    profiles: WeightProfiles,
    private readonly pruneDfRatio = 1,
    denseGroups: readonly number[] = [],
    vectors?: PackedVectors,
  ) {
    this.profiles = asProfiles(profiles);
    const groups = this.profiles[0].length;
    this.postings = Array.from({ length: groups }, () => new PostingLists(pruneDfRatio < 1));
    this.dense = Array.from({ length: groups }, (_, g) => denseGroups.includes(g));
    this.shared = vectors !== undefined;
    this.vectors = vectors ?? new PackedVectors(groups, denseGroups);
    this.denseMaxNorm = new Array<number>(groups).fill(0);
    this.base = this.profiles.map(() => []);
    this.byBase = this.profiles.map(() => []);
    this.byBaseSorted = this.profiles.map(() => true);
    this.unused = Array.from({ length: groups }, (_, g) => this.profiles.every((w) => w[g] === 0));
  }

  /** adds a row; with the model's packed vectors, `vec` is their row `row` */
  add(row: number, vec: FeatureVector): void {
    if (this.slot.length <= row) this.slot = grow(this.slot, Math.max(row + 1, this.slot.length * 2));
    this.slot[row] = this.shared ? row : this.vectors.add(vec);
    this.profiles.forEach((_, p) => {
      this.base[p][row] = 0;
    });
    vec.forEach((blk, g) => {
      // a group of weight 0 in every profile adds nothing to any distance and is never queried: nothing kept for it
      if (this.unused[g]) return;
      let span = this.span[g] ?? 0;
      for (let i = 0; i < blk.idx.length; i++) span = Math.max(span, blk.idx[i] + 1);
      this.span[g] = span;
      const sq = squaredNorm(blk);
      this.profiles.forEach((w, p) => {
        this.base[p][row] += w[g] * sq;
      });
      if (this.dense[g]) {
        this.denseMaxNorm[g] = Math.max(this.denseMaxNorm[g], Math.sqrt(sq));
        return;
      }
      const pg = this.postings[g];
      for (let i = 0; i < blk.idx.length; i++) pg.add(blk.idx[i], row, blk.val[i]);
    });
    this.profiles.forEach((_, p) => {
      this.byBase[p].push(row);
      this.byBaseSorted[p] = false;
    });
    this.rowCount++;
  }

  /** packs what a bulk build added (the posting lists; the vectors when the index holds its own) */
  compact(): void {
    for (const pg of this.postings) pg.compact();
    if (!this.shared) this.vectors.compact();
  }

  nearest(
    query: FeatureVector,
    k: number,
    live: (row: number) => boolean,
    groupCap?: GroupCap,
    profile = 0,
  ): Neighbour[] {
    if (this.pruneDfRatio >= 1) return this.search(query, k, live, groupCap, profile, true);
    // pruned index (large catalogues): the posting lists of the commonest buckets are not walked, and a dense group
    // would make every row a candidate (its bound for rows sharing no bucket is loose), so the rows are ranked on the
    // rest and the best RERANK x k (RERANK x cap of a group) re-ranked by their full distance: the distances returned
    // (and the votes weighed by them) are exact, the neighbours nearly so (bench/association.bench.ts)
    const weights = this.profiles[profile] ?? this.profiles[0];
    const hasDense = query.some((blk, g) => this.dense[g] && weights[g] > 0 && blk.val.length > 0);
    const rerank = hasDense ? RERANK_DENSE : RERANK;
    const cap = groupCap && { of: groupCap.of, cap: groupCap.cap * rerank };
    const pool = this.fullDistances(query, this.search(query, k * rerank, live, cap, profile, false), weights);
    pool.sort(byDistance);
    return groupCap ? capByGroup(pool, k, groupCap) : pool.slice(0, k);
  }

  /**
   * blockDistance(query, row) of each row, with the query scattered once into a dense array per group: each row's
   * block is then read once, and the products are summed in the same (ascending bucket) order as sparseDot's, a
   * bucket the query lacks adding an exact 0, so the distances are the same doubles
   */
  private fullDistances(query: FeatureVector, rows: readonly Neighbour[], weights: Float64Array): Neighbour[] {
    const groups = query.length;
    const qq = new Float64Array(groups);
    for (let g = 0; g < groups; g++) {
      if (weights[g] === 0) continue;
      const blk = query[g];
      qq[g] = squaredNorm(blk);
      const span = this.span[g] ?? 0;
      if (this.queryDense[g] === undefined || this.queryDense[g].length < span)
        this.queryDense[g] = new Float64Array(span);
      const dense = this.queryDense[g];
      // a bucket past every row's has no row to meet
      for (let i = 0; i < blk.idx.length; i++) if (blk.idx[i] < span) dense[blk.idx[i]] = blk.val[i];
    }
    const vs = this.vectors;
    const out = rows.map((n) => {
      const x = this.slot[n.row];
      let s = 0;
      for (let g = 0; g < groups; g++) {
        const c = weights[g];
        if (c === 0) continue;
        const from = vs.start(x, g);
        const to = vs.end(x, g);
        const dense = this.queryDense[g];
        let sq = 0;
        let dot = 0;
        if (this.dense[g]) {
          // a dense block's buckets are 0..n-1
          const val = vs.f32;
          for (let i = from; i < to; i++) {
            const v = val[i];
            sq += v * v;
            dot += dense[i - from] * v;
          }
        } else {
          const { idx, val } = vs;
          for (let i = from; i < to; i++) {
            const v = val[i];
            sq += v * v;
            dot += dense[idx[i]] * v;
          }
        }
        const d = qq[g] + sq - 2 * dot;
        if (d > 0) s += c * d;
      }
      return { row: n.row, distance: Math.sqrt(s) };
    });
    for (let g = 0; g < groups; g++) {
      if (weights[g] === 0) continue;
      const blk = query[g];
      const dense = this.queryDense[g];
      for (let i = 0; i < blk.idx.length; i++) if (blk.idx[i] < dense.length) dense[blk.idx[i]] = 0;
    }
    return out;
  }

  /** the search; `withDense` false ranks on the sparse groups alone (dense |q|^2, |x|^2 still in Q and base) */
  private search(
    query: FeatureVector,
    k: number,
    live: (row: number) => boolean,
    groupCap: GroupCap | undefined,
    profile: number,
    withDense: boolean,
  ): Neighbour[] {
    if (this.rowCount === 0 || k <= 0) return [];
    if (this.acc.length < this.rowCount || this.acc.length < this.base[0].length) {
      this.acc = new Float64Array(Math.max(this.base[0].length, this.acc.length * 2));
      this.mark = new Uint8Array(this.acc.length);
      this.touched = new Int32Array(this.acc.length);
    }
    if (this.profiles[profile] === undefined) profile = 0;
    const weights = this.profiles[profile];
    const baseOf = this.base[profile];
    const acc = this.acc;
    const mark = this.mark;
    const touched = this.touched;
    let touchedCount = 0;
    const maxDf = this.pruneDfRatio >= 1 ? Number.POSITIVE_INFINITY : Math.max(50, this.pruneDfRatio * this.rowCount);
    let Q = 0;
    /** dense groups of the query: weight, values; and the slack of the bound for rows sharing no bucket */
    const denseQ: { c: number; q: Float64Array | Float32Array; g: number }[] = [];
    let slack = 0;
    for (let g = 0; g < query.length; g++) {
      const blk = query[g];
      const c = weights[g];
      if (c === 0) continue;
      const qq = squaredNorm(blk);
      Q += c * qq;
      if (this.dense[g]) {
        if (withDense && blk.val.length > 0) {
          denseQ.push({ c, q: blk.val, g });
          slack += 2 * c * Math.sqrt(qq) * this.denseMaxNorm[g];
        }
        continue;
      }
      const pg = this.postings[g];
      const { start, rows, vals } = pg;
      const packed = start.length - 1;
      for (let i = 0; i < blk.idx.length; i++) {
        const b = blk.idx[i];
        if (pg.count(b) > maxDf) continue;
        const qv = c * blk.val[i];
        if (b < packed) {
          for (let j = start[b], end = start[b + 1]; j < end; j++) {
            const r = rows[j];
            if (mark[r] === 0) {
              mark[r] = 1;
              touched[touchedCount++] = r;
            }
            acc[r] += qv * vals[j];
          }
        }
        const p = pg.extra.size === 0 ? undefined : pg.extra.get(b);
        if (p) {
          for (let j = 0; j < p.n; j++) {
            const r = p.rows[j];
            if (mark[r] === 0) {
              mark[r] = 1;
              touched[touchedCount++] = r;
            }
            acc[r] += qv * p.vals[j];
          }
        }
      }
    }
    const distance2 = (r: number): number => {
      let d2 = Q + baseOf[r] - 2 * acc[r];
      for (const { c, q, g } of denseQ) d2 -= 2 * c * this.denseDot(q, r, g);
      return d2;
    };
    const best: Neighbour[] = [];
    const consider = (row: number, d2: number) => {
      if (best.length === k && d2 >= best[k - 1].distance) return;
      const n = { row, distance: d2 };
      let i = best.length;
      if (best.length < k) best.push(n);
      else i = k - 1;
      while (i > 0 && byDistance(best[i - 1], n) > 0) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = n;
    };
    // With a cap, only each group's `cap` nearest rows can be among the k: keep those, then take the k nearest.
    // `bound` is the k-th distance among the rows kept so far (without a cap, among `best`): an upper bound of the
    // final one, which only falls as rows are added. A row farther than it can be neither among the k nor push a
    // nearer row of its group out, so it is passed over before its liveness is even read. Capped, the bound is
    // refreshed (a pass over the kept rows) once as many rows were kept since the last refresh as were kept in all at
    // that refresh, and at least k: its cost stays within twice the rows kept, and it follows the kept rows down (it
    // used to be refreshed only when a row reached it, so a bound left high by a far row scanned every row sharing no
    // bucket with the query: 30 ms at 100,000 entries)
    const kept = groupCap ? new Map<number, Neighbour[]>() : null;
    let keptCount = 0;
    let keptSinceRefresh = 0;
    let keptAtRefresh = 0;
    let bound = Number.POSITIVE_INFINITY;
    const refresh = (): void => {
      if (kept) {
        bound = this.kthKept(kept, k, bound);
        keptSinceRefresh = 0;
        keptAtRefresh = keptCount;
      } else if (best.length === k) bound = best[k - 1].distance;
    };
    const beyond = (d2: number): boolean => (kept ? d2 > bound : best.length === k && d2 >= best[k - 1].distance);
    const offer = (r: number, d2: number): void => {
      if (!kept || !groupCap) {
        consider(r, d2);
        return;
      }
      const how = keepInGroup(kept, groupCap, r, d2);
      if (!how) return;
      if (how === 'added') keptCount++;
      if (++keptSinceRefresh >= Math.max(k, keptAtRefresh) && keptCount >= k) refresh();
    };
    for (let t = 0; t < touchedCount; t++) {
      const r = touched[t];
      const d2 = distance2(r);
      if (!beyond(d2) && live(r)) offer(r, d2);
    }
    refresh();
    // rows sharing no bucket, ascending base: D^2 >= Q + base - slack
    if (!this.byBaseSorted[profile]) {
      this.byBase[profile].sort((a, b) => baseOf[a] - baseOf[b] || a - b);
      this.byBaseSorted[profile] = true;
    }
    for (const r of this.byBase[profile]) {
      const lower = Q + baseOf[r] - slack;
      // refresh the bound when it may have fallen past this row, or once k candidates exist
      if (lower >= bound || (bound === Number.POSITIVE_INFINITY && (kept ? keptCount >= k : best.length === k))) {
        refresh();
        if (lower >= bound) break;
      }
      if (mark[r] !== 0) continue;
      const d2 = distance2(r);
      if (!beyond(d2) && live(r)) offer(r, d2);
    }
    if (kept) for (const list of kept.values()) for (const n of list) consider(n.row, n.distance);
    for (let t = 0; t < touchedCount; t++) {
      const r = touched[t];
      acc[r] = 0;
      mark[r] = 0;
    }
    return best.map((n) => ({ row: n.row, distance: Math.sqrt(Math.max(0, n.distance)) }));
  }

  /**
   * the k-th distance among the kept rows (infinite with fewer than k), reading only those within `bound` (a former
   * k-th: at least k of them are within it)
   */
  private kthKept(kept: Map<number, Neighbour[]>, k: number, bound: number): number {
    let n = 0;
    for (const list of kept.values()) n += list.length;
    if (n < k) return Number.POSITIVE_INFINITY;
    if (this.within.length < n) this.within = new Float64Array(Math.max(n, this.within.length * 2));
    const within = this.within;
    let m = 0;
    for (const list of kept.values()) for (const x of list) if (x.distance <= bound) within[m++] = x.distance;
    if (m < k) return bound;
    return within.subarray(0, m).sort()[k - 1];
  }

  /** q . x for a row's dense block; 0 when the row has no block (or one of another length) */
  private denseDot(q: ArrayLike<number>, row: number, g: number): number {
    const vs = this.vectors;
    const x = this.slot[row];
    const from = vs.start(x, g);
    if (vs.end(x, g) - from !== q.length) return 0;
    const val = vs.f32;
    let dot = 0;
    for (let i = 0; i < q.length; i++) dot += q[i] * val[from + i];
    return dot;
  }

  memoryBytes(): number {
    let postings = 0;
    for (const pg of this.postings) postings += pg.memoryBytes();
    // the model's packed vectors are counted with it (SmartKnn.memoryBytes), the index's own here
    return (
      postings +
      (this.shared ? 0 : this.vectors.memoryBytes()) +
      this.slot.byteLength +
      this.profiles.length * this.base[0].length * 16 +
      this.acc.byteLength +
      this.mark.byteLength +
      this.touched.byteLength
    );
  }
}
