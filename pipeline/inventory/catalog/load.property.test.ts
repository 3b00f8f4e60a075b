import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { MeshwardError } from '../../core/errors.js';
import { Catalog, entryDescription } from './catalog.js';
import { type CatalogEntry, CatalogEntrySchema } from './catalog-entry.js';
import { parseCatalogText } from './load.js';
import { importOpenApi } from './openapi.js';

/**
 * Catalogue import under hostile files: whatever the text (JSONL, OpenAPI / Swagger in JSON or YAML), the result is
 * a list of valid entries with unique ids, or MW_ERR_CATALOG_INVALID naming the file (and line, for JSONL). Nothing
 * throws anything else, nothing touches Object.prototype, and the loaded catalogue can match traffic.
 */

const td = (f: string) => readFileSync(join(import.meta.dirname, 'testdata', f), 'utf8');
const JSONL = td('catalog.jsonl');
const V3_YAML = td('petstore-v3.yaml');
const V2_JSON = td('petstore-v2.json');
const V3 = parseYaml(V3_YAML) as Record<string, unknown>;
const V2 = JSON.parse(V2_JSON) as Record<string, unknown>;

const protoSnapshot = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');

function expectEntriesOrCatalogInvalid(run: () => CatalogEntry[], source: string): CatalogEntry[] | undefined {
  let entries: CatalogEntry[];
  try {
    entries = run();
  } catch (err) {
    expect(err, String((err as Error)?.stack ?? err)).toBeInstanceOf(MeshwardError);
    expect((err as MeshwardError).code).toBe('MW_ERR_CATALOG_INVALID');
    expect((err as Error).message).toContain(source);
    return undefined;
  }
  for (const e of entries) expect(Value.Check(CatalogEntrySchema, e), JSON.stringify(e).slice(0, 300)).toBe(true);
  expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
  // what was loaded is usable: indexed, matched against traffic, described for association
  const catalog = new Catalog(entries);
  for (const e of entries) {
    entryDescription(e);
    for (const ep of e.endpoints ?? [])
      catalog.match({ service: e.service ?? 'x', host: e.host, method: ep.method, route: ep.path });
  }
  return entries;
}

const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, [], {}, '', 0, -1, true, '3.0.0', '2.0', 'x'.repeat(3000), '/pets/{id}', 'http://[::1'),
);

/** a document with values replaced at random places (keys kept, so the deep reading runs) */
function mutate(base: Record<string, unknown>) {
  return fc.array(fc.tuple(fc.nat(), anyValue), { minLength: 1, maxLength: 4 }).map((edits) => {
    const doc = structuredClone(base);
    const paths: string[][] = [];
    const walk = (v: unknown, at: string[]) => {
      paths.push(at);
      if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
    };
    walk(doc, []);
    for (const [i, value] of edits) {
      const path = paths[1 + (i % (paths.length - 1))];
      let o = doc as Record<string, unknown>;
      for (const k of path.slice(0, -1)) {
        if (o[k] === null || typeof o[k] !== 'object') break;
        o = o[k] as Record<string, unknown>;
      }
      // a copy: fc.constantFrom hands out the same {} / [] each time, and a later edit may write into an earlier one
      o[path[path.length - 1]] = structuredClone(value);
    }
    return doc;
  });
}

const splice = (text: string) =>
  fc
    .tuple(fc.nat(text.length), fc.nat(8), fc.string({ maxLength: 6 }))
    .map(([at, cut, junk]) => text.slice(0, at) + junk + text.slice(Math.min(text.length, at + cut)));

const hostileText = fc.constantFrom(
  '',
  '\ufeff{}',
  // deep enough to overflow a recursive parser (yaml's composer gives up near 800 levels)
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
  `openapi: 3.0.0\ninfo: ${'{a: '.repeat(3000)}1${'}'.repeat(3000)}\n`,
  `openapi: 3.0.0\npaths: ${'- '.repeat(5000)}1\n`,
  'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
  '{"openapi":"3.0.0","info":{"title":"t"},"paths":{"__proto__":{"get":{"summary":"x"}},"constructor":{"get":{}}}}',
  '{"__proto__":{"polluted":true},"openapi":"3.0.0","info":{"title":"t","__proto__":{"x-meshward-id":"evil"}}}',
  '{"openapi":"3.1.0","info":{"title":"t"},"servers":[{"url":"http://[::1"},{"url":"{scheme}://host"}],"paths":{}}',
  '{"swagger":"2.0","info":{"title":"t"},"host":"a b c","basePath":"////","paths":{"/x":{"get":{"parameters":[null,1,{"name":{}}]}}}}',
  '{"id":"x","name":"n","labels":{},"__proto__":{"polluted":true}}\n{"id":"constructor","name":"n","labels":{}}\n{"id":"__proto__","name":"n","labels":{}}',
  '{"id":"a","name":"n","labels":{}}\n{"id":"a","name":"n","labels":{}}',
);

describe('catalogue import under hostile files (property)', () => {
  it('any text as .jsonl, .json, .yaml: valid entries with unique ids, or MW_ERR_CATALOG_INVALID naming the file', () => {
    const proto = protoSnapshot();
    const outcomes = { loaded: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.oneof(splice(JSONL), fc.string({ maxLength: 300 })), fc.constant('.jsonl')),
          fc.tuple(
            fc.oneof(
              splice(V2_JSON),
              mutate(V2).map((d) => JSON.stringify(d)),
            ),
            fc.constant('.json'),
          ),
          fc.tuple(
            fc.oneof(
              splice(V3_YAML),
              mutate(V3).map((d) => toYaml(d)),
            ),
            fc.constantFrom('.yaml', '.yml'),
          ),
          fc.tuple(fc.string({ maxLength: 300, unit: 'binary' }), fc.constantFrom('.json', '.yaml', '.jsonl', '')),
          fc.tuple(hostileText, fc.constantFrom('.json', '.yaml', '.jsonl')),
        ),
        ([text, ext]) => {
          const source = `catalogue-under-test${ext}`;
          const got = expectEntriesOrCatalogInvalid(() => parseCatalogText(text, source), source);
          outcomes[got ? 'loaded' : 'refused']++;
          expect(protoSnapshot()).toBe(proto);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
    expect(outcomes.loaded).toBeGreaterThan(30);
    expect(outcomes.refused).toBeGreaterThan(30);
  });

  it('a JSONL catalogue loads exactly its entries in order, or stops at the first bad line, naming it', () => {
    const entries = JSONL.split('\n').filter((l) => l.startsWith('{'));
    const line = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...entries) },
      { weight: 2, arbitrary: fc.constantFrom('', '   ', '# a comment', '\t# indented comment') },
      fc.string({ maxLength: 40 }).map((s) => s.replace(/\n/g, ' ')),
      fc.constantFrom(...entries).chain((e) => splice(e)),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), (lines) => {
        const source = 'lines.jsonl';
        // the reference reading: first line that is not blank/comment and not a valid, new entry
        let firstBad = -1;
        const ids = new Set<string>();
        const good: unknown[] = [];
        lines.forEach((l, i) => {
          const t = l.trim();
          if (firstBad >= 0 || !t || t.startsWith('#')) return;
          let v: unknown;
          try {
            v = JSON.parse(t);
          } catch {
            firstBad = i;
            return;
          }
          const id = (v as { id?: unknown })?.id;
          if (!Value.Check(CatalogEntrySchema, v) || ids.has(id as string)) firstBad = i;
          else {
            ids.add(id as string);
            good.push(v);
          }
        });
        const got = expectEntriesOrCatalogInvalid(() => parseCatalogText(lines.join('\n'), source), source);
        if (firstBad === -1) expect(got).toEqual(good);
        else {
          expect(got).toBeUndefined();
          expect(() => parseCatalogText(lines.join('\n'), source)).toThrow(`${source} line ${firstBad + 1}:`);
        }
      }),
      { numRuns: 800 },
    );
  });

  it('any OpenAPI-shaped object converts to a valid entry or MW_ERR_CATALOG_INVALID naming the source', () => {
    const proto = protoSnapshot();
    fc.assert(
      fc.property(
        fc.oneof(mutate(V3), mutate(V2), anyValue, fc.anything({ withNullPrototype: true, maxDepth: 3 })),
        (doc) => {
          expectEntriesOrCatalogInvalid(() => [importOpenApi(doc, 'doc-under-test')], 'doc-under-test');
          expect(protoSnapshot()).toBe(proto);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
