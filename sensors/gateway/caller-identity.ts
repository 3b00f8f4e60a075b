import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import { bearerToken, tokenHasher } from '../common/token-hash.js';

/** What the sensor learns from a request's credential, without keeping the credential. */
export interface CallerCredential {
  /** keyed hash of the bearer token (or of the whole Authorization value for other schemes) */
  tokenHash: string;
  /** the raw bearer token when the scheme is Bearer (kept only for the request's lifetime, for step-up checks) */
  bearer?: string;
  /** claims decoded WITHOUT verification: labels, never proof */
  sub?: string;
  acr?: string;
}

const MAX_AUTH_LENGTH = 16_384;

/**
 * Hashes credentials and decodes JWT claims once per distinct credential: callers repeat their tokens, so an LRU
 * keeps the per-request cost at a Map lookup instead of an HMAC plus a base64 and JSON decode.
 */
export function createCredentialReader(
  hashKey: string,
  cacheSize = 10_000,
): (authorization: string | undefined) => CallerCredential | undefined {
  const hash = tokenHasher(hashKey);
  const cache = new LRUCache<string, CallerCredential>({ max: cacheSize });
  return (authorization) => {
    if (!authorization || authorization.length > MAX_AUTH_LENGTH) return undefined;
    const hit = cache.get(authorization);
    if (hit) return hit;
    const bearer = bearerToken(authorization);
    const cred: CallerCredential = {
      tokenHash: hash(bearer ?? authorization.trim()),
      bearer,
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
