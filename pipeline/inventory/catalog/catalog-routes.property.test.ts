import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifySegment } from '../path-template.js';
import { CatalogRoutes } from './catalog-routes.js';

/**
 * Against a plain reference router (every template turned into one regular expression, tried in router precedence
 * order by brute force): whatever the templates and the called path, the trie answers a template that matches the
 * path, and the one the reference picks.
 */

const literal = fc.constantFrom('users', 'me', 'orders', 'items', 'search', 'v1', 'export', 'alice', '42', 'a.json');
const param = fc.constantFrom('{id}', '{userId}', '{name}', '{key}');
const segment = fc.oneof(
  { weight: 3, arbitrary: literal },
  { weight: 2, arbitrary: param },
  fc.constant('{name}.json'),
);
const template = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
const value = fc.oneof(
  literal,
  fc.constantFrom('12345', '3f2b8c1e-9d4a-4c7b-8e2f-1a2b3c4d5e6f', 'x.json', '77.json', 'bob', 'export'),
);
const path = fc.array(value, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);

const ID = /^\{(id|userId)\}$/;

/**
 * how a template segment takes a path segment: 0 literal, 1 pattern, 2 id parameter (more specific: values only),
 * 3 other parameter; -1 not at all
 */
function takes(t: string, s: string): number {
  if (!t.includes('{')) return t === s ? 0 : -1;
  if (t === '{name}.json') return /^.+\.json$/.test(s) ? 1 : -1;
  if (ID.test(t)) return classifySegment(s) !== null ? 2 : -1;
  return 3;
}

/** the template a router picks: segment by segment the lowest rank wins (literal, pattern, id, parameter) */
function reference(templates: readonly string[], p: string): string | null {
  const segs = p.slice(1).split('/');
  let best: { t: string; ranks: number[] } | null = null;
  for (const t of new Set(templates)) {
    const ts = t.slice(1).split('/');
    if (ts.length !== segs.length) continue;
    const ranks = ts.map((x, i) => takes(x, segs[i]));
    if (ranks.includes(-1)) continue;
    const better = (a: number[], b: number[]) => {
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
      return false;
    };
    // equal ranks: the first defined wins (the trie keeps the first template of a node)
    if (!best || better(ranks, best.ranks)) best = { t, ranks };
  }
  return best?.t ?? null;
}

describe('catalogue routes (property)', () => {
  it('route the way a brute-force router with the same precedence does', () => {
    fc.assert(
      fc.property(fc.array(template, { minLength: 1, maxLength: 12 }), fc.array(path, { maxLength: 20 }), (ts, ps) => {
        const routes = new CatalogRoutes([
          { id: 'e', name: 'e', service: 's', labels: {}, endpoints: ts.map((t) => ({ method: 'GET', path: t })) },
        ]);
        for (const p of [...ps, ...ts.map((t) => t.replace(/\{[^}]*\}/g, '77'))]) {
          expect(routes.route('s', undefined, 'GET', p)).toBe(reference(ts, p));
        }
      }),
      { numRuns: 300 },
    );
  });
});
