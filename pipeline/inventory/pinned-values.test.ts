import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../sensors/common/test-records.js';
import { Inventory } from './inventory.js';
import { templatePath } from './path-template.js';
import { MAX_VERSIONS, PinnedValues } from './pinned-values.js';

const pin = (p: PinnedValues, path: string, learn = true, method = 'GET') =>
  p.apply('svc', method, templatePath(path), path, learn);

describe('PinnedValues', () => {
  it('keeps API versions literal in version positions, up to MAX_VERSIONS of them, then makes a parameter', () => {
    const p = new PinnedValues();
    expect(pin(p, '/rest/api/3/issue/42')).toEqual({ template: '/rest/api/3/issue/{id}' });
    expect(pin(p, '/rest/api/2/issue/43')).toEqual({ template: '/rest/api/2/issue/{id}' });
    expect(pin(p, '/2017-01-11/functions')).toEqual({ template: '/2017-01-11/functions' });
    expect(pin(p, '/1.0/users?x=1')).toEqual({ template: '/1.0/users' });
    expect(pin(p, '/v/4/items')).toEqual({ template: '/v/4/items' });
    expect(MAX_VERSIONS).toBe(3);
    expect(pin(p, '/rest/api/1/issue/44').template).toBe('/rest/api/1/issue/{id}');
    // a fourth value: the position is a parameter, and the pinned ones are named for their routes to be merged
    expect(pin(p, '/rest/api/7/issue/45')).toEqual({
      template: '/rest/api/{id}/issue/{id}',
      unpinned: [{ index: 3, values: ['3', '2', '1'] }],
    });
    expect(pin(p, '/rest/api/3/issue/46').template).toBe('/rest/api/{id}/issue/{id}');
  });

  it('pins point releases wherever they sit; another decimal first makes the position a parameter', () => {
    const p = new PinnedValues();
    expect(pin(p, '/api.xro/2.0/Invoices').template).toBe('/api.xro/2.0/Invoices');
    expect(pin(p, '/ws/1.1/track.get').template).toBe('/ws/1.1/track.get');
    expect(pin(p, '/ws/1.0/track.get').template).toBe('/ws/1.0/track.get');
    expect(pin(p, '/ws/10.2/track.get').template).toBe('/ws/10.2/track.get');
    expect(pin(p, '/ws/2.0/track.get')).toEqual({
      template: '/ws/{num}/track.get',
      unpinned: [{ index: 2, values: ['1.1', '1.0', '10.2'] }],
    });
    // a price is no release: the position is a parameter from its first value, later short decimals included
    expect(pin(p, '/prices/12.50').template).toBe('/prices/{num}');
    expect(pin(p, '/prices/1.5').template).toBe('/prices/{num}');
    expect(pin(p, '/geo/51.5072/-0.1276').template).toBe('/geo/{num}/{num}');
    // integers and dates stay pinned in version positions only
    expect(pin(p, '/company/3/x').template).toBe('/company/{id}/x');
    expect(pin(p, '/amazonclouddirectory/2017-01-11/schema').template).toBe('/amazonclouddirectory/{date}/schema');
  });

  it('never pins outside version positions, long ids, or values it was not allowed to learn', () => {
    const p = new PinnedValues();
    expect(pin(p, '/orders/3').template).toBe('/orders/{id}');
    expect(pin(p, '/api/12345/x').template).toBe('/api/{id}/x');
    expect(pin(p, '/api/7/x').template).toBe('/api/{id}/x'); // a long id came first: a parameter for good
    expect(pin(p, '/v1/users/2024-05-01').template).toBe('/v1/users/{date}');
    expect(pin(p, '/api/a@b.example/x').template).toBe('/api/{email}/x');
    expect(pin(p, '/2020-05-31/x', false).template).toBe('/{date}/x');
    expect(pin(p, '/2020-05-31/x').template).toBe('/2020-05-31/x');
    expect(pin(p, '/2020-05-31/x', false).template).toBe('/2020-05-31/x');
    // per method
    expect(pin(p, '/2020-05-31/x', false, 'POST').template).toBe('/{date}/x');
  });

  it('snapshot and restore keep pinned values and parameters, least recent first; junk is skipped', () => {
    const p = new PinnedValues();
    pin(p, '/api/3/a');
    for (const v of ['1', '2', '3', '4']) pin(p, `/rest/${v}/b`);
    const back = new PinnedValues();
    back.restore(JSON.parse(JSON.stringify(p.snapshot())));
    expect(back.snapshot()).toEqual([
      ['svc GET /api', ['3']],
      ['svc GET /rest', []],
    ]);
    expect(pin(back, '/api/3/a', false).template).toBe('/api/3/a');
    expect(pin(back, '/rest/1/b', false).template).toBe('/rest/{id}/b');
    back.restore([['k', ['a', 'b', 'c', 'd']], ['k2', 'x'], 7, null]);
    expect(back.snapshot()).toEqual([]);
  });
});

describe('Inventory with pinned versions', () => {
  it('keeps versions apart and merges their entries when the position turns out to be a parameter', () => {
    const inv = new Inventory();
    const rec = (path: string) => sampleRecord(0, { service: 'jira', host: 'jira.internal', path, route: undefined });
    for (const v of ['2', '3']) {
      inv.observe(rec(`/rest/api/${v}/issue/10`));
      inv.observe(rec(`/rest/api/${v}/project`));
    }
    expect(
      inv
        .list()
        .map((e) => e.route)
        .sort(),
    ).toEqual(['/rest/api/2/issue/{id}', '/rest/api/2/project', '/rest/api/3/issue/{id}', '/rest/api/3/project']);
    expect(inv.routeOf(rec('/rest/api/3/project'))).toBe('/rest/api/3/project');
    // a third and a fourth value: a parameter; every entry of the pinned values moves to it
    inv.observe(rec('/rest/api/4/project'));
    inv.observe(rec('/rest/api/5/project'));
    const routes = Object.fromEntries(inv.list().map((e) => [e.route, e.count]));
    expect(routes).toEqual({ '/rest/api/{id}/issue/{id}': 2, '/rest/api/{id}/project': 4 });
    // through a checkpoint
    const back = new Inventory();
    back.restore(JSON.parse(JSON.stringify(inv.snapshot())));
    expect(back.routeOf(rec('/rest/api/3/project'))).toBe('/rest/api/{id}/project');
  });
});
