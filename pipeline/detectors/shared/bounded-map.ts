/**
 * A Map with a size cap (approximately least recently used entry evicted first) and an event-time TTL (entries idle for longer
 * than `ttlMs` of record time are dropped). Time is always passed in — detectors run on event time, not the clock.
 * Evictions and expiries are counted so detectors can report them in `stats()`.
 * Recency is approximate to keep reads cheap: a read moves an entry to the young end only once it has drifted into
 * the older half of the map (by insertion sequence), so hot entries are not re-inserted on every read.
 */
export class BoundedMap<K, V> {
  readonly max: number;
  readonly ttlMs: number;
  evicted = 0;
  expired = 0;
  private map = new Map<K, { v: V; t: number; seq: number }>();
  private seq = 0;
  /** deletions since the map was last rebuilt (see `deleted`) */
  private deletes = 0;

  constructor(max: number, ttlMs = Number.POSITIVE_INFINITY) {
    if (!(max >= 1)) throw new RangeError('max must be >= 1');
    this.max = max;
    this.ttlMs = ttlMs;
  }

  get size(): number {
    return this.map.size;
  }

  /** the live value, refreshed as most recently used; undefined when absent or expired */
  get(key: K, now: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (now - e.t > this.ttlMs) {
      this.remove(key);
      this.expired++;
      return undefined;
    }
    if (now > e.t) e.t = now;
    if (this.seq - e.seq > this.max >>> 1) {
      this.remove(key);
      e.seq = ++this.seq;
      this.map.set(key, e);
    }
    return e.v;
  }

  /** the value without refreshing recency or time (may be expired) */
  peek(key: K): V | undefined {
    return this.map.get(key)?.v;
  }

  has(key: K, now: number): boolean {
    return this.get(key, now) !== undefined;
  }

  set(key: K, value: V, now: number): void {
    const had = this.remove(key);
    this.map.set(key, { v: value, t: now, seq: ++this.seq });
    if (!had && this.map.size > this.max) {
      const oldest = this.map.keys().next().value as K;
      this.remove(oldest);
      this.evicted++;
    }
  }

  /** the value for key, created by `make` when absent or expired */
  upsert(key: K, now: number, make: () => V): V {
    const v = this.get(key, now);
    if (v !== undefined) return v;
    const fresh = make();
    this.set(key, fresh, now);
    return fresh;
  }

  delete(key: K): void {
    this.remove(key);
  }

  /**
   * V8 keeps deleted Map entries as holes until the table is rehashed, and every new iterator (the LRU's
   * `keys().next()`) walks over the holes at the front: evicting from a full map would turn quadratic. Rebuilding
   * the map once the deletions outnumber the live entries keeps eviction amortised O(1).
   */
  private remove(key: K): boolean {
    if (!this.map.delete(key)) return false;
    if (++this.deletes > this.map.size + 1024) {
      this.map = new Map(this.map);
      this.deletes = 0;
    }
    return true;
  }

  /** drop entries idle past the TTL, oldest first; stops at the first live one (entries are kept in recency order) */
  sweep(now: number, limit = 64): number {
    let n = 0;
    for (const [k, e] of this.map) {
      if (n >= limit || now - e.t <= this.ttlMs) break;
      this.remove(k);
      this.expired++;
      n++;
    }
    return n;
  }

  entries(): IterableIterator<[K, { v: V; t: number; seq: number }]> {
    return this.map.entries();
  }

  clear(): void {
    this.map.clear();
  }

  /** [key, value, lastTouched] triples, oldest first, for snapshots */
  dump<J>(encode: (v: V) => J): [K, J, number][] {
    const out: [K, J, number][] = [];
    for (const [k, e] of this.map) out.push([k, encode(e.v), e.t]);
    return out;
  }

  load<J>(rows: [K, J, number][], decode: (j: J) => V): void {
    this.map.clear();
    for (const [k, j, t] of rows) this.map.set(k, { v: decode(j), t, seq: ++this.seq });
    while (this.map.size > this.max) {
      this.map.delete(this.map.keys().next().value as K);
      this.evicted++;
    }
  }
}
