import { createHmac } from 'node:crypto';

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
