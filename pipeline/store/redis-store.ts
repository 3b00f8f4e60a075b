import { Redis } from 'ioredis';
import { type MeshwardError, mwError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import type { Store } from './store.js';
import { badShare } from './shares.js';

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS; never logged */
  url: string;
  /** prepended to every key and log name, e.g. `meshward:` (lets instances share one Redis) */
  keyPrefix?: string;
  logger?: Logger;
  /** TCP connect timeout (default 2,000) */
  connectTimeoutMs?: number;
  /** a command not answered by then fails with STORE_UNAVAILABLE (default 2,000) */
  commandTimeoutMs?: number;
  /** reconnect backoff grows by this per attempt up to maxReconnectDelayMs (defaults 100 / 2,000) */
  reconnectStepMs?: number;
  maxReconnectDelayMs?: number;
}

const failures = counter('meshward_store_errors_total', 'state store commands that failed (code: MW_ERR_*)', [
  'store',
  'code',
]);

/** INCRBY / INCRBYFLOAT that sets the TTL only when the key is created; returns the new value as a string. */
const INCR_LUA = `
local existed = redis.call('EXISTS', KEYS[1])
local v
if string.find(ARGV[1], '[%.eE]') then
  v = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
else
  v = redis.call('INCRBY', KEYS[1], ARGV[1])
end
local ttl = tonumber(ARGV[2])
if existed == 0 and ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return tostring(v)
`;

/** SET KEYS[1] ARGV[2] only while it holds ARGV[1] (or, with ARGV[3] = '1', only while it is absent) */
/** Store.setShare: the JSON object of shares by member (shares.ts), one member's set, the total returned */
const SHARE_LUA = `
local shares = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, v = pcall(cjson.decode, raw)
  if ok and type(v) == 'table' then shares = v end
end
local count = tonumber(ARGV[2])
if count > 0 then shares[ARGV[1]] = count else shares[ARGV[1]] = nil end
local kept, total, members = {}, 0, 0
for m, n in pairs(shares) do
  if type(m) == 'string' and type(n) == 'number' and n > 0 and n == math.floor(n) then
    kept[m] = n
    total = total + n
    members = members + 1
  end
end
local encoded = '{}'
if members > 0 then encoded = cjson.encode(kept) end
redis.call('SET', KEYS[1], encoded, 'PX', ARGV[3])
return {tostring(total), members}
`;

const CAS_LUA = `
local current = redis.call('GET', KEYS[1])
if ARGV[3] == '1' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
if ARGV[4] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
`;

/**
 * HSET KEYS[1] ARGV[1] ARGV[2] unless the field holds a finite number >= ARGV[2]; 1 when written. ARGV[2] is written as
 * given (tostring could turn 13-digit epoch ms into 1.7e+12)
 */
const HSET_MAX_LUA = `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
if current and current == current and current > -math.huge and current < math.huge
  and current >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * put ARGV[2] as id ARGV[1]'s entry of the lex index KEYS[1] (a sorted set, every score 0), its ids' entries in the
 * hash KEYS[2]; ARGV[2] = '' removes the id's entry
 */
const LEX_INDEX_SET_LUA = `
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old == ARGV[2] then return 0 end
if old then redis.call('ZREM', KEYS[1], old) end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[1], 0, ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
return 1
`;

/**
 * DEL KEYS[1], and KEYS[2] (`<key>:ids`) with it when the two are a lex index: the sorted set and the hash of its ids'
 * entries. A key of any other kind named so is left
 */
const DEL_LUA = `
if redis.call('TYPE', KEYS[1]).ok == 'zset' and redis.call('TYPE', KEYS[2]).ok == 'hash' then
  return redis.call('DEL', KEYS[1], KEYS[2])
end
return redis.call('DEL', KEYS[1])
`;

type RedisWithIncr = Redis & {
  mwDel(key: string, ids: string): Promise<number>;
  mwLexIndexSet(index: string, ids: string, id: string, entry: string): Promise<number>;
  mwHsetMax(key: string, field: string, value: string): Promise<number>;
  mwCas(key: string, expected: string, value: string, absent: string, ttlMs: string): Promise<number>;
  mwShare(key: string, member: string, count: string, ttlMs: string): Promise<[string, number]>;
  mwIncr(key: string, by: string, ttlMs: string): Promise<string>;
};

/** the hash of a lex index's ids' entries, beside its sorted set */
const idsOf = (index: string): string => `${index}:ids`;

const bound = (n: number): string =>
  n === Number.POSITIVE_INFINITY ? '+inf' : n === Number.NEGATIVE_INFINITY ? '-inf' : String(n);

/**
 * The distributed state store on Redis (ioredis). Logs are Redis Streams (XADD / XRANGE), time indexes sorted sets.
 *
 * Failure behaviour: no offline queue, so during an outage every command fails at once with STORE_UNAVAILABLE and
 * healthy() is false; the client reconnects by itself with a capped backoff. Only before the very first connection
 * do commands wait (up to the connect timeout), so a store used right after creation works.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private readonly redis: RedisWithIncr;
  private readonly prefix: string;
  private readonly logger: Logger;
  private readonly connectTimeoutMs: number;
  private everReady = false;
  private firstReady: Promise<void>;
  private outageLogged = false;
  private closing: Promise<void> | undefined;
  /** the connection in subscriber mode, made at the first subscribe (a subscribed connection runs no commands) */
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  constructor(opts: RedisStoreOptions) {
    this.prefix = opts.keyPrefix ?? '';
    this.logger = opts.logger ?? silentLogger;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    const step = opts.reconnectStepMs ?? 100;
    const maxDelay = opts.maxReconnectDelayMs ?? 2_000;
    this.redis = new Redis(opts.url, {
      connectionName: 'meshward',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: opts.commandTimeoutMs ?? 2_000,
      retryStrategy: (times) => Math.min(times * step, maxDelay),
      lazyConnect: false,
    }) as RedisWithIncr;
    this.redis.defineCommand('mwIncr', { numberOfKeys: 1, lua: INCR_LUA });
    this.redis.defineCommand('mwCas', { numberOfKeys: 1, lua: CAS_LUA });
    this.redis.defineCommand('mwShare', { numberOfKeys: 1, lua: SHARE_LUA });
    this.redis.defineCommand('mwHsetMax', { numberOfKeys: 1, lua: HSET_MAX_LUA });
    this.redis.defineCommand('mwLexIndexSet', { numberOfKeys: 2, lua: LEX_INDEX_SET_LUA });
    this.redis.defineCommand('mwDel', { numberOfKeys: 2, lua: DEL_LUA });
    this.firstReady = new Promise<void>((resolve) => this.redis.once('ready', resolve));
    this.redis.on('ready', () => {
      this.everReady = true;
      if (this.outageLogged) this.logger.info('redis store reconnected');
      this.outageLogged = false;
    });
    this.redis.on('error', (err: Error) => {
      // one line per outage, not one per reconnect attempt
      if (!this.outageLogged && !this.closing) {
        this.outageLogged = true;
        this.logger.warn({ err: err.message }, 'redis store unavailable; reconnecting');
      }
    });
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  healthy(): boolean {
    return !this.closing && this.redis.status === 'ready';
  }

  /** wait for the connection (at most the connect timeout); rejects with STORE_UNAVAILABLE otherwise */
  async ready(timeoutMs = this.connectTimeoutMs): Promise<void> {
    if (this.redis.status === 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(mwError('STORE_UNAVAILABLE', 'redis is not connected')), timeoutMs);
    });
    const readyNow = this.everReady
      ? new Promise<void>((resolve) => this.redis.once('ready', resolve))
      : this.firstReady;
    try {
      await Promise.race([readyNow, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run<T>(op: string, fn: (r: RedisWithIncr) => Promise<T>): Promise<T> {
    if (this.closing) throw this.fail(mwError('STORE_UNAVAILABLE', 'redis store is closed'));
    if (!this.everReady && this.redis.status !== 'ready') {
      try {
        await this.ready();
      } catch (err) {
        throw this.fail(err as MeshwardError);
      }
    }
    try {
      return await fn(this.redis);
    } catch (err) {
      const e = err as Error;
      if (e.name === 'ReplyError') {
        // Redis answered: a wrong type or a bad argument, not an outage
        throw this.fail(mwError('INTERNAL', `redis ${op}: ${e.message}`, undefined, err));
      }
      throw this.fail(mwError('STORE_UNAVAILABLE', `redis ${op}: ${e.message}`, undefined, err));
    }
  }

  private fail(err: MeshwardError): MeshwardError {
    failures.inc({ store: 'redis', code: err.code });
    return err;
  }

  get(key: string): Promise<string | null> {
    return this.run('get', (r) => r.get(this.k(key)));
  }

  mget(keys: string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.run('mget', (r) => r.mget(keys.map((x) => this.k(x))));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.run('set', (r) =>
      ttlMs !== undefined && ttlMs > 0 ? r.set(this.k(key), value, 'PX', Math.ceil(ttlMs)) : r.set(this.k(key), value),
    );
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    const reply = await this.run('setIfAbsent', (r) =>
      ttlMs !== undefined && ttlMs > 0
        ? r.set(this.k(key), value, 'PX', Math.ceil(ttlMs), 'NX')
        : r.set(this.k(key), value, 'NX'),
    );
    return reply === 'OK';
  }

  async compareAndSet(key: string, expected: string | null, value: string, ttlMs?: number): Promise<boolean> {
    const ttl = ttlMs !== undefined && ttlMs > 0 ? String(Math.ceil(ttlMs)) : '0';
    const set = await this.run('compareAndSet', (r) =>
      r.mwCas(this.k(key), expected ?? '', value, expected === null ? '1' : '0', ttl),
    );
    return set === 1;
  }

  async del(key: string): Promise<void> {
    await this.run('del', (r) => r.mwDel(this.k(key), this.k(idsOf(key))));
  }

  async setShare(
    key: string,
    member: string,
    count: number,
    ttlMs: number,
  ): Promise<{ total: number; members: number }> {
    const bad = badShare(count);
    if (bad) throw this.fail(bad);
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    const [total, members] = await this.run('setShare', (r) => r.mwShare(this.k(key), member, String(count), ttl));
    return { total: Number(total), members: Number(members) };
  }

  async incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    if (!Number.isFinite(by)) throw this.fail(mwError('BAD_REQUEST', `incr: ${by} is not a finite number`));
    const ttl = ttlMs !== undefined && ttlMs > 0 ? String(Math.ceil(ttlMs)) : '0';
    return Number(await this.run('incr', (r) => r.mwIncr(this.k(key), String(by), ttl)));
  }

  async hset(key: string, field: string, value: string): Promise<void> {
    await this.run('hset', (r) => r.hset(this.k(key), field, value));
  }

  hget(key: string, field: string): Promise<string | null> {
    return this.run('hget', (r) => r.hget(this.k(key), field));
  }

  hmget(key: string, fields: string[]): Promise<(string | null)[]> {
    if (fields.length === 0) return Promise.resolve([]);
    return this.run('hmget', (r) => r.hmget(this.k(key), ...fields));
  }

  async hdel(key: string, field: string): Promise<void> {
    await this.run('hdel', (r) => r.hdel(this.k(key), field));
  }

  hgetall(key: string): Promise<Record<string, string>> {
    return this.run('hgetall', (r) => r.hgetall(this.k(key)));
  }

  async hincr(key: string, field: string, by = 1): Promise<number> {
    if (!Number.isInteger(by)) throw this.fail(mwError('BAD_REQUEST', `hincr: ${by} is not an integer`));
    return this.run('hincrby', (r) => r.hincrby(this.k(key), field, by));
  }

  async hsetMax(key: string, field: string, value: number): Promise<boolean> {
    if (!Number.isFinite(value)) throw this.fail(mwError('BAD_REQUEST', `hsetMax: ${value} is not a finite number`));
    return (await this.run('hsetMax', (r) => r.mwHsetMax(this.k(key), field, String(value)))) === 1;
  }

  async zadd(key: string, score: number, member: string): Promise<void> {
    await this.run('zadd', (r) => r.zadd(this.k(key), bound(score), member));
  }

  async zrem(key: string, member: string): Promise<void> {
    await this.run('zrem', (r) => r.zrem(this.k(key), member));
  }

  zrange(key: string, min: number, max: number, opts: { rev?: boolean; limit?: number } = {}): Promise<string[]> {
    // ZRANGE ... BYSCORE REV takes the bounds high to low
    const args: (string | number)[] = opts.rev
      ? [bound(max), bound(min), 'BYSCORE', 'REV']
      : [bound(min), bound(max), 'BYSCORE'];
    if (opts.limit !== undefined) {
      if (opts.limit <= 0) return Promise.resolve([]);
      args.push('LIMIT', 0, Math.floor(opts.limit));
    }
    return this.run('zrange', (r) => r.call('ZRANGE', this.k(key), ...args) as Promise<string[]>);
  }

  zcard(key: string): Promise<number> {
    return this.run('zcard', (r) => r.zcard(this.k(key)));
  }

  async lexIndexSet(index: string, id: string, entry: string | null): Promise<void> {
    if (entry === '') throw this.fail(mwError('BAD_REQUEST', 'lexIndexSet: an entry is not empty'));
    await this.run('lexIndexSet', (r) => r.mwLexIndexSet(this.k(index), this.k(idsOf(index)), id, entry ?? ''));
  }

  lexIndexRange(index: string, opts: { below?: string; limit: number }): Promise<string[]> {
    if (opts.limit <= 0) return Promise.resolve([]);
    const max = opts.below === undefined ? '+' : `(${opts.below}`;
    return this.run('lexIndexRange', (r) =>
      r.zrevrangebylex(this.k(index), max, '-', 'LIMIT', 0, Math.floor(opts.limit)),
    );
  }

  async append(log: string, entry: string, opts: { maxLen?: number } = {}): Promise<string> {
    // MAXLEN ~ trims whole stream nodes only: at least maxLen entries stay, and the trim costs nearly nothing
    const id = await this.run('append', (r) =>
      opts.maxLen === undefined
        ? r.xadd(this.k(log), '*', 'e', entry)
        : r.xadd(this.k(log), 'MAXLEN', '~', Math.floor(opts.maxLen), '*', 'e', entry),
    );
    if (id === null) throw this.fail(mwError('INTERNAL', 'redis append: XADD returned no id'));
    return id;
  }

  async readLog(log: string, afterId?: string, count?: number): Promise<{ id: string; entry: string }[]> {
    if (count !== undefined && count <= 0) return [];
    if (afterId !== undefined && !/^\d+-\d+$/.test(afterId)) {
      throw this.fail(mwError('BAD_REQUEST', `readLog: "${afterId}" is not a log id`));
    }
    const start = afterId === undefined ? '-' : `(${afterId}`;
    const rows = await this.run('readLog', (r) =>
      count === undefined
        ? r.xrange(this.k(log), start, '+')
        : r.xrange(this.k(log), start, '+', 'COUNT', Math.floor(count)),
    );
    return rows.map(logEntry);
  }

  async readLogBackwards(
    log: string,
    beforeId: string | undefined,
    count: number,
  ): Promise<{ id: string; entry: string }[]> {
    if (count <= 0) return [];
    if (beforeId !== undefined && !/^\d+-\d+$/.test(beforeId)) {
      throw this.fail(mwError('BAD_REQUEST', `readLogBackwards: "${beforeId}" is not a log id`));
    }
    const end = beforeId === undefined ? '+' : `(${beforeId}`;
    const rows = await this.run('readLogBackwards', (r) =>
      r.xrevrange(this.k(log), end, '-', 'COUNT', Math.floor(count)),
    );
    return rows.map(logEntry);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.run('publish', (r) => r.publish(this.k(channel), message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    if (this.closing) throw this.fail(mwError('STORE_UNAVAILABLE', 'redis store is closed'));
    const sub = this.subscriberConnection();
    const name = this.k(channel);
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
      // ioredis resubscribes by itself after a reconnect; before the first connection the command is queued
      await sub.subscribe(name).catch((err: Error) => {
        this.handlers.delete(name);
        throw this.fail(mwError('STORE_UNAVAILABLE', `redis subscribe: ${err.message}`, undefined, err));
      });
    }
    set.add(onMessage);
    return async () => {
      const s = this.handlers.get(name);
      if (!s?.delete(onMessage) || s.size > 0) return;
      this.handlers.delete(name);
      if (!this.closing) await sub.unsubscribe(name).catch(() => {});
    };
  }

  private subscriberConnection(): Redis {
    if (this.subscriber) return this.subscriber;
    // same address and timeouts; an offline queue so subscriptions made during an outage are sent on reconnect
    const sub = this.redis.duplicate({
      connectionName: 'meshward-sub',
      enableOfflineQueue: true,
      commandTimeout: undefined,
    });
    sub.on('error', () => {}); // the command connection already reports outages, once each
    sub.on('message', (channel: string, message: string) => {
      for (const h of this.handlers.get(channel) ?? []) {
        try {
          h(message);
        } catch (err) {
          this.logger.error({ err: (err as Error).message, channel }, 'store subscriber failed');
        }
      }
    });
    this.subscriber = sub;
    return sub;
  }

  /** Redis holds the data; durability is its own configuration (AOF / replicas) */
  async flush(): Promise<void> {}

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.handlers.clear();
      this.subscriber?.disconnect();
      if (this.redis.status === 'ready') {
        await this.redis.quit().catch(() => this.redis.disconnect());
      } else {
        this.redis.disconnect();
      }
    })();
    return this.closing;
  }
}

export function createRedisStore(opts: RedisStoreOptions): RedisStore {
  return new RedisStore(opts);
}

/** a stream entry as a log entry: its id and its `e` field */
function logEntry([id, fields]: [string, string[]]): { id: string; entry: string } {
  const i = fields.indexOf('e');
  return { id, entry: i >= 0 ? fields[i + 1] : '' };
}
