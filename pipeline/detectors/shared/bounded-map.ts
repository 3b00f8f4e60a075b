/** one entry, linked into the recency list (oldest at the head) */
interface Slot<K, V> {
  key: K;
  v: V;
  /** last touched, event time */
  t: number;
  /** insertion sequence when last moved to the young end */
  seq: number;
  older: Slot<K, V> | null;
  newer: Slot<K, V> | null;
}

/**
 * A Map with a size cap (approximately least recently used entry evicted first) and an event-time TTL (entries idle for longer
 * than `ttlMs` of record time are dropped). Time is always passed in — detectors run on event time, not the clock.
 * Evictions and expiries are counted so detectors can report them in `stats()`.
 * Recency is approximate to keep reads cheap: a read moves an entry to the young end only once it has drifted into
 * the older half of the map (by insertion sequence), so hot entries are not moved on every read.
 *
 * The recency order is a doubly linked list beside the Map (the Map only answers lookups): evicting the oldest entry
 * is O(1). An earlier version used the Map's own insertion order and `keys().next()`, which walks every deleted
 * hole V8 keeps at the front of the table: eviction cost grew with the cap (1,000,000 subjects took 811 s).
 */
export class BoundedMap<K, V> {
  readonly max: number;
  readonly ttlMs: number;
  evicted = 0;
  expired = 0;
  private readonly map = new Map<K, Slot<K, V>>();
  private oldest: Slot<K, V> | null = null;
  private youngest: Slot<K, V> | null = null;
  private seq = 0;
  /** a get moves an entry to the young end only once it is this many insertions old (never for an uncapped map) */
  private readonly refreshAfter: number;

  /** told of each entry that leaves by eviction or expiry (not by delete, set or clear) */
  private readonly onDrop: ((key: K, v: V) => void) | undefined;

  /**
   * `max` may be Infinity for a map whose owner enforces its own cap (see `oldestKey`); `onDrop` is told of each entry
   * evicted or expired (a count with a share still to write elsewhere)
   */
  constructor(max: number, ttlMs = Number.POSITIVE_INFINITY, onDrop?: (key: K, v: V) => void) {
    if (!(max >= 1)) throw new RangeError('max must be >= 1');
    this.max = max;
    this.ttlMs = ttlMs;
    this.onDrop = onDrop;
    this.refreshAfter = Number.isFinite(max) ? max >>> 1 : Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.map.size;
  }

  /** the live value, refreshed as most recently used; undefined when absent or expired */
  get(key: K, now: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (now - e.t > this.ttlMs) {
      this.unlink(e);
      this.map.delete(key);
      this.expired++;
      this.onDrop?.(key, e.v);
      return undefined;
    }
    if (now > e.t) e.t = now;
    if (this.seq - e.seq > this.refreshAfter) {
      this.unlink(e);
      e.seq = ++this.seq;
      this.append(e);
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
    const had = this.map.get(key);
    if (had !== undefined) {
      // a replaced entry moves to the young end, as a fresh insertion would
      this.unlink(had);
      had.v = value;
      had.t = now;
      had.seq = ++this.seq;
      this.append(had);
      return;
    }
    const e: Slot<K, V> = { key, v: value, t: now, seq: ++this.seq, older: null, newer: null };
    this.map.set(key, e);
    this.append(e);
    if (this.map.size > this.max) {
      this.dropOldest();
      this.evicted++;
    }
  }

  /** the value for key, created by `make(now)` when absent or expired (a module-level `make` allocates no closure) */
  upsert(key: K, now: number, make: (now: number) => V): V {
    const v = this.get(key, now);
    if (v !== undefined) return v;
    const fresh = make(now);
    this.set(key, fresh, now);
    return fresh;
  }

  delete(key: K): void {
    const e = this.map.get(key);
    if (e === undefined) return;
    this.unlink(e);
    this.map.delete(key);
  }

  /** the key of the oldest entry (least recently moved), undefined when empty */
  oldestKey(): K | undefined {
    return this.oldest?.key;
  }

  /** the value of the oldest entry, without refreshing it */
  oldestValue(): V | undefined {
    return this.oldest?.v;
  }

  /** drop entries idle past the TTL, oldest first; stops at the first live one (entries are kept in recency order) */
  sweep(now: number, limit = 64): number {
    let n = 0;
    while (n < limit && this.oldest !== null && now - this.oldest.t > this.ttlMs) {
      this.dropOldest();
      this.expired++;
      n++;
    }
    return n;
  }

  /** [key, value] pairs, oldest first */
  *entries(): IterableIterator<[K, V]> {
    for (let e = this.oldest; e !== null; e = e.newer) yield [e.key, e.v];
  }

  clear(): void {
    this.map.clear();
    this.oldest = null;
    this.youngest = null;
  }

  /** [key, value, lastTouched] triples, oldest first, for snapshots */
  dump<J>(encode: (v: V) => J): [K, J, number][] {
    const out: [K, J, number][] = [];
    for (let e = this.oldest; e !== null; e = e.newer) out.push([e.key, encode(e.v), e.t]);
    return out;
  }

  load<J>(rows: [K, J, number][], decode: (j: J) => V): void {
    this.clear();
    for (const [k, j, t] of rows) {
      const had = this.map.get(k);
      if (had !== undefined) {
        // a repeated key keeps its first place and takes the last value, as Map.set does
        had.v = decode(j);
        had.t = t;
        had.seq = ++this.seq;
        continue;
      }
      const e: Slot<K, V> = { key: k, v: decode(j), t, seq: ++this.seq, older: null, newer: null };
      this.map.set(k, e);
      this.append(e);
    }
    while (this.map.size > this.max) {
      this.dropOldest();
      this.evicted++;
    }
  }

  private dropOldest(): void {
    const e = this.oldest;
    if (e === null) return;
    this.unlink(e);
    this.map.delete(e.key);
    this.onDrop?.(e.key, e.v);
  }

  private append(e: Slot<K, V>): void {
    e.older = this.youngest;
    e.newer = null;
    if (this.youngest !== null) this.youngest.newer = e;
    else this.oldest = e;
    this.youngest = e;
  }

  private unlink(e: Slot<K, V>): void {
    if (e.older !== null) e.older.newer = e.newer;
    else this.oldest = e.newer;
    if (e.newer !== null) e.newer.older = e.older;
    else this.youngest = e.older;
    e.older = null;
    e.newer = null;
  }
}
