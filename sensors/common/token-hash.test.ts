import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorizationHash, bearerToken, bearerTokenMatcher, tokenHash, tokenHasher } from './token-hash.js';

describe('tokenHash', () => {
  it('matches vectors computed with openssl dgst -sha256 -hmac', () => {
    // printf '%s' TOKEN | openssl dgst -sha256 -hmac KEY, first 32 hex chars
    expect(tokenHash('k3y-meshward', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig')).toBe(
      'h1:6a6e42c9fbb7d74a23401bedc48d91c0',
    );
    expect(tokenHash('k', '')).toBe('h1:8bb990c40a7d61cb97597a942125025b');
    expect(tokenHash('k', 'tøken')).toBe('h1:9ab8a0526850c208f1e67a2f96df3935');
  });

  it('equals the HMAC-SHA256 prefix of node:crypto for any key and token, bound or not', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (key, token) => {
        const want = `h1:${createHmac('sha256', key).update(token).digest('hex').slice(0, 32)}`;
        return tokenHash(key, token) === want && tokenHasher(key)(token) === want;
      }),
    );
  });

  it('differs by key and by token', () => {
    expect(tokenHash('a', 't')).not.toBe(tokenHash('b', 't'));
    expect(tokenHash('a', 't')).not.toBe(tokenHash('a', 'u'));
  });

  it('extracts bearer tokens and hashes other schemes whole', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   xyz ')).toBe('xyz');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    const h = tokenHasher('k');
    expect(authorizationHash(h, 'Bearer abc')).toBe(h('abc'));
    expect(authorizationHash(h, 'Basic dXNlcjpwYXNz')).toBe(h('Basic dXNlcjpwYXNz'));
    expect(authorizationHash(h, '')).toBeUndefined();
  });

  it('matches a bearer token against the configured ones; with none configured, any request passes', () => {
    const matches = bearerTokenMatcher(['first-exporter-token', 'second-exporter-token']);
    expect(matches('Bearer second-exporter-token')).toBe(true);
    expect(matches('Bearer second-exporter-toke')).toBe(false);
    expect(matches('Basic second-exporter-token')).toBe(false);
    expect(matches(undefined)).toBe(false);
    expect(bearerTokenMatcher([])(undefined)).toBe(true);
  });
});
