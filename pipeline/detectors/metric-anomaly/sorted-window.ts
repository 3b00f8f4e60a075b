/**
 * The last `capacity` values of a stream, kept both in arrival order (a ring) and sorted, so that quantiles and
 * ranks cost a binary search. Insert and evict are a binary search plus one `copyWithin` (O(capacity) moves of
 * contiguous memory, cheap for the few hundred values a baseline keeps).
 */
export class SortedWindow {
  readonly capacity: number;
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(x: number): void {
    if (this.count === this.capacity) {
      const old = this.ring[this.head];
      const at = this.lowerBound(old);
      this.sorted.copyWithin(at, at + 1, this.count);
      this.count--;
    }
    this.ring[this.head] = x;
    this.head = (this.head + 1) % this.capacity;
    const at = this.upperBound(x);
    this.sorted.copyWithin(at + 1, at, this.count);
    this.sorted[at] = x;
    this.count++;
  }

  /** linear-interpolated quantile, q in [0, 1]; NaN when empty */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const pos = q * (this.count - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, this.count - 1);
    return this.sorted[lo] + (this.sorted[hi] - this.sorted[lo]) * (pos - lo);
  }

  /** how many kept values are >= x */
  countAtLeast(x: number): number {
    return this.count - this.lowerBound(x);
  }

  max(): number {
    return this.count === 0 ? Number.NaN : this.sorted[this.count - 1];
  }

  min(): number {
    return this.count === 0 ? Number.NaN : this.sorted[0];
  }

  /** values in arrival order, oldest first */
  toArray(): number[] {
    const out: number[] = [];
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out.push(this.ring[(start + i) % this.capacity]);
    return out;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private upperBound(x: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
