import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MeshwardError } from '../../core/errors.js';
import { Catalog, entryDescription } from './catalog.js';
import { parseCatalogJsonl } from './jsonl.js';
import { loadCatalogFile, loadCatalogFiles, parseCatalogText } from './load.js';
import { importOpenApi } from './openapi.js';

const td = (f: string) => join(import.meta.dirname, 'testdata', f);

async function catalogError(p: Promise<unknown> | (() => unknown)): Promise<MeshwardError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(MeshwardError);
    expect((err as MeshwardError).code).toBe('MW_ERR_CATALOG_INVALID');
    return err as MeshwardError;
  }
  throw new Error('expected a catalogue error');
}

describe('catalogue import', () => {
  it('imports OpenAPI 3 YAML with labels, servers, params, body fields and deprecation', async () => {
    const [e] = await loadCatalogFile(td('petstore-v3.yaml'));
    expect(e.id).toBe('Petstore');
    expect(e.labels).toEqual({ category: 'ecommerce', lineOfBusiness: 'retail', appCode: 'PET01' });
    expect(e.host).toBe('pets.example.com');
    expect(e.endpoints?.map((x) => `${x.method} ${x.path}`)).toEqual([
      'GET /pets',
      'POST /pets',
      'GET /pets/{petId}',
      'DELETE /pets/{petId}',
    ]);
    expect(e.endpoints?.[1].params).toEqual(['name', 'species']);
    expect(e.endpoints?.[2].params).toEqual(['petId']);
    expect(e.endpoints?.[3].deprecated).toBe(true);
    expect(e.tags).toEqual(['pets']);
  });

  it('imports Swagger 2 JSON with host + basePath and the APIs-guru category', async () => {
    const [e] = await loadCatalogFile(td('petstore-v2.json'));
    expect(e.host).toBe('legacy-pets.example.com');
    expect(e.endpoints).toEqual([{ method: 'GET', path: '/api/pets/{id}', params: ['id'], summary: 'getPet' }]);
    expect(e.labels.category).toBe('ecommerce');
  });

  it('imports a JSONL catalogue, skipping comments', async () => {
    const entries = await loadCatalogFile(td('catalog.jsonl'));
    expect(entries.map((e) => e.id)).toEqual(['payments-api', 'orders-api', 'legacy-orders']);
  });

  it('names the line and field of a bad JSONL entry', async () => {
    const e1 = await catalogError(loadCatalogFile(td('bad-field.jsonl')));
    expect(e1.message).toMatch(/bad-field\.jsonl line 2: endpoints\.0\.method: /);
    const e2 = await catalogError(loadCatalogFile(td('garbage.jsonl')));
    expect(e2.message).toMatch(/line 2: not valid JSON/);
    const e3 = await catalogError(loadCatalogFile(td('duplicate.jsonl')));
    expect(e3.message).toMatch(/line 2: id: duplicate id a/);
    await catalogError(() => parseCatalogJsonl('{"name":"no id","labels":{}}', 'x'));
    await catalogError(loadCatalogFiles([td('catalog.jsonl'), td('catalog.jsonl')]));
    await catalogError(loadCatalogFile(td('missing.jsonl')));
  });

  it('rejects broken YAML, wrong shapes and non-OpenAPI documents with clear errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-cat-'));
    writeFileSync(join(dir, 'broken.yaml'), 'openapi: 3.0.0\ninfo: [unclosed\n');
    expect((await catalogError(loadCatalogFile(join(dir, 'broken.yaml')))).message).toMatch(
      /broken\.yaml: not valid YAML/,
    );
    expect((await catalogError(loadCatalogFile(td('paths-array.json')))).message).toMatch(/: paths: /);
    expect((await catalogError(() => parseCatalogText('{"hello":1}', 'x.json'))).message).toMatch(/: openapi: /);
    expect((await catalogError(() => parseCatalogText('"str"', 'x.json'))).message).toMatch(
      /expected an OpenAPI object/,
    );
    expect((await catalogError(() => parseCatalogText('{"openapi":"3.0.0","info":{}}', 'x.json'))).message).toMatch(
      /info\.title: /,
    );
    await catalogError(() => parseCatalogText('', 'x.yaml'));
    await catalogError(() => parseCatalogText('a: &a [*a, *a]\n', 'x.yaml'));
  });

  it('survives deep nesting and alias bombs without crashing', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    await catalogError(() => parseCatalogText(deep, 'deep.json'));
    const dir = mkdtempSync(join(tmpdir(), 'mw-cat-'));
    writeFileSync(join(dir, 'deep.yaml'), `${'- '.repeat(20_000)}x\n`);
    await catalogError(loadCatalogFile(join(dir, 'deep.yaml')));
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
    ].join('\n');
    await catalogError(() => parseCatalogText(bomb, 'bomb.yaml'));
  });

  it('ignores __proto__ keys (no prototype pollution)', () => {
    const doc = JSON.parse(
      '{"openapi":"3.0.0","__proto__":{"polluted":1},"info":{"title":"P","__proto__":{"x-meshward-labels":{"category":"evil"}}},"paths":{"__proto__":{"get":{}},"/a":{"get":{"__proto__":{"deprecated":true}}}}}',
    );
    const e = importOpenApi(doc, 'proto.json');
    expect(e.labels).toEqual({});
    expect(e.endpoints?.map((x) => x.path)).toEqual(['__proto__', '/a']);
    expect(e.endpoints?.[1].deprecated).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const [j] = parseCatalogJsonl('{"id":"p","name":"p","labels":{},"__proto__":{"deprecated":true}}', 'x');
    expect(j.deprecated).toBeUndefined();
  });
});

describe('catalogue import of third-party YAML', () => {
  it('keeps a document with a custom tag (the tagged value as text), as yaml reads it', () => {
    const text =
      'openapi: 3.0.0\ninfo:\n  title: !Sub "Orders (stage)"\n  version: "1"\npaths:\n  /orders:\n    get: {}\n';
    const [e] = parseCatalogText(text, 'cfn.yaml');
    expect(e.name).toBe('Orders (stage)');
    expect(e.endpoints?.map((x) => x.path)).toEqual(['/orders']);
  });
});

describe('Catalog.match', () => {
  it('matches method + template regardless of placeholder names, preferring the traffic service', async () => {
    const cat = new Catalog([
      ...(await loadCatalogFile(td('catalog.jsonl'))),
      ...(await loadCatalogFile(td('petstore-v3.yaml'))),
    ]);
    expect(cat.match({ service: 'orders', method: 'get', route: '/orders/{id}' })?.entry.id).toBe('orders-api');
    expect(cat.match({ service: 'orders', method: 'GET', route: '/orders/search' })?.entry.id).toBe('orders-api');
    expect(cat.match({ service: 'orders', method: 'POST', route: '/orders/{id}' })).toBeNull();
    expect(cat.match({ service: 'orders', method: 'GET', route: '/orders/{id}/items' })).toBeNull();
    const legacy = cat.match({ service: 'orders', method: 'GET', route: '/v0/orders/{id}' });
    expect(legacy?.deprecated).toBe(true);
    // the server path prefix /v1 is optional in traffic
    expect(
      cat.match({ service: 'pets', host: 'pets.example.com', method: 'GET', route: '/v1/pets/{id}' })?.entry.id,
    ).toBe('Petstore');
    expect(cat.match({ service: 'pets', method: 'DELETE', route: '/pets/{id}' })?.deprecated).toBe(true);
    expect(cat.match({ service: 'pets', method: 'GET', route: '/pets/{id}' })?.deprecated).toBe(false);
  });

  it('with an endpoint in two entries, picks by host and refuses to guess without a hint', () => {
    const mk = (id: string, host: string) => ({
      id,
      name: id,
      host,
      labels: {},
      endpoints: [{ method: 'GET', path: '/health' }],
    });
    const cat = new Catalog([mk('a', 'a.example.com'), mk('b', 'b.example.com')]);
    expect(cat.match({ service: 'x', host: 'b.example.com:443', method: 'GET', route: '/health' })?.entry.id).toBe('b');
    expect(cat.match({ service: 'x', method: 'GET', route: '/health' })).toBeNull();
  });

  it('entryDescription exposes the attributes the association model uses', async () => {
    const [e] = await loadCatalogFile(td('petstore-v3.yaml'));
    const d = entryDescription(e);
    expect(d.paths).toContain('/pets/{petId}');
    expect(d.params).toContain('species');
    expect(d.summaries).toContain('List all pets');
    expect(d.hosts).toContain('pets.example.com');
  });
});
