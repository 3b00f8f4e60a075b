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
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}

/**
 * Reads a request's credential. `turn`, when given, is a memo of the values already read in the same batch of
 * records (one event-loop turn): the caller clears it when the batch is built, so it holds raw values only that long.
 */
export type CredentialReader = (
  authorization: string | undefined,
  turn?: Map<string, CallerCredential>,
) => CallerCredential | undefined;

/** SHA-256 of a string, base64: the one-shot `crypto.hash` where Node has it (20.12+), otherwise createHash */
const sha256: (s: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (s) => (crypto as unknown as { hash(alg: string, data: string, enc: string): string }).hash('sha256', s, 'base64')
    : (s) => crypto.createHash('sha256').update(s, 'utf8').digest('base64');

/**
 * Hashes credentials and decodes JWT claims once per distinct credential: callers repeat their tokens, so a bounded
 * cache keeps the per-request cost at one SHA-256 and a Map lookup instead of an HMAC plus a base64 and JSON decode.
 *
 * No raw token is kept: the cache is keyed by the SHA-256 of the exact Authorization value (collision resistant, so
 * no caller can be handed another token's hash and user, e.g. to pass a token denied by hash as a harmless one) and
 * its entries hold only the keyed hash and the two decoded labels. The raw value lives in the request until the
 * record is built, at the end of the event-loop turn that answered it. Two generations of `cacheSize / 2` entries.
 */
export function createCredentialReader(
  hashKey: string,
  cacheSize = 10_000,
  cache = new RecentCache<CallerCredential>(cacheSize),
): CredentialReader {
  const hash = tokenHasher(hashKey);
  return (authorization, turn) => {
    if (!authorization || authorization.length > MAX_AUTH_LENGTH) return undefined;
    if (turn) {
      const seen = turn.get(authorization);
      if (seen) return seen;
    }
    const key = sha256(authorization);
    const hit = cache.get(key);
    if (hit) {
      turn?.set(authorization, hit);
      return hit;
    }
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
    cache.set(key, cred);
    turn?.set(authorization, cred);
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
