import { describe, expect, it } from 'vitest';
import { REDACTED, createRedactor, looksSecret } from './redact.js';

describe('looksSecret', () => {
  it.each([
    ['a JWT', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz'],
    ['a bearer header', 'Bearer 0123456789abcdefXYZ'],
    ['a long hex key', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b'],
    ['a base64 key', 'dGhpcyBpcyBhIHNlY3JldCBrZXkgMTIzNDU2Nzg5MA=='],
    ['a stripe-style key', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
    ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE'],
  ])('flags %s', (_what, v) => {
    expect(looksSecret(v)).toBe(true);
  });

  it.each([
    ['a short id', '12345'],
    ['a uuid-less word', 'customer-orders'],
    ['a sentence', 'the quick brown fox jumps over the lazy dog'],
    ['a long plain word', 'supercalifragilisticexpialidociousness'],
    ['an ISO date', '2024-05-01T10:00:00Z'],
  ])('leaves %s alone', (_what, v) => {
    expect(looksSecret(v)).toBe(false);
  });
});

describe('createRedactor', () => {
  it('redacts configured names case-insensitively and secret-looking values elsewhere', () => {
    const r = createRedactor({ names: ['X-Api-Key', 'password'] });
    const out = r.map({
      'x-api-key': 'short',
      Password: 'hunter2',
      q: 'shoes',
      page: 2,
      t: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl',
    });
    expect(out).toEqual({ 'x-api-key': REDACTED, Password: REDACTED, q: 'shoes', page: 2, t: REDACTED });
  });

  it('can turn value detection off', () => {
    const r = createRedactor({ names: [], detectSecrets: false });
    expect(r.value('t', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b')).toBe('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b');
  });

  it('uses the default names when none are given', () => {
    const r = createRedactor();
    expect(r.value('access_token', 'x')).toBe(REDACTED);
    expect(r.value('Authorization', 'x')).toBe(REDACTED);
    expect(r.value('limit', '10')).toBe('10');
  });
});
