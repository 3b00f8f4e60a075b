import { EventEmitter } from 'node:events';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { mwError } from '../core/errors.js';
import { SortedSet } from './sorted-set.js';
import { badShare, sharesOf, totalOf } from './shares.js';
import type { Store } from './store.js';

export interface MemoryStoreOptions {
  /** directory for the snapshot and the append-only logs; absent = nothing survives the process */
  dataDir?: string;
  /** snapshot at most this often when dirty (ms, default 2000); flush() forces it */
  snapshotIntervalMs?: number;
  /** drop the keys whose TTL passed at most this often (ms, default 60,000; 0: only when read) */
  sweepIntervalMs?: number;
  clock?: () => number;
}

interface Snapshot {
  v: 1;
  kv: [string, string, number | null][];
  hashes: [string, [string, string][]][];
  zsets: [string, [string, number][]][];
}

/**
 * The embedded store: maps in memory, persisted to `dataDir` as an atomic JSON snapshot (write temp + rename)
 * plus append-only JSONL files for logs (the audit trail is never rewritten). Restart loads both.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly kv = new Map<string, { value: string; expiresAt: number | null }>();
  private readonly hashes = new Map<string, Map<string, string>>();
  private readonly zsets = new Map<string, SortedSet>();
  private readonly logs = new Map<string, { id: string; entry: string }[]>();
  private readonly logSeq = new Map<string, number>();
  private readonly channels = new EventEmitter<Record<string, [string]>>().setMaxListeners(0);
  private readonly clock: () => number;
  private readonly dataDir?: string;
  private dirty = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;

  constructor(opts: MemoryStoreOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.dataDir = opts.dataDir;
    if (this.dataDir) {
      mkdirSync(join(this.dataDir, 'logs'), { recursive: true });
      this.load();
      this.timer = setInterval(() => this.snapshotIfDirty(), opts.snapshotIntervalMs ?? 2000);
      this.timer.unref();
    }
    const sweepMs = opts.sweepIntervalMs ?? 60_000;
    if (sweepMs > 0) {
      this.sweeper = setInterval(() => this.sweepExpired(), sweepMs);
      this.sweeper.unref();
    }
  }

  /**
   * Drops the keys whose TTL has passed (evidence records, delivery claims, shared counts): a key is otherwise
   * dropped only when read, and most are never read again, so a long-running process would keep them all. Returns how
   * many went
   */
  sweepExpired(): number {
    const now = this.clock();
    let n = 0;
    for (const [key, e] of this.kv) {
      if (e.expiresAt === null || e.expiresAt > now) continue;
      this.kv.delete(key);
      n++;
    }
    if (n > 0) this.dirty = true;
    return n;
  }

  healthy(): boolean {
    return !this.closed;
  }

  private live(key: string): { value: string; expiresAt: number | null } | undefined {
    const e = this.kv.get(key);
    if (e && e.expiresAt !== null && e.expiresAt <= this.clock()) {
      this.kv.delete(key);
      this.dirty = true;
      return undefined;
    }
    return e;
  }

  /** the hash at `key`, created empty when absent (synchronous: a caller's writes stay in one turn) */
  private hash(key: string): Map<string, string> {
    let h = this.hashes.get(key);
    if (!h) {
      h = new Map();
      this.hashes.set(key, h);
    }
    return h;
  }

  /** the sorted set at `key`, created empty when absent (synchronous, as hash) */
  private zset(key: string): SortedSet {
    let z = this.zsets.get(key);
    if (!z) {
      z = new SortedSet();
      this.zsets.set(key, z);
    }
    return z;
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async mget(keys: string[]): Promise<(string | null)[]> {
    return keys.map((k) => this.live(k)?.value ?? null);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.kv.set(key, { value, expiresAt: ttlMs ? this.clock() + ttlMs : null });
    this.dirty = true;
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    if (this.live(key)) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async compareAndSet(key: string, expected: string | null, value: string, ttlMs?: number): Promise<boolean> {
    if ((this.live(key)?.value ?? null) !== expected) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async del(key: string): Promise<void> {
    this.kv.delete(key);
    this.hashes.delete(key);
    this.zsets.delete(key);
    if (this.logs.delete(key) && this.dataDir) rmSync(this.logPath(key), { force: true });
    this.dirty = true;
  }

  async setShare(
    key: string,
    member: string,
    count: number,
    ttlMs: number,
  ): Promise<{ total: number; members: number }> {
    const bad = badShare(count);
    if (bad) throw bad;
    const shares = sharesOf(this.live(key)?.value);
    if (count > 0) shares[member] = count;
    else delete shares[member];
    this.kv.set(key, { value: JSON.stringify(shares), expiresAt: this.clock() + ttlMs });
    this.dirty = true;
    return totalOf(shares);
  }

  async incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    const e = this.live(key);
    const next = (e ? Number(e.value) : 0) + by;
    this.kv.set(key, { value: String(next), expiresAt: e ? e.expiresAt : ttlMs ? this.clock() + ttlMs : null });
    this.dirty = true;
    return next;
  }

  async hset(key: string, field: string, value: string): Promise<void> {
    this.hash(key).set(field, value);
    this.dirty = true;
  }

  async hget(key: string, field: string): Promise<string | null> {
    return this.hashes.get(key)?.get(field) ?? null;
  }

  async hmget(key: string, fields: string[]): Promise<(string | null)[]> {
    const h = this.hashes.get(key);
    return fields.map((f) => h?.get(f) ?? null);
  }

  async hdel(key: string, field: string): Promise<void> {
    this.hashes.get(key)?.delete(field);
    this.dirty = true;
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.hashes.get(key) ?? []);
  }

  async hincr(key: string, field: string, by = 1): Promise<number> {
    // read and write in one turn: hset does its work before its first await, so no other call runs in between
    const next = Number(this.hashes.get(key)?.get(field) ?? 0) + by;
    await this.hset(key, field, String(next));
    return next;
  }

  async hsetMax(key: string, field: string, value: number): Promise<boolean> {
    if (!Number.isFinite(value)) throw mwError('BAD_REQUEST', `hsetMax: ${value} is not a finite number`);
    // read and write in one turn, as hincr
    const current = heldNumber(this.hashes.get(key)?.get(field));
    if (current !== undefined && current >= value) return false;
    await this.hset(key, field, String(value));
    return true;
  }

  async zadd(key: string, score: number, member: string): Promise<void> {
    this.zset(key).add(member, score);
    this.dirty = true;
  }

  async zrem(key: string, member: string): Promise<void> {
    this.zsets.get(key)?.delete(member);
    this.dirty = true;
  }

  async zrange(key: string, min: number, max: number, opts: { rev?: boolean; limit?: number } = {}): Promise<string[]> {
    return this.zsets.get(key)?.range(min, max, opts.rev, opts.limit) ?? [];
  }

  async zcard(key: string): Promise<number> {
    return this.zsets.get(key)?.size ?? 0;
  }

  async lexIndexSet(index: string, id: string, entry: string | null): Promise<void> {
    // the index's entries are a sorted set of score 0, the id → entry map a hash of the same name: del and snapshots
    // take both
    // both in one turn (no await in between), as Redis runs its script: calls for one id at the same time would
    // otherwise each remove the entry the hash held before either wrote, and leave one of theirs in the index for good
    const old = this.hashes.get(index)?.get(id);
    if (old === (entry ?? undefined)) return;
    if (old !== undefined) this.zsets.get(index)?.delete(old);
    if (entry === null) {
      this.hashes.get(index)?.delete(id);
    } else {
      this.zset(index).add(entry, 0);
      this.hash(index).set(id, entry);
    }
    this.dirty = true;
  }

  async lexIndexRange(index: string, opts: { below?: string; limit: number }): Promise<string[]> {
    const z = this.zsets.get(index);
    if (!z) return [];
    return opts.below === undefined ? z.range(0, 0, true, opts.limit) : z.rangeBefore(0, opts.below, opts.limit);
  }

  async append(log: string, entry: string, opts: { maxLen?: number } = {}): Promise<string> {
    const seq = (this.logSeq.get(log) ?? 0) + 1;
    this.logSeq.set(log, seq);
    const id = String(seq).padStart(12, '0');
    let l = this.logs.get(log);
    if (!l) {
      l = [];
      this.logs.set(log, l);
    }
    l.push({ id, entry });
    if (this.dataDir) appendFileSync(this.logPath(log), `${JSON.stringify({ id, entry })}\n`);
    // trimmed a tenth past the cap, so the file is rewritten once per maxLen / 10 appends, not at each
    if (opts.maxLen !== undefined && l.length > opts.maxLen + Math.ceil(opts.maxLen / 10))
      this.trim(log, l, opts.maxLen);
    return id;
  }

  /** keep the newest `maxLen` entries of a log, in memory and in its file (rewritten: temp + rename) */
  private trim(log: string, l: { id: string; entry: string }[], maxLen: number): void {
    l.splice(0, l.length - maxLen);
    if (!this.dataDir) return;
    const file = this.logPath(log);
    writeFileSync(`${file}.tmp`, l.map((e) => `${JSON.stringify(e)}\n`).join(''));
    renameSync(`${file}.tmp`, file);
  }

  async readLog(log: string, afterId?: string, count = 100): Promise<{ id: string; entry: string }[]> {
    const l = this.logs.get(log) ?? [];
    const i = afterId === undefined ? 0 : firstAfter(l, afterId, true);
    return l.slice(i, i + count);
  }

  async readLogBackwards(
    log: string,
    beforeId: string | undefined,
    count: number,
  ): Promise<{ id: string; entry: string }[]> {
    const l = this.logs.get(log) ?? [];
    const end = beforeId === undefined ? l.length : firstAfter(l, beforeId, false);
    return l.slice(Math.max(0, end - count), end).reverse();
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.closed) return;
    // delivered after the caller's turn, like a message that crossed a connection
    queueMicrotask(() => this.channels.emit(channel, message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    this.channels.on(channel, onMessage);
    return async () => {
      this.channels.off(channel, onMessage);
    };
  }

  async flush(): Promise<void> {
    this.snapshotIfDirty();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.snapshotIfDirty();
    this.closed = true;
    this.channels.removeAllListeners();
    if (this.timer) clearInterval(this.timer);
    if (this.sweeper) clearInterval(this.sweeper);
  }

  private logPath(log: string): string {
    return join(this.dataDir as string, 'logs', `${encodeURIComponent(log)}.jsonl`);
  }

  private snapshotIfDirty(): void {
    if (!this.dataDir || !this.dirty || this.closed) return;
    const now = this.clock();
    const snap: Snapshot = {
      v: 1,
      kv: [...this.kv]
        .filter(([, e]) => e.expiresAt === null || e.expiresAt > now)
        .map(([k, e]) => [k, e.value, e.expiresAt]),
      hashes: [...this.hashes].map(([k, h]) => [k, [...h]]),
      zsets: [...this.zsets].map(([k, z]) => [k, [...z.entries()]]),
    };
    const file = join(this.dataDir, 'state.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(snap));
    renameSync(`${file}.tmp`, file);
    this.dirty = false;
  }

  private load(): void {
    const dir = this.dataDir as string;
    const file = join(dir, 'state.json');
    if (existsSync(file)) {
      const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
      for (const [k, v, exp] of snap.kv) this.kv.set(k, { value: v, expiresAt: exp });
      for (const [k, fields] of snap.hashes) this.hashes.set(k, new Map(fields));
      for (const [k, members] of snap.zsets) this.zsets.set(k, new SortedSet(members));
    }
    const logsDir = join(dir, 'logs');
    for (const name of existsSync(logsDir) ? readdirSync(logsDir) : []) {
      if (!name.endsWith('.jsonl')) continue;
      const log = decodeURIComponent(name.slice(0, -'.jsonl'.length));
      const entries: { id: string; entry: string }[] = [];
      for (const line of readFileSync(join(logsDir, name), 'utf8').split('\n')) {
        if (!line) continue;
        try {
          entries.push(JSON.parse(line));
        } catch {
          // a torn last line after a crash: everything before it is intact
        }
      }
      this.logs.set(log, entries);
      this.logSeq.set(log, entries.length > 0 ? Number(entries[entries.length - 1].id) : 0);
    }
  }
}

/** a field's value as a finite number, or undefined for anything else (an empty string too, as Redis reads it) */
function heldNumber(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * ids are zero-padded sequence numbers: binary search for the first entry whose id is above `id` (`orEqual` false:
 * at or above it)
 */
function firstAfter(l: { id: string }[], id: string, orEqual: boolean): number {
  let lo = 0;
  let hi = l.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (l[mid].id < id || (orEqual && l[mid].id === id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
