import { describe, expect, it } from 'vitest';
import { tokenHash } from '../common/token-hash.js';
import { type CallerCredential, RecentCache, createCredentialReader } from './caller-identity.js';

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const fakeJwt = (claims: Record<string, unknown>) => `${b64url({ alg: 'RS256' })}.${b64url(claims)}.c2ln`;

describe('createCredentialReader', () => {
  it('hashes bearer tokens (and other schemes whole) with the keyed hash and decodes sub and acr as labels', () => {
    const read = createCredentialReader('k');
    const jwt = fakeJwt({ sub: 'alice', acr: 'urn:mfa' });
    expect(read(`Bearer ${jwt}`)).toEqual({
      tokenHash: tokenHash('k', jwt),
      isBearer: true,
      sub: 'alice',
      acr: 'urn:mfa',
    });
    expect(read('bearer opaque-1')).toEqual({
      tokenHash: tokenHash('k', 'opaque-1'),
      isBearer: true,
      sub: undefined,
      acr: undefined,
    });
    expect(read(' Basic dXNlcjpwYXNz ')?.tokenHash).toBe(tokenHash('k', 'Basic dXNlcjpwYXNz'));
    expect(read(undefined)).toBeUndefined();
    expect(read('')).toBeUndefined();
    expect(read(`Bearer ${'x'.repeat(20_000)}`)).toBeUndefined();
  });

  it('keeps no raw credential in its cache: keys are SHA-256 digests, entries hold hashes and labels only', () => {
    const cache = new RecentCache<CallerCredential>(100);
    const read = createCredentialReader('k', 100, cache);
    const tokens = Array.from({ length: 10 }, (_, i) => fakeJwt({ sub: `user-${i}` }));
    for (const t of tokens) read(`Bearer ${t}`);
    const keys = cache.keys();
    expect(keys).toHaveLength(10);
    for (const k of keys) expect(k).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const held = JSON.stringify({ keys, values: keys.map((k) => cache.get(k)) });
    for (const t of tokens) {
      expect(held).not.toContain(t);
      expect(held).not.toContain(t.split('.')[1]);
    }
  });

  it('answers repeated values from the cache and, within one batch, from the batch memo; the cache stays bounded', () => {
    const cache = new RecentCache<CallerCredential>(4);
    const read = createCredentialReader('k', 4, cache);
    const turn = new Map<string, CallerCredential>();
    const a = read('Bearer token-a', turn);
    expect(turn.get('Bearer token-a')).toBe(a);
    expect(read('Bearer token-a', turn)).toBe(a);
    turn.clear();
    expect(read('Bearer token-a')).toBe(a);
    for (let i = 0; i < 10; i++) read(`Bearer token-${i}`);
    expect(cache.keys().length).toBeLessThanOrEqual(4);
    // a value evicted from the cache is hashed again, to the same result
    expect(read('Bearer token-a')).toEqual(a);
  });
});
