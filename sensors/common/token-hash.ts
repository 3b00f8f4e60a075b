import { createHmac, timingSafeEqual } from 'node:crypto';

/** prefix of the hash format version; a new algorithm gets a new prefix so stored hashes stay comparable */
export const TOKEN_HASH_PREFIX = 'h1:';

/**
 * The keyed token hash used everywhere in meshward: `"h1:" + first 32 hex chars of HMAC-SHA256(key, token)`.
 * Sensors, receivers and enforcement compare tokens only through this value; the raw token never leaves the sensor.
 * The Envoy Wasm sensor implements the same function in AssemblyScript.
 */
export function tokenHash(key: string | Buffer, token: string): string {
  return TOKEN_HASH_PREFIX + createHmac('sha256', key).update(token, 'utf8').digest('hex').slice(0, 32);
}

/** a hasher bound to one key (the key is not kept anywhere else) */
export function tokenHasher(key: string | Buffer): (token: string) => string {
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  return (token) => tokenHash(k, token);
}

const BEARER = /^\s*bearer\s+(\S+)\s*$/i;

/** the token of an `Authorization: Bearer <token>` header value, or undefined */
export function bearerToken(authorization: string | undefined | null): string | undefined {
  if (!authorization) return undefined;
  const m = BEARER.exec(authorization);
  return m ? m[1] : undefined;
}

/**
 * A check of an `Authorization` header value against the configured bearer tokens (of a receiver's `tokens`), each
 * compared in constant time; with no token configured, every request passes (no authentication)
 */
export function bearerTokenMatcher(tokens: readonly string[]): (authorization: string | undefined) => boolean {
  if (tokens.length === 0) return () => true;
  const wanted = tokens.map((t) => Buffer.from(t, 'utf8'));
  return (authorization) => {
    const t = bearerToken(authorization);
    if (!t) return false;
    const got = Buffer.from(t, 'utf8');
    let ok = false;
    for (const w of wanted) if (w.length === got.length && timingSafeEqual(w, got)) ok = true;
    return ok;
  };
}

/**
 * The hash of any credential carried by an Authorization header value: the bearer token, or for other schemes
 * (Basic, custom) the whole value, so two callers with different credentials never share a hash.
 */
export function authorizationHash(
  hash: (token: string) => string,
  authorization: string | undefined | null,
): string | undefined {
  if (!authorization) return undefined;
  const t = bearerToken(authorization);
  return hash(t ?? authorization.trim());
}
