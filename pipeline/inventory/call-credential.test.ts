import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../core/record.js';
import { CredentialSight, credentialOf, forEachQueryName } from './call-credential.js';

const call = (o: Partial<ApiCallRecord> = {}): ApiCallRecord => ({
  id: 'r',
  ts: 0,
  durationMs: 1,
  sensor: { kind: 'test', id: 't' },
  service: 's',
  method: 'GET',
  host: 'h',
  path: '/x',
  status: 200,
  reqBytes: 0,
  respBytes: 0,
  source: { ip: '81.0.0.1' },
  ...o,
});

describe('credentialOf', () => {
  it.each([
    ['a hashed Authorization credential', { user: { tokenHash: 'h1:ab' } }, 'token'],
    ['an identified user', { user: { sub: 'alice' } }, 'token'],
    ['an OAuth client', { user: { clientId: 'web' } }, 'token'],
    ['a failed sign-in outcome alone', { user: { authOutcome: 'failure' as const } }, 'none'],
    ['a peer certificate', { source: { ip: '10.0.0.1', mtls: true } }, 'mtls'],
    ['a SPIFFE principal', { source: { ip: '10.0.0.1', principal: 'spiffe://c/ns/a/sa/b' } }, 'mtls'],
    ['a service name alone (a claim, not a credential)', { source: { ip: '10.0.0.1', service: 'web' } }, 'none'],
    ['a credential-named parameter', { params: { api_key: 'REDACTED', q: 'x' } }, 'key'],
    ['a credential in the query string', { path: '/x?q=1&access_token=REDACTED' }, 'key'],
    ['a paging token', { path: '/x?pageToken=abc' }, 'none'],
    ['nothing', {}, 'none'],
  ])('%s → %s', (_what, over, want) => {
    expect(credentialOf(call(over as Partial<ApiCallRecord>))).toBe(want);
  });
});

describe('forEachQueryName', () => {
  it('visits names, skips empty and overlong ones, and stops when told', () => {
    const seen: string[] = [];
    forEachQueryName(`/p?a=1&&b&=x&${'n'.repeat(129)}=2&c=3&d=4`, (n) => {
      seen.push(n);
      return n !== 'c';
    });
    expect(seen).toEqual(['a', 'b', 'c']);
    forEachQueryName('/no/query', () => {
      throw new Error('called');
    });
  });
});

describe('CredentialSight', () => {
  it('takes a call without a credential as anonymous only from a sensor that has reported one', () => {
    const sight = new CredentialSight();
    const edge = call({ sensor: { kind: 'nginx', id: 'edge' } });
    expect(sight.judge(edge, 'none')).toBeUndefined();
    expect(sight.judge({ ...edge, user: { tokenHash: 'h1:a' } }, 'token')).toBe('token');
    expect(sight.judge(edge, 'none')).toBe('none');
    // another sensor, and the same id of another kind, are judged on their own
    expect(sight.judge(call({ sensor: { kind: 'haproxy', id: 'edge' } }), 'none')).toBeUndefined();
    const back = new CredentialSight();
    back.load(JSON.parse(JSON.stringify(sight.dump())));
    expect(back.judge(edge, 'none')).toBe('none');
    back.load('nonsense');
    expect(back.judge(edge, 'none')).toBeUndefined();
  });
});
