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

  set(key: string, value: V): void {
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}

/**
 * Hashes credentials and decodes JWT claims once per distinct credential: callers repeat their tokens, so an LRU
 * keeps the per-request cost at a Map lookup instead of an HMAC plus a base64 and JSON decode.
 *
 * The cache is keyed by the exact Authorization value and its entries hold no token, only the hash and the two
 * decoded labels: a raw token stays in memory no longer than its key stays in the cache (two generations of `cacheSize / 2`). The key is deliberately
 * not a fast non-cryptographic digest (with length): such digests have collisions an attacker can construct, and a
 * collision would hand one token's hash and user to another token, e.g. letting a token denied by hash pass as a
 * harmless one. An exact key has no collisions and costs no more (V8 hashes and compares the string natively).
 */
export function createCredentialReader(
  hashKey: string,
  cacheSize = 10_000,
): (authorization: string | undefined) => CallerCredential | undefined {
  const hash = tokenHasher(hashKey);
  const cache = new RecentCache<CallerCredential>(cacheSize);
  return (authorization) => {
    if (!authorization || authorization.length > MAX_AUTH_LENGTH) return undefined;
    const hit = cache.get(authorization);
    if (hit) return hit;
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
    cache.set(authorization, cred);
    return cred;
  };
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
