import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifySegment, matchKey, pathOnly, templatePath } from './path-template.js';

const CASES: [string, string][] = [
  ['/users/123', '/users/{id}'],
  ['/users/123/orders/456?expand=items', '/users/{id}/orders/{id}'],
  ['/v1/users/me', '/v1/users/me'],
  ['/api/v2/orders/search', '/api/v2/orders/search'],
  ['/v1beta1/projects/alpha/instances', '/v1beta1/projects/alpha/instances'],
  ['/v3p1beta1/projects/alpha/jobs', '/v3p1beta1/projects/alpha/jobs'],
  ['/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6', '/orders/{uuid}'],
  ['/orders/3FA85F645717456 2B3FC2C963F66AFA6'.replace(' ', ''), '/orders/{uuid}'],
  ['/commits/9fceb02d0ae598e95dc970b74767f19372d61af8', '/commits/{hash}'],
  ['/items/507f1f77bcf86cd799439011', '/items/{hash}'],
  ['/blobs/a1b2c3d4e5', '/blobs/{hash}'],
  ['/reports/2024-01-31', '/reports/{date}'],
  ['/reports/20240131/summary', '/reports/{date}/summary'],
  ['/events/2024-01-31T10:00:00Z', '/events/{date}'],
  ['/users/alice%40example.com/profile', '/users/{email}/profile'],
  ['/users/bob@corp.example.org', '/users/{email}'],
  ['/hosts/10.0.0.12/ports', '/hosts/{ip}/ports'],
  ['/prices/12.50', '/prices/{num}'],
  ['/orders/ORD-123456', '/orders/{id}'],
  ['/customers/cus_9s6XKzkNRiz8i3', '/customers/{id}'],
  ['/keys/sk9s6XKzkNRiz8i3aBcD0eF1gH', '/keys/{token}'],
  ['/customers/usr_8f7a6', '/customers/{id}'],
  [
    '/sessions/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    '/sessions/{token}',
  ],
  ['/files/dGhpcyBpcyBhIHNlY3JldCB0b2tlbg==', '/files/{token}'],
  ['/oauth2/token', '/oauth2/token'],
  ['/s3/buckets', '/s3/buckets'],
  ['/hash/sha256', '/hash/sha256'],
  ['/docs/openapi.json', '/docs/openapi.json'],
  ['/user-profiles/current_user', '/user-profiles/current_user'],
  ['/getUserAccountsByRegion', '/getUserAccountsByRegion'],
  // long camelCase action names with acronyms are words, not tokens (AWS Kinesis Video); random letters are a token
  ['/getDASHStreamingSessionURL', '/getDASHStreamingSessionURL'],
  ['/listAllMyBucketsForTheAccount', '/listAllMyBucketsForTheAccount'],
  ['/keys/aZkQpLmWxYtRvBnMcXsDfGhJ', '/keys/{token}'],
  ['/pets/{petId}/photos', '/pets/{petId}/photos'],
  ['/pets/:petId', '/pets/:petId'],
  ['/', '/'],
  ['', '/'],
  ['/users//42/', '/users/{id}'],
  ['/a/b;jsessionid=ABC123', '/a/b'],
  ['https://api.example.com/v1/items/77?x=1', '/v1/items/{id}'],
  ['/items/77#frag', '/items/{id}'],
  ['/2fa/verify', '/2fa/verify'],
  ['/h264/streams/x9k2m7q4z8', '/h264/streams/{id}'],
  ['/accounts/-15', '/accounts/{id}'],
  ['/catalog/ipv6/2001:db8::1', '/catalog/ipv6/{ip}'],
  // lower-case dotted names read as words, as `example.com` does (the route learner folds them when many); a label
  // with three digits or more, or mixed case, is a value's
  ['/apis/networking.k8s.io/v1/namespaces', '/apis/networking.k8s.io/v1/namespaces'],
  ['/apis/flowcontrol.apiserver.k8s.io/v1beta2', '/apis/flowcontrol.apiserver.k8s.io/v1beta2'],
  ['/hosts/web01.prod.example.com', '/hosts/web01.prod.example.com'],
  ['/files/abc123.json', '/files/{id}'],
  ['/k/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig', '/k/{token}'],
  // numeronyms of four characters at most, and long camelCase names with a digit whose parts are words, are names
  ['/G2M/rest/organizers', '/G2M/rest/organizers'],
  ['/apis/k8s/b2b/i18n', '/apis/k8s/b2b/i18n'],
  ['/v1.0/oauth2PermissionGrants', '/v1.0/oauth2PermissionGrants'],
  ['/subscriptions/p2sVpnServerConfigurations/7', '/subscriptions/p2sVpnServerConfigurations/{id}'],
];

describe('templatePath', () => {
  it.each(CASES)('%s → %s', (raw, want) => {
    expect(templatePath(raw)).toBe(want);
  });

  it('keeps distinct literal endpoints apart and merges values of one endpoint', () => {
    const templates = new Set(
      ['/users/1', '/users/22', '/users/me', '/users/search', '/users/333/orders'].map(templatePath),
    );
    expect([...templates].sort()).toEqual(['/users/me', '/users/search', '/users/{id}', '/users/{id}/orders']);
  });

  it('never throws on malformed percent-encoding', () => {
    expect(templatePath('/files/%E0%A4%A/42')).toBe('/files/{id}/{id}');
    expect(templatePath('/files/%zz/report')).toBe('/files/%zz/report');
  });
});

describe('classifySegment', () => {
  it('returns null for plain words and placeholders for values', () => {
    expect(classifySegment('orders')).toBeNull();
    expect(classifySegment('42')).toBe('{id}');
    expect(classifySegment('{id}')).toBeNull();
  });
});

describe('matchKey / pathOnly', () => {
  it('camelCase names with a digit stay literal; short mixed ids do not', () => {
    for (const name of ['s3Buckets', 'get3dsAvailability', 'ec2Instances', 'k8sClusters'])
      expect(classifySegment(name), name).toBeNull();
    for (const id of ['a1b2c3', 'aB3xYz9Q', 'abc123def0', 'X7K2M9', 'ab3def', 'x7k2m', 'kqzrtw7mna'])
      expect(classifySegment(id), id).not.toBeNull();
    // a long random value with one or two digits is a token, however its letters fall
    for (const token of ['aZkQpLmW4xYtRvBnMcXsDfGhJ', 'Qx7TtRrPpLlKkJjHhGgFfDdSsAa'])
      expect(classifySegment(token), token).toBe('{token}');
    expect(templatePath('/api/s3Buckets/123')).toBe('/api/s3Buckets/{id}');
  });

  it('makes every placeholder style equal', () => {
    expect(matchKey('/Pets/{petId}')).toBe(matchKey('/pets/{id}'));
    expect(matchKey('/pets/:id')).toBe('/pets/{}');
    expect(pathOnly('api//x/?q')).toBe('/api/x');
  });
});

describe('classifySegment fast paths agree with the rules', () => {
  it('plain words under 24 letters stay literal; plain integers (not 8 digits) are ids', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z]{1,23}$/), (w) => {
        expect(classifySegment(w)).toBeNull();
        // the same word with a character the fast path does not take goes through the rules and still stays literal
        expect(classifySegment(`${w}-x`)).toBeNull();
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^\d{1,7}$|^\d{9,18}$/), (n) => {
        expect(classifySegment(n)).toBe('{id}');
        expect(classifySegment(`+${n}`)).toBe('{id}');
      }),
    );
    expect(classifySegment('20240131')).toBe('{date}');
    expect(classifySegment('12345678')).toBe('{id}');
  });
});

/** templating as first written: split on `/`, cut each segment at `;`, classify, join (the scanner must agree) */
function templateBySplitting(rawPath: string): string {
  const parts = pathOnly(rawPath).split('/');
  for (let i = 1; i < parts.length; i++) {
    const semi = parts[i].indexOf(';');
    if (semi !== -1) parts[i] = parts[i].slice(0, semi);
    const ph = classifySegment(parts[i]);
    if (ph) parts[i] = ph;
  }
  return parts.join('/') || '/';
}

describe('templatePath scans without splitting', () => {
  it('agrees with split-classify-join on the cases and on generated paths', () => {
    for (const [raw] of CASES) expect(templatePath(raw)).toBe(templateBySplitting(raw));
    const segment = fc.oneof(
      fc.stringMatching(/^[A-Za-z]{0,30}$/),
      fc.stringMatching(/^\d{0,20}$/),
      fc.stringMatching(/^[A-Za-z0-9;%:=.@_{}-]{0,40}$/),
      fc.constantFrom('v2', 'oauth2', '{id}', ':id', '2024-01-31', '10.0.0.1', 'a;b=1', ';x', '%41', '', 'ORD-12'),
    );
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 8 }),
        fc.constantFrom('', '?a=1', '#f', '/', '//'),
        fc.boolean(),
        (segments, tail, leadingSlash) => {
          const raw = `${leadingSlash ? '/' : ''}${segments.join('/')}${tail}`;
          expect(templatePath(raw)).toBe(templateBySplitting(raw));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
