import crypto from 'node:crypto';
import { decodeJwt } from 'jose';
import { bearerToken, tokenHasher } from '../common/token-hash.js';

/** What the sensor learns from a request's credential, without keeping the credential. */
export interface CallerCredential {
  /** keyed hash of the bearer token (or of the whole Authorization value for other schemes) */
  tokenHash: string;
  /** true when the scheme is Bearer: step-up verifies the token read again from the request, never from here */
  isBearer: boolean;
  /** claims decoded WITHOUT verification: labels, never proof */
  sub: string | undefined;
  acr: string | undefined;
}

const MAX_AUTH_LENGTH = 16_384;

/**
 * A bounded cache of recently used entries in two generations: lookups hit the current Map, or the previous one
 * (and move up); when the current Map is full it becomes the previous one and the oldest generation is dropped. An
 * approximate LRU at the cost of one or two Map lookups, with no per-hit bookkeeping (lru-cache's `get` costs several
 * times more on this path). At most `max` entries.
 */
export class RecentCache<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get(key: string): V | undefined {
    const v = this.current.get(key);
    if (v !== undefined) return v;
    const old = this.previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  /** the keys held, newest generation first (for tests and diagnostics) */
  keys(): string[] {
    return [...this.current.keys(), ...this.previous.keys()];
  }

  set(key: string, value: V): void {
    if (this.current.size >= this.half) this.rotate();
    this.current.set(key, value);
  }

  /** start a new generation: what was not used since the previous rotation is dropped */
  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

/** Reads a request's credential (see `createCredentialReader`). */
export interface CredentialReader {
  (authorization: string | undefined): CallerCredential | undefined;
  /** forget the raw Authorization values not used since the call before; the plugin calls it every second */
  expire(): void;
}

export interface CredentialReaderOptions {
  /** distinct credentials whose hash and labels are kept (by digest) */
  cacheSize?: number;
  /** for tests: the digest-keyed cache and the raw-keyed one */
  cache?: RecentCache<CallerCredential>;
  raw?: RecentCache<CallerCredential>;
}

/** SHA-256 of a string, base64: the one-shot `crypto.hash` where Node has it (20.12+), otherwise createHash */
const sha256: (s: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (s) => (crypto as unknown as { hash(alg: string, data: string, enc: string): string }).hash('sha256', s, 'base64')
    : (s) => crypto.createHash('sha256').update(s, 'utf8').digest('base64');

/**
 * Hashes credentials and decodes JWT claims once per distinct credential: callers repeat their tokens, so caches keep
 * the per-request cost at a Map lookup instead of an HMAC plus a base64 and JSON decode.
 *
 * Two levels, so that no raw token is kept longer than it is in use:
 * - the long-lived cache (`cacheSize` credentials) is keyed by the SHA-256 of the exact Authorization value and holds
 *   only the keyed hash and the two decoded labels. SHA-256 is collision resistant, so no caller can be handed
 *   another token's hash and user (e.g. to pass a token denied by hash as a harmless one), as a fast digest would
 *   allow;
 * - in front of it, a short-lived Map keyed by the raw value itself (a lookup costs a tenth of a SHA-256): `expire()`,
 *   called every second by the plugin, drops the values not used since the call before, so a raw token stays
 *   referenced at most about two seconds after the last request that carried it, and at most `cacheSize` of them.
 */
export function createCredentialReader(hashKey: string, opts: CredentialReaderOptions = {}): CredentialReader {
  const cacheSize = opts.cacheSize ?? 10_000;
  const hash = tokenHasher(hashKey);
  const cache = opts.cache ?? new RecentCache<CallerCredential>(cacheSize);
  const raw = opts.raw ?? new RecentCache<CallerCredential>(cacheSize);

  const read = (authorization: string | undefined): CallerCredential | undefined => {
    if (!authorization || authorization.length > MAX_AUTH_LENGTH) return undefined;
    const recent = raw.get(authorization);
    if (recent) return recent;
    const key = sha256(authorization);
    let cred = cache.get(key);
    if (!cred) {
      cred = decodeCredential(hash, authorization);
      cache.set(key, cred);
    }
    raw.set(authorization, cred);
    return cred;
  };
  return Object.assign(read, { expire: () => raw.rotate() });
}

function decodeCredential(hash: (token: string) => string, authorization: string): CallerCredential {
  const bearer = bearerToken(authorization);
  const cred: CallerCredential = {
    tokenHash: hash(bearer ?? authorization.trim()),
    isBearer: bearer !== undefined,
    sub: undefined,
    acr: undefined,
  };
  if (bearer && bearer.split('.').length === 3) {
    try {
      const claims = decodeJwt(bearer);
      if (typeof claims.sub === 'string') cred.sub = claims.sub.slice(0, 256);
      if (typeof claims.acr === 'string') cred.acr = claims.acr;
    } catch {
      // not a JWT: an opaque token only has its hash
    }
  }
  return cred;
}

/** a compiled reader of a dotted property path on an object, e.g. `user.id` */
export function propertyReader(path: string): (obj: unknown) => string | undefined {
  const parts = path.split('.').filter(Boolean);
  return (obj) => {
    let v: unknown = obj;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    if (typeof v === 'string') return v.slice(0, 256);
    if (typeof v === 'number') return String(v);
    return undefined;
  };
}
