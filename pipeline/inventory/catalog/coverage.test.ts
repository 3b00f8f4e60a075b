import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from './catalog-entry.js';
import { catalogCoverage } from './coverage.js';

const catalog: CatalogEntry[] = [
  {
    id: 'users-api',
    name: 'Users',
    service: 'users',
    servers: ['https://api.example.com/v2'],
    endpoints: [
      { method: 'get', path: '/users/{id}' },
      { method: 'POST', path: '/users' },
      { method: 'DELETE', path: '/users/{id}', deprecated: true },
    ],
    labels: { appCode: 'USR01' },
  },
  {
    id: 'legacy',
    name: 'Legacy users',
    service: 'users',
    deprecated: true,
    endpoints: [{ method: 'POST', path: '/users' }],
    labels: {},
  },
];

const seen = (catalogueId: string | null, method: string, route: string, count: number, lastSeen: number) => ({
  catalogueId,
  method,
  route,
  count,
  lastSeen,
});

describe('catalogue coverage', () => {
  it("counts an endpoint's calls under each of its paths, and lists the endpoints and entries never called", () => {
    const { summary, entries } = catalogCoverage(catalog, [
      // the same endpoint under the server's path prefix and as defined, its parameter named otherwise
      seen('users-api', 'GET', '/v2/users/{userId}', 5, 2000),
      seen('users-api', 'GET', '/users/{id}', 3, 1000),
      // another entry's call of the same path, and a shadow endpoint: not this entry's
      seen('other', 'POST', '/users', 7, 3000),
      seen(null, 'POST', '/users', 9, 3000),
    ]);
    expect(summary).toEqual({ entries: 2, endpoints: 4, seen: 1, unusedEntries: 1 });
    expect(entries[0]).toEqual({
      id: 'users-api',
      name: 'Users',
      service: 'users',
      labels: { appCode: 'USR01' },
      endpoints: 3,
      seen: 1,
      calls: 8,
      lastSeen: 2000,
      unused: [
        { method: 'POST', path: '/users', calls: 0 },
        { method: 'DELETE', path: '/users/{id}', deprecated: true, calls: 0 },
      ],
    });
    expect(entries[1]).toMatchObject({
      id: 'legacy',
      deprecated: true,
      seen: 0,
      calls: 0,
      unused: [{ path: '/users' }],
    });
    expect(entries[1]).not.toHaveProperty('lastSeen');
  });
});
