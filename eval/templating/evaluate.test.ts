import { describe, expect, it } from 'vitest';
import { Rng } from '../../pipeline/core/prng.js';
import type { GuruApi } from '../association/data.js';
import { evaluateTemplating, kindFor, sampleValue, serverPath } from './evaluate.js';

const api = (id: string, paths: string[], method = 'GET'): GuruApi => ({
  id,
  provider: id,
  service: null,
  categories: ['x'],
  endpoints: paths.map((path) => ({ method, path })),
});

const WORDS =
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(
    ' ',
  );

describe('templating evaluation', () => {
  it('draws one kind of value per parameter, of the kind its name suggests', () => {
    const r = new Rng(3);
    expect(kindFor('userEmail', r)).toBe('email');
    expect(kindFor('startDate', r)).toBe('date');
    expect(['int', 'uuid', 'hex']).toContain(kindFor('orderId', r));
    expect(kindFor('repoName', r)).toBe('slug');
    expect(sampleValue('int', r)).toMatch(/^\d+$/);
    expect(sampleValue('uuid', r)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('counts an id endpoint beside a literal sibling right; a dated version is pinned by the learner, else reshaped', () => {
    const defs = [api('a', ['/users/{userId}', '/users/me', '/2013-01-01/search'])];
    const res = evaluateTemplating(defs, { calls: 20, maxDistinct: 50, seed: 1 });
    expect(res).toMatchObject({ apis: 1, endpoints: 3, right: 3, split: 0, merged: 0, reshaped: 0 });
    const shapeOnly = evaluateTemplating(defs, { calls: 20, maxDistinct: 0, seed: 1 });
    expect(shapeOnly).toMatchObject({ apis: 1, endpoints: 3, right: 2, split: 0, merged: 0, reshaped: 1 });
    expect(shapeOnly.examples.reshaped[0]).toContain('GET /{date}/search');
  });

  it('with server paths, calls carry the server URL path first (its variables left out)', () => {
    const xero = {
      ...api('xero', ['/Invoices/{InvoiceID}', '/Invoices']),
      servers: ['https://api.xero.com/api.xro/2.0', 'https://other.example'],
    };
    expect(serverPath(xero)).toBe('/api.xro/2.0');
    expect(serverPath({ ...xero, servers: ['{Endpoint}/vision/v1.0'] })).toBe('');
    expect(serverPath({ ...xero, servers: ['https://{region}.example.com/{basePath}/ws/1.1/'] })).toBe('/ws/1.1');
    const res = evaluateTemplating([xero], { calls: 20, maxDistinct: 200, seed: 1, serverPaths: true });
    expect(res).toMatchObject({ endpoints: 2, right: 2 });
  });

  it('a slug parameter is split until the learner has seen enough values, then one route', () => {
    const slugs = [api('s', ['/tags/{tagName}'])];
    const few = evaluateTemplating(slugs, { calls: 30, maxDistinct: 0, seed: 1 });
    expect(few).toMatchObject({ endpoints: 1, split: 1, right: 0 });
    const many = evaluateTemplating(slugs, { calls: 400, maxDistinct: 50, seed: 1 });
    expect(many).toMatchObject({ endpoints: 1, right: 1 });
  });

  it('endpoints in a catalogue take its templates: a slug parameter is one route from its first call', () => {
    const slugs = [api('s', ['/tags/{tagName}', '/tags/{tagId}/items', '/tags/me'])];
    const shapeOnly = evaluateTemplating(slugs, { calls: 30, maxDistinct: 0, seed: 1 });
    expect(shapeOnly).toMatchObject({ split: 1, catalogued: { endpoints: 0 }, shadow: { endpoints: 3, split: 1 } });
    const catalogued = evaluateTemplating(slugs, { calls: 30, maxDistinct: 0, seed: 1, catalogued: 1 });
    expect(catalogued).toMatchObject({ right: 3, catalogued: { endpoints: 3, right: 3 }, shadow: { endpoints: 0 } });
  });

  it('zipf traffic draws endpoints by popularity: at one call per endpoint on average, rare ones go unseen', () => {
    const defs = [api('z', ['/users/{userName}', ...WORDS.map((w) => `/static/${w}`)])];
    const uniform = evaluateTemplating(defs, { calls: 1, maxDistinct: 0, seed: 1 });
    const zipf = evaluateTemplating(defs, { calls: 1, maxDistinct: 0, seed: 1, traffic: 'zipf' });
    expect(uniform.endpoints).toBe(27);
    expect(zipf.endpoints).toBeLessThan(27);
    expect(zipf.endpoints).toBeGreaterThan(5);
    expect(evaluateTemplating(defs, { calls: 1, maxDistinct: 0, seed: 1, traffic: 'zipf' })).toEqual(zipf);
  });

  it('many literal siblings under one prefix are merged by a learner that folds them, kept apart without it', () => {
    const siblings = [
      api(
        'm',
        WORDS.flatMap((w) => [`/things/${w}`, `/things/${w}2`]),
      ),
    ];
    const folding = evaluateTemplating(siblings, { calls: 5, maxDistinct: 20, seed: 1 });
    expect(folding.merged).toBe(folding.endpoints);
    expect(folding.examples.merged[0]).toContain('GET /things/{param}');
    const literal = evaluateTemplating(siblings, { calls: 5, maxDistinct: 0, seed: 1 });
    expect(literal).toMatchObject({ endpoints: 52, right: 52 });
  });
});
