import { grow } from './packed-vectors.js';

/** the rows added to one bucket since the last compaction, in typed arrays grown by doubling */
export interface Posting {
  rows: Int32Array;
  vals: Float64Array | Float32Array;
  n: number;
}

/** compaction once the lists added since hold an eighth of the packed entries, and at least this many */
const MIN_COMPACT = 1 << 16;

/**
 * One feature group's posting lists (bucket -> the rows that have it, with their values), packed: the lists in one
 * row array (Int32Array) and one value array (Float64Array), bucket b's at [start[b], start[b + 1]). Rows added since
 * the last compaction go to small per-bucket lists (`extra`, walked after the packed part: a list keeps the order of
 * its additions); they are merged in by compact(), called after a bulk build and whenever they hold an eighth as many
 * entries as the packed part (a confirmed API adds a few dozen: each entry is copied about nine times on average).
 * At 100,000 catalogue entries the lists as JS arrays of numbers (16 bytes an entry, with the arrays' growth slack
 * on top) were most of the index; here 12 bytes an entry.
 */
export class PostingLists {
  /** packed lists: bucket b's rows and values at [start[b], start[b + 1]) of rows / vals (buckets < start.length - 1) */
  start = new Int32Array(1);
  rows = new Int32Array(0);
  vals: Float64Array | Float32Array;
  /** lists added to since the last compaction */
  readonly extra = new Map<number, Posting>();
  private extraEntries = 0;
  private lists = 0;
  private readonly Values: typeof Float64Array | typeof Float32Array;

  /** values in 32 bits (`single`) where they only rank candidates that are re-ranked by their full distance */
  constructor(single = false) {
    this.Values = single ? Float32Array : Float64Array;
    this.vals = new this.Values(0);
  }

  add(bucket: number, row: number, val: number): void {
    let p = this.extra.get(bucket);
    if (!p) {
      p = { rows: new Int32Array(4), vals: new this.Values(4), n: 0 };
      this.extra.set(bucket, p);
      if (this.packedCount(bucket) === 0) this.lists++;
    }
    if (p.n === p.rows.length) {
      p.rows = grow(p.rows, p.n * 2);
      p.vals = grow(p.vals, p.n * 2);
    }
    p.rows[p.n] = row;
    p.vals[p.n] = val;
    p.n++;
    this.extraEntries++;
    if (this.extraEntries >= Math.max(MIN_COMPACT, this.rows.length / 8)) this.compact();
  }

  /** the bucket's entries in the packed part */
  packedCount(bucket: number): number {
    return bucket + 1 < this.start.length ? this.start[bucket + 1] - this.start[bucket] : 0;
  }

  /** the bucket's entries (its document frequency among the indexed rows) */
  count(bucket: number): number {
    return this.packedCount(bucket) + (this.extra.get(bucket)?.n ?? 0);
  }

  /** merges the lists added since into the packed arrays (each list keeps its order: the packed part, then the rest) */
  compact(): void {
    if (this.extra.size === 0) return;
    let span = this.start.length - 1;
    for (const b of this.extra.keys()) span = Math.max(span, b + 1);
    const start = new Int32Array(span + 1);
    for (let b = 0; b < span; b++) start[b + 1] = start[b] + this.count(b);
    const rows = new Int32Array(start[span]);
    const vals = new this.Values(start[span]);
    for (let b = 0; b < span; b++) {
      let at = start[b];
      const n = this.packedCount(b);
      if (n > 0) {
        const s = this.start[b];
        rows.set(this.rows.subarray(s, s + n), at);
        vals.set(this.vals.subarray(s, s + n), at);
        at += n;
      }
      const p = this.extra.get(b);
      if (p) {
        rows.set(p.rows.subarray(0, p.n), at);
        vals.set(p.vals.subarray(0, p.n), at);
      }
    }
    this.start = start;
    this.rows = rows;
    this.vals = vals;
    this.extra.clear();
    this.extraEntries = 0;
  }

  /** buckets with a list, and entries */
  get size(): number {
    return this.lists;
  }

  get entries(): number {
    return this.rows.length + this.extraEntries;
  }

  memoryBytes(): number {
    let b = this.start.byteLength + this.rows.byteLength + this.vals.byteLength;
    for (const p of this.extra.values()) b += p.rows.byteLength + p.vals.byteLength + 64;
    return b;
  }
}
