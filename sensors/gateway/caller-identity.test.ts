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

  it('keeps raw values only in its short-lived fast path: the long-lived cache is keyed by SHA-256 digests', () => {
    const cache = new RecentCache<CallerCredential>(100);
    const raw = new RecentCache<CallerCredential>(100);
    const read = createCredentialReader('k', { cacheSize: 100, cache, raw });
    const tokens = Array.from({ length: 10 }, (_, i) => fakeJwt({ sub: `user-${i}` }));
    for (const t of tokens) read(`Bearer ${t}`);
    const keys = cache.keys();
    expect(keys).toHaveLength(10);
    for (const k of keys) expect(k).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const held = JSON.stringify({ keys, values: keys.map((k) => cache.get(k)) });
    for (const t of tokens) expect(held).not.toContain(t.split('.')[1]);

    // the fast path holds a raw value until two expiries pass without a request carrying it
    expect(raw.keys()).toHaveLength(10);
    read.expire();
    expect(raw.keys()).toHaveLength(10);
    read(`Bearer ${tokens[0]}`);
    read.expire();
    expect(raw.keys()).toEqual([`Bearer ${tokens[0]}`]);
    read.expire();
    read.expire();
    expect(raw.keys()).toEqual([]);
    // still answered, from the digest-keyed cache, with the same object
    const again = read(`Bearer ${tokens[3]}`);
    expect(again).toBe(cache.get(keys.find((k) => cache.get(k)?.sub === 'user-3')!));
  });

  it('stays bounded, and hashes an evicted value again to the same result', () => {
    const cache = new RecentCache<CallerCredential>(4);
    const raw = new RecentCache<CallerCredential>(4);
    const read = createCredentialReader('k', { cacheSize: 4, cache, raw });
    const a = read('Bearer token-a');
    expect(read('Bearer token-a')).toBe(a);
    for (let i = 0; i < 10; i++) read(`Bearer token-${i}`);
    expect(cache.keys().length).toBeLessThanOrEqual(4);
    expect(raw.keys().length).toBeLessThanOrEqual(4);
    expect(read('Bearer token-a')).toEqual(a);
  });
});
