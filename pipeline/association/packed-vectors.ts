import { mwError } from '../core/errors.js';
import { denseIndices, EMPTY_BLOCK, type FeatureVector, type SparseBlock } from './features.js';

/**
 * The feature vectors of the training rows, packed: every row's sparse blocks in one bucket array (Uint16Array: dims_per_group is at most 65,536;
 * Int32Array when the buckets' range is not known) and
 * one value array (Float64Array), the dense groups' blocks (the word-vector block, float32) in a third, each grown by
 * half (a confirmed API after a build of 100,000 rows copies them once, with room for the next) and trimmed by
 * compact(). A row is two offsets per group. At 100,000 catalogue entries the blocks as
 * objects holding two typed arrays each (800,000 blocks, 1.6 million typed arrays of a few dozen values) were most of
 * the model's heap; packed they are their values and the offsets. Rows are appended, never moved.
 */
export class PackedVectors {
  readonly groups: number;
  private readonly dense: boolean[];
  /** per row and group (row * groups + g), where its block starts and ends in idx/val (or f32 for a dense group) */
  private starts = new Int32Array(0);
  private ends = new Int32Array(0);
  /** the sparse groups' buckets and values, and the dense groups' values; read directly by the neighbour search */
  idx: Int32Array | Uint16Array;
  val = new Float64Array(0);
  f32 = new Float32Array(0);
  private sparseUsed = 0;
  private denseUsed = 0;
  private rows = 0;

  /** `buckets`: one past the largest bucket of a sparse block, when known (up to 65,536: buckets in 16 bits) */
  constructor(groups: number, denseGroups: readonly number[] = [], buckets = Number.POSITIVE_INFINITY) {
    this.groups = groups;
    this.idx = buckets <= WIDE ? new Uint16Array(0) : new Int32Array(0);
    this.dense = Array.from({ length: groups }, (_, g) => denseGroups.includes(g));
  }

  get size(): number {
    return this.rows;
  }

  isDense(g: number): boolean {
    return this.dense[g];
  }

  /** appends a row (its blocks copied; a dense group's values rounded to float32, as the featuriser makes them) */
  add(vec: FeatureVector): number {
    const row = this.rows;
    const G = this.groups;
    if (this.starts.length < (row + 1) * G) {
      const n = Math.max((row + 1) * G, room(this.starts.length));
      this.starts = grow(this.starts, n);
      this.ends = grow(this.ends, n);
    }
    let sparse = 0;
    let dense = 0;
    for (let g = 0; g < G; g++) {
      const n = vec[g]?.val.length ?? 0;
      if (this.dense[g]) dense += n;
      else sparse += n;
    }
    if (this.idx.length < this.sparseUsed + sparse) {
      const n = Math.max(this.sparseUsed + sparse, room(this.idx.length));
      this.idx = grow(this.idx, n);
      this.val = grow(this.val, n);
    }
    if (this.f32.length < this.denseUsed + dense)
      this.f32 = grow(this.f32, Math.max(this.denseUsed + dense, room(this.f32.length)));
    for (let g = 0; g < G; g++) {
      const blk = vec[g] ?? EMPTY_BLOCK;
      const at = row * G + g;
      if (this.dense[g]) {
        this.starts[at] = this.denseUsed;
        this.f32.set(blk.val, this.denseUsed);
        this.denseUsed += blk.val.length;
        this.ends[at] = this.denseUsed;
      } else {
        this.starts[at] = this.sparseUsed;
        if (this.idx instanceof Uint16Array && blk.idx.length > 0 && blk.idx[blk.idx.length - 1] >= WIDE) {
          throw mwError('CONFIG_INVALID', `association: bucket ${blk.idx[blk.idx.length - 1]} past ${WIDE}`);
        }
        this.idx.set(blk.idx, this.sparseUsed);
        this.val.set(blk.val, this.sparseUsed);
        this.sparseUsed += blk.val.length;
        this.ends[at] = this.sparseUsed;
      }
    }
    this.rows++;
    return row;
  }

  /** where the block of a row's group starts in idx/val (f32 for a dense group) */
  start(row: number, g: number): number {
    return this.starts[row * this.groups + g];
  }

  end(row: number, g: number): number {
    return this.ends[row * this.groups + g];
  }

  /** a row's block as views of the packed arrays (rows never change: a view stays right after the arrays grow) */
  block(row: number, g: number): SparseBlock {
    const s = this.start(row, g);
    const e = this.end(row, g);
    if (s === e) return EMPTY_BLOCK;
    if (this.dense[g]) return { idx: denseIndices(e - s), val: this.f32.subarray(s, e) };
    return { idx: this.idx.subarray(s, e), val: this.val.subarray(s, e) };
  }

  /** a row's vector as views of the packed arrays */
  vector(row: number): FeatureVector {
    const out: FeatureVector = [];
    for (let g = 0; g < this.groups; g++) out.push(this.block(row, g));
    return out;
  }

  /** drops the spare capacity of the doubling (after a bulk build) */
  compact(): void {
    const n = this.rows * this.groups;
    if (this.starts.length > n) {
      this.starts = this.starts.slice(0, n);
      this.ends = this.ends.slice(0, n);
    }
    if (this.idx.length > this.sparseUsed) {
      this.idx = this.idx.slice(0, this.sparseUsed);
      this.val = this.val.slice(0, this.sparseUsed);
    }
    if (this.f32.length > this.denseUsed) this.f32 = this.f32.slice(0, this.denseUsed);
  }

  memoryBytes(): number {
    return (
      this.starts.byteLength + this.ends.byteLength + this.idx.byteLength + this.val.byteLength + this.f32.byteLength
    );
  }
}

/** buckets below this fit in 16 bits (dims_per_group is at most 65,536) */
const WIDE = 65536;

/** the next capacity of an array of n elements: half as much again */
const room = (n: number): number => Math.ceil(n * 1.5) + 16;

/** a copy of `a` with room for n elements */
export function grow<T extends Int32Array | Uint16Array | Float64Array | Float32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
