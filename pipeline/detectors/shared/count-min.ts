import { fnv1a, mix32 } from './hash.js';

/**
 * Count-min sketch over a Uint32Array of depth × width counters: approximate frequencies in fixed memory; never
 * under-counts, over-counts by at most e/width of the total with probability 1 - e^-depth. Written here because
 * `bloom-filters`' CountMinSketch costs ~12 µs per update (measured), too slow for a per-record step.
 */
export class CountMinSketch {
  readonly width: number;
  readonly depth: number;
  readonly table: Uint32Array;
  total = 0;
  /** width - 1 when the width is a power of two (a mask instead of a floating-point remainder), else -1 */
  private readonly mask: number;

  constructor(width = 2048, depth = 4, table?: Uint32Array) {
    this.width = width;
    this.depth = depth;
    this.table = table ?? new Uint32Array(width * depth);
    this.mask = width > 0 && (width & (width - 1)) === 0 && width <= 2 ** 30 ? width - 1 : -1;
  }

  /** the column of a key's hash in row d */
  private column(h1: number, h2: number, d: number): number {
    const h = (h1 + Math.imul(d, h2)) >>> 0;
    return this.mask !== -1 ? h & this.mask : h % this.width;
  }

  /** add `by` to the key's count and return the new estimate */
  add(key: string, by = 1): number {
    const h1 = fnv1a(key);
    const h2 = mix32(h1) | 1;
    let min = Number.POSITIVE_INFINITY;
    for (let d = 0; d < this.depth; d++) {
      const i = d * this.width + this.column(h1, h2, d);
      const v = this.table[i] + by;
      this.table[i] = v;
      if (v < min) min = v;
    }
    this.total += by;
    return min;
  }

  estimate(key: string): number {
    const h1 = fnv1a(key);
    const h2 = mix32(h1) | 1;
    let min = Number.POSITIVE_INFINITY;
    for (let d = 0; d < this.depth; d++) {
      const v = this.table[d * this.width + this.column(h1, h2, d)];
      if (v < min) min = v;
    }
    return min;
  }

  clear(): void {
    this.table.fill(0);
    this.total = 0;
  }

  toJSON(): { w: number; d: number; t: string; n: number } {
    return {
      w: this.width,
      d: this.depth,
      t: Buffer.from(this.table.buffer, this.table.byteOffset, this.table.byteLength).toString('base64'),
      n: this.total,
    };
  }

  static fromJSON(j: { w: number; d: number; t: string; n: number }): CountMinSketch {
    const buf = Buffer.from(j.t, 'base64');
    const table = new Uint32Array(j.w * j.d);
    new Uint8Array(table.buffer).set(buf.subarray(0, table.byteLength));
    const s = new CountMinSketch(j.w, j.d, table);
    s.total = j.n;
    return s;
  }
}
