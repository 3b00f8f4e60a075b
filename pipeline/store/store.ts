/**
 * The state store: in-memory with a data directory (embedded) or Redis (distributed). Values are strings (JSON by
 * convention); keys are namespaced by the caller, e.g. `alert:<id>`, `ckpt:<group>:<topic>:<partition>`.
 */
export interface Store {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  mget(keys: string[]): Promise<(string | null)[]>;
  /** ttlMs: expire the key after this many ms */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** set only when absent; true when this call set it (idempotency guards) */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean>;
  /**
   * set `value` (with `ttlMs` when given, else without a TTL) only while the key still holds `expected` (null: only
   * while absent); true when this call set it.
   * For read-modify-write by several processes: read, compute, compareAndSet, and on false read again.
   */
  compareAndSet(key: string, expected: string | null, value: string, ttlMs?: number): Promise<boolean>;
  /** delete a key of any kind (a log too, a lex index whole) */
  del(key: string): Promise<void>;
  /** atomic add; creates the key at 0 first; ttlMs applies when the key is created */
  incr(key: string, by?: number, ttlMs?: number): Promise<number>;
  /**
   * a count several processes add to, each with its own share: sets `member`'s share to `count` (a whole number;
   * 0 removes it) and returns the sum of every member's share and how many have one, atomically, in one round trip.
   * The key (a JSON object of shares, shares.ts; anything else there is replaced) expires `ttlMs` after this write.
   * A member writes its whole count, not an increment, so writing it again changes nothing
   */
  setShare(key: string, member: string, count: number, ttlMs: number): Promise<{ total: number; members: number }>;

  hset(key: string, field: string, value: string): Promise<void>;
  hget(key: string, field: string): Promise<string | null>;
  /** the fields' values in the order given (null: a field the hash does not hold), in one round trip */
  hmget(key: string, fields: string[]): Promise<(string | null)[]>;
  hdel(key: string, field: string): Promise<void>;
  hgetall(key: string): Promise<Record<string, string>>;
  /** atomic add to a hash field (created at 0 first); returns the new value. One round trip: for counters */
  hincr(key: string, field: string, by?: number): Promise<number>;
  /**
   * atomic "raise to": set a hash field to `value` (a finite number) unless it already holds a number >= `value`;
   * true when this call wrote it. A field holding something that is not a finite number is overwritten. For the
   * latest of times written by several processes (an older write never moves it back)
   */
  hsetMax(key: string, field: string, value: number): Promise<boolean>;

  /** sorted set: for time-ordered indexes (alerts by lastSeen, decisions by until) */
  zadd(key: string, score: number, member: string): Promise<void>;
  zrem(key: string, member: string): Promise<void>;
  /** members with min <= score <= max, ascending (rev: descending), at most `limit` */
  zrange(key: string, min: number, max: number, opts?: { rev?: boolean; limit?: number }): Promise<string[]>;

  /** members of a sorted set */
  zcard(key: string): Promise<number>;

  /**
   * an index ordered by its entries' text (byte order), holding at most one entry per `id`: put `entry` as the id's
   * entry, replacing the one it had (null: remove it). Atomic. For orders of several keys that one score cannot hold
   * (the alert queue by severity, then last seen, then id): the caller writes the keys into the entry, sortably.
   * On Redis the index is the sorted set `index` (every score 0) beside the hash `<index>:ids` (a name no other key
   * may then have); del(index) deletes both
   */
  lexIndexSet(index: string, id: string, entry: string | null): Promise<void>;
  /** entries of a lex index from the highest down, only those below `below` (exclusive) when given, at most `limit` */
  lexIndexRange(index: string, opts: { below?: string; limit: number }): Promise<string[]>;

  /**
   * append-only log (audit): returns the new entry's sequence id. `maxLen`: keep about the newest `maxLen` entries
   * (the oldest are dropped; up to a tenth more may stay between trims)
   */
  append(log: string, entry: string, opts?: { maxLen?: number }): Promise<string>;
  /** entries after `afterId` (exclusive; undefined = from the start), at most `count` */
  readLog(log: string, afterId?: string, count?: number): Promise<{ id: string; entry: string }[]>;
  /** entries before `beforeId` (exclusive; undefined = from the newest), newest first, at most `count` */
  readLogBackwards(log: string, beforeId: string | undefined, count: number): Promise<{ id: string; entry: string }[]>;

  /**
   * Fire-and-forget notification to every subscriber of `channel`, in this process and (Redis) in every other
   * process on the same store. Not durable: a subscriber that is away misses it; read the state itself to catch up.
   */
  publish(channel: string, message: string): Promise<void>;
  /** receive what is published on `channel` from now on; returns the unsubscribe function */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;

  /** true while the store answers */
  healthy(): boolean;
  /** make everything written so far durable (a no-op for Redis); safe to call often */
  flush(): Promise<void>;
  /** flush and disconnect; safe to call twice */
  close(): Promise<void>;
}
