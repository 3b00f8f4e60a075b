import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../core/record.js';
import { CatalogRoutes } from './catalog/catalog-routes.js';
import { Inventory } from './inventory.js';

let seq = 0;
function rec(over: Partial<ApiCallRecord> & { path: string }): ApiCallRecord {
  seq++;
  return {
    id: `r${seq}`,
    ts: 1_700_000_000_000 + seq * 1000,
    durationMs: 5,
    sensor: { kind: 'fastify', id: 's1' },
    service: 'orders',
    method: 'GET',
    host: 'orders.internal',
    status: 200,
    reqBytes: 0,
    respBytes: 10,
    source: { service: 'web' },
    ...over,
  };
}

describe('Inventory', () => {
  it('counts accepted calls by the credential they carried, and merges the counts when routes meet', () => {
    const inv = new Inventory({ learner: false });
    inv.observe(rec({ path: '/orders/1', user: { tokenHash: 'h1:a' } }));
    inv.observe(rec({ path: '/orders/2', source: { service: 'web', mtls: true } }));
    inv.observe(rec({ path: '/orders/3?api_key=REDACTED' }));
    inv.observe(rec({ path: '/orders/4' }));
    inv.observe(rec({ path: '/orders/5', status: 401 }));
    inv.observe(rec({ path: '/orders/6', status: 302 }));
    expect(inv.get('orders', 'GET', '/orders/{id}')!.auth).toEqual({ token: 1, mtls: 1, key: 1, none: 2 });
    // only rejected calls: no mix yet
    inv.observe(rec({ path: '/carts/1', status: 403 }));
    expect(inv.get('orders', 'GET', '/carts/{id}')!.auth).toBeUndefined();
    const restored = new Inventory({ learner: false });
    restored.restore(JSON.parse(JSON.stringify(inv.snapshot())));
    expect(restored.get('orders', 'GET', '/orders/{id}')!.auth).toEqual({ token: 1, mtls: 1, key: 1, none: 2 });
    // a learned fold merges /users/alice … /users/dave, and their counts
    const folding = new Inventory({ learner: { maxDistinct: 3 } });
    folding.observe(rec({ path: '/users/alice', user: { sub: 'alice' } }));
    folding.observe(rec({ path: '/users/bob' }));
    folding.observe(rec({ path: '/users/carol', user: { sub: 'carol' } }));
    folding.observe(rec({ path: '/users/dave' }));
    expect(folding.get('orders', 'GET', '/users/{param}')!.auth).toEqual({ token: 2, mtls: 0, key: 0, none: 2 });
  });

  it('groups calls by service + method + route template and tracks counts, callers, params and status mix', () => {
    const inv = new Inventory();
    inv.observe(rec({ path: '/orders/1?expand=items', source: { service: 'web' } }));
    inv.observe(rec({ path: '/orders/2', status: 404, source: { service: 'mobile' }, params: { id: '2' } }));
    const { created } = inv.observe(rec({ path: '/orders/3', method: 'delete' }));
    expect(created).toBe(true);
    inv.observe(rec({ path: '/anything', route: '/orders/{orderId}' }));
    const e = inv.get('orders', 'GET', '/orders/{id}')!;
    expect(e.count).toBe(2);
    expect(e.callers).toEqual(['web', 'mobile']);
    expect(e.params.sort()).toEqual(['expand', 'id']);
    expect(e.statusMix).toEqual({ '2xx': 1, '4xx': 1 });
    expect(e.firstSeen).toBeLessThan(e.lastSeen);
    expect(e.state).toBe('new');
    expect(e.catalogueId).toBeNull();
    expect(inv.get('orders', 'DELETE', '/orders/{id}')?.count).toBe(1);
    expect(inv.get('orders', 'GET', '/orders/{orderId}')?.count).toBe(1);
    expect(inv.size).toBe(3);
  });

  it('is bounded: the least recently seen endpoint is evicted, callers are capped', () => {
    const inv = new Inventory({ maxEndpoints: 3, maxCallers: 2 });
    for (const p of ['/a', '/b', '/c']) inv.observe(rec({ path: p }));
    inv.observe(rec({ path: '/a' }));
    inv.observe(rec({ path: '/d' }));
    expect(inv.size).toBe(3);
    expect(inv.get('orders', 'GET', '/b')).toBeUndefined();
    expect(inv.get('orders', 'GET', '/a')?.count).toBe(2);
    for (const s of ['x', 'y', 'z']) inv.observe(rec({ path: '/a', source: { service: s } }));
    expect(inv.get('orders', 'GET', '/a')?.callers.length).toBe(2);
  });

  it('learns a position from the calls of every method, and a fold merges the entries of each method', () => {
    const inv = new Inventory({ learner: { maxDistinct: 3 } });
    const calls: [string, string][] = [
      ['GET', 'alice'],
      ['DELETE', 'bob'],
      ['PUT', 'carol'],
    ];
    for (const [method, u] of calls) inv.observe(rec({ method, path: `/users/${u}` }));
    expect(inv.size).toBe(3);
    // a fourth value, under GET: each method's entries move to its own /users/{param}
    inv.observe(rec({ method: 'GET', path: '/users/dave' }));
    expect(
      inv
        .list()
        .map((e) => `${e.method} ${e.route} ${e.count}`)
        .sort(),
    ).toEqual(['DELETE /users/{param} 1', 'GET /users/{param} 2', 'PUT /users/{param} 1']);
    expect(inv.observe(rec({ method: 'PATCH', path: '/users/erin' })).entry.route).toBe('/users/{param}');
    // per method, the three methods' values are one each: nothing folds
    const per = new Inventory({ learner: { maxDistinct: 3, acrossMethods: false } });
    for (const [method, u] of [...calls, ['GET', 'dave']]) per.observe(rec({ method, path: `/users/${u}` }));
    expect(per.size).toBe(4);
  });

  it('merges existing entries when the learner folds a high-cardinality position', () => {
    const inv = new Inventory({ learner: { maxDistinct: 3 } });
    for (const u of ['alice', 'bob', 'carol']) inv.observe(rec({ path: `/users/${u}` }));
    expect(inv.size).toBe(3);
    inv.observe(rec({ path: '/users/dave' }));
    expect(inv.size).toBe(1);
    expect(inv.get('orders', 'GET', '/users/{param}')?.count).toBe(4);
    expect(inv.routeOf(rec({ path: '/users/erin' }))).toBe('/users/{param}');
  });

  it('merges the entries of every position after a word the learner folds across them', () => {
    const inv = new Inventory({ learner: { maxDistinct: 3 } });
    // two members of each of two teams: neither position has more than 3 values, the word before them 4
    for (const [team, user] of [
      ['red', 'alice'],
      ['red', 'bob'],
      ['blue', 'carol'],
    ])
      inv.observe(rec({ path: `/teams/${team}/members/${user}` }));
    expect(inv.size).toBe(3);
    inv.observe(rec({ path: '/teams/blue/members/dave' }));
    // the teams (two values) stay literal; every position after `members` is the parameter, old entries merged
    inv.observe(rec({ path: '/teams/red/members/erin' }));
    expect(
      inv
        .list()
        .map((e) => `${e.route} ${e.count}`)
        .sort(),
    ).toEqual(['/teams/blue/members/{param} 2', '/teams/red/members/{param} 3']);
  });

  it('reports the entries a fold or the cap took away, and those a fold wrote, once', () => {
    const inv = new Inventory({ learner: { maxDistinct: 3 }, maxEndpoints: 4 });
    const ids = ['alice', 'bob', 'carol'].map((u) => inv.observe(rec({ path: `/users/${u}` })).entry.id);
    expect(inv.takeChanges()).toEqual({ gone: [], moved: [] });
    const merged = inv.observe(rec({ path: '/users/dave' })).entry;
    expect(merged.route).toBe('/users/{param}');
    const folded = inv.takeChanges();
    expect(folded.gone.sort()).toEqual([...ids].sort());
    expect(folded.moved).toEqual([merged.id]);
    expect(inv.takeChanges()).toEqual({ gone: [], moved: [] });
    // past the cap the least recently seen goes
    const others = ['/a', '/b', '/c', '/d'].map((p) => inv.observe(rec({ path: p })).entry.id);
    expect(inv.takeChanges()).toEqual({ gone: [merged.id], moved: [] });
    // a restore replaces the whole state: nothing it cleared counts as gone
    const back = new Inventory({ maxEndpoints: 4 });
    back.observe(rec({ path: '/z' }));
    back.restore(JSON.parse(JSON.stringify(inv.snapshot())));
    expect(back.takeChanges()).toEqual({ gone: [], moved: [] });
    expect(
      back
        .list()
        .map((e) => e.id)
        .sort(),
    ).toEqual([...others].sort());
  });

  it('forgets the entries not called for forgetAfterMs of record time, names them gone, and tells the owner', () => {
    const told: string[] = [];
    const hour = 3_600_000;
    const inv = new Inventory({ learner: false, forgetAfterMs: 2 * hour, onForget: (id) => told.push(id) });
    const at = (path: string, ts: number) => inv.observe(rec({ path, ts })).entry;
    const ghost = at('/old', 0);
    at('/live', hour);
    at('/live', 2 * hour);
    // two hours after its call: still listed
    expect(inv.get('orders', 'GET', '/old')).toBeDefined();
    at('/live', 3 * hour);
    expect(inv.get('orders', 'GET', '/old')).toBeUndefined();
    expect(told).toEqual([ghost.id]);
    expect(inv.takeChanges()).toEqual({ gone: [ghost.id], moved: [] });
    // called again: a new entry of the same id, which is not gone
    const back = at('/old', 3 * hour + 1);
    expect(back).toMatchObject({ id: ghost.id, firstSeen: 3 * hour + 1, count: 1 });
    expect(inv.snapshot().lookAt).toBe(4 * hour);
    const never = new Inventory({ learner: false });
    never.observe(rec({ path: '/old', ts: 0 }));
    never.observe(rec({ path: '/live', ts: 1_000 * hour }));
    expect(never.size).toBe(2);
  });

  it('snapshot/restore round-trips through JSON and skips invalid entries', () => {
    const inv = new Inventory();
    inv.observe(rec({ path: '/orders/1' }));
    inv.observe(rec({ path: '/orders/search' }));
    const snap = JSON.parse(JSON.stringify(inv.snapshot()));
    snap.entries.push({ id: 'x', service: 1 }, { __proto__: { polluted: true } });
    const back = new Inventory();
    back.restore(snap);
    expect(
      back
        .list()
        .map((e) => e.route)
        .sort(),
    ).toEqual(['/orders/search', '/orders/{id}']);
    expect(back.list()[0].route).toBe('/orders/search');
    back.restore('garbage');
    back.restore(null);
    expect(back.size).toBe(2);
  });

  it('takes the catalogue template of a catalogued service first; the learner keeps templating the rest', () => {
    const catalogRoutes = new CatalogRoutes([
      {
        id: 'orders-api',
        name: 'orders',
        service: 'orders',
        labels: {},
        endpoints: [
          { method: 'GET', path: '/keys/{keyName}' },
          { method: 'GET', path: '/orders/{orderId}' },
        ],
      },
    ]);
    const inv = new Inventory({ catalogRoutes, learner: { maxDistinct: 3 } });
    for (const k of ['alice', 'bob', 'trent-archive']) inv.observe(rec({ path: `/keys/${k}` }));
    expect(inv.get('orders', 'GET', '/keys/{keyName}')?.count).toBe(3);
    expect(inv.routeOf(rec({ path: '/keys/mallory' }))).toBe('/keys/{keyName}');
    // an id parameter does not take a word: the undocumented sibling is an endpoint of its own
    inv.observe(rec({ path: '/orders/77' }));
    inv.observe(rec({ path: '/orders/export' }));
    expect(inv.get('orders', 'GET', '/orders/{orderId}')?.count).toBe(1);
    expect(inv.get('orders', 'GET', '/orders/export')?.count).toBe(1);
    // another service is templated from its traffic; a learned fold leaves catalogue routes alone
    for (const u of ['ann', 'ben', 'cat', 'dan']) inv.observe(rec({ service: 'users', path: `/users/${u}` }));
    expect(inv.get('users', 'GET', '/users/{param}')?.count).toBe(4);
    for (const k of ['w', 'x', 'y', 'z']) inv.observe(rec({ path: `/orders/${k}` }));
    expect(inv.get('orders', 'GET', '/orders/{param}')?.count).toBe(5);
    expect(inv.get('orders', 'GET', '/orders/{orderId}')?.count).toBe(1);
  });
});
