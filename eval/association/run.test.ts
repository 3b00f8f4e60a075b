import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertWinkEmbeddings } from '../../pipeline/association/build-embedding-cache.js';
import { FEATURE_GROUPS } from '../../pipeline/association/config.js';
import { MeshwardError } from '../../pipeline/core/errors.js';
import { SmartKnn } from '../../pipeline/association/smart-knn.js';
import { readEmbeddingCache } from '../../pipeline/association/word-embeddings.js';
import { defaultDataDir, guruToDescription, loadGuru, parseGuruLines } from './data.js';
import { evaluateEndpoints } from './endpoints.js';
import { evaluateEstate } from './estate.js';
import { scores } from './metrics.js';
import { evaluate } from './run.js';
import { evaluatePoint, prepareFolds } from './search-weights.js';
import { crossValidate, crossValidateSplits, folds } from './tune.js';

const fixture = join(import.meta.dirname, 'testdata');

describe('association evaluation', () => {
  it('scores: accuracy and macro-F1 over the classes present in the truth (hand-computed)', () => {
    // a: tp 1, fn 1, fp 0 → P 1, R 0.5, F1 2/3; b: tp 1, fp 1 → P 0.5, R 1, F1 2/3; c absent from truth
    const s = scores(['a', 'a', 'b'], ['a', 'b', 'b']);
    expect(s.accuracy).toBeCloseTo(2 / 3, 12);
    expect(s.macroF1).toBeCloseTo(2 / 3, 12);
    expect(scores(['a'], ['c']).macroF1).toBe(0);
  });

  it('runs both models on both splits of the committed excerpt', () => {
    const data = loadGuru(fixture);
    expect(data.apis).toHaveLength(100);
    const res = evaluate(data);
    expect(res.map((r) => r.split)).toEqual(['within', 'new_provider']);
    for (const r of res) {
      expect(r.train + r.test).toBe(100);
      expect(r.smart.index).toBe('kdtree');
      for (const v of [r.smart.accuracy, r.smart.macroF1, r.majority.accuracy, r.majority.macroF1]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
  });

  it('a test API whose provider is catalogued with one category gets that category (host features)', () => {
    const data = loadGuru(fixture);
    const train = data.apis.filter((a) => !data.testWithin.has(a.id));
    const m = new SmartKnn();
    m.fit(train.map((a) => ({ id: a.id, api: guruToDescription(a), labels: { category: a.categories[0] } })));
    const cats = new Map<string, Set<string>>();
    for (const a of train) cats.set(a.provider, (cats.get(a.provider) ?? new Set()).add(a.categories[0]));
    const known = data.apis.filter((a) => data.testWithin.has(a.id) && cats.get(a.provider)?.size === 1);
    expect(known.length).toBeGreaterThanOrEqual(3);
    const right = known.filter((a) => {
      const p = m.predict(guruToDescription(a), ['category']).category;
      return (p.candidate ?? p.value) === a.categories[0];
    });
    expect(right.length / known.length).toBeGreaterThanOrEqual(0.75);
  });

  it('cross-validation folds only hold out the training APIs given, by provider in provider mode', () => {
    const data = loadGuru(fixture);
    const train = data.apis.filter((a) => !data.testNewProvider.has(a.id));
    const fs = folds(train, 'provider', 4, 1);
    const ids = new Set(train.map((a) => a.id));
    for (const f of fs) for (const id of f) expect(ids.has(id)).toBe(true);
    const providerOf = new Map(train.map((a) => [a.id, a.provider]));
    const seen = new Map<string, number>();
    fs.forEach((f, i) => {
      for (const id of f) {
        const p = providerOf.get(id)!;
        expect(seen.get(p) ?? i).toBe(i);
        seen.set(p, i);
      }
    });
    const cv = crossValidate(train, { k: 5 }, 'within', 3, 1);
    expect(cv.accuracy).toBeGreaterThan(0);
  });

  it('the weight search scores a configuration as the cross-validation of SmartKnn does (with word vectors)', () => {
    const data = loadGuru(fixture);
    const dir = mkdtempSync(join(tmpdir(), 'mw-emb-'));
    const cache = join(dir, 'fixture.mwemb');
    // 160 real word vectors of the optional package, in its layout (pipeline/association/testdata)
    convertWinkEmbeddings(
      join(fixture, '..', '..', '..', 'pipeline', 'association', 'testdata', 'word-vectors.json'),
      cache,
      'fixture',
    );
    const weights = { name: 0.1, host: 0.2, path: 0.1, params: 0.1, tags: 0.1, text: 0.2, words: 0.2, embedding: 0 };
    const unseen = { ...weights, host: 0.1, embedding: 0.3 };
    const point = {
      weights: FEATURE_GROUPS.map((g) => weights[g]),
      unseenWeights: FEATURE_GROUPS.map((g) => unseen[g]),
      k: 5,
      prior: 0.25,
      cap: 1,
    };
    const emb = readEmbeddingCache(cache);
    const got = evaluatePoint(prepareFolds(data, 256, emb), point);
    const config = {
      k: 5,
      dims_per_group: 256,
      group_weights: weights,
      unseen_provider_weights: unseen,
      word_embeddings: cache,
      prior_correction: 0.25,
      unseen_provider_cap: 1,
      // the search scores the kNN alone, one API at a time, without the provider's class mix or class names
      linear_blend: 0,
      pool_unseen_provider: false,
      provider_prior: 0,
      label_name_prior: 0,
    };
    expect(new SmartKnn(config).embeddings?.size).toBe(emb.size);
    const { within, provider } = crossValidateSplits(data, config);
    expect(got.within.accuracy).toBeCloseTo(within.accuracy, 9);
    expect(got.within.macroF1).toBeCloseTo(within.macroF1, 9);
    expect(got.provider.accuracy).toBeCloseTo(provider.accuracy, 9);
    expect(got.provider.macroF1).toBeCloseTo(provider.macroF1, 9);
    rmSync(dir, { recursive: true, force: true });
  });

  it('endpoints as traffic shows them: counted per sampled endpoint; a one-endpoint service is that endpoint', () => {
    const data = loadGuru(fixture);
    const config = { word_embeddings: 'off', linear_blend: 0 };
    const five = evaluateEndpoints(data, { perApi: 5, config });
    expect(five.map((f) => f.split)).toEqual(['within', 'new_provider']);
    for (const [f, ids] of [
      [five[0], data.testWithin],
      [five[1], data.testNewProvider],
    ] as const) {
      const expected = data.apis
        .filter((a) => ids.has(a.id))
        .reduce((n, a) => n + Math.min(5, a.endpoints?.length ?? 0), 0);
      expect(f.endpoints).toBe(expected);
      for (const x of [f.alone, f.asService]) expect(x).toBeGreaterThanOrEqual(0);
    }
    expect(five.some((f) => f.alone > 0)).toBe(true);
    expect(evaluateEndpoints(data, { perApi: 5, config })).toEqual(five);
    // one endpoint per service: the service's description is the endpoint's own
    for (const f of evaluateEndpoints(data, { perApi: 1, config })) expect(f.asService).toBe(f.alone);
  });

  it('missing data is a clear error, bad lines name the line', () => {
    expect(() => loadGuru(join(fixture, 'nope'))).toThrow(MeshwardError);
    expect(() => loadGuru(join(fixture, 'nope'))).toThrow(/not found/);
    expect(() => parseGuruLines('{"id":"x","categories":["a"]}\n{"id":"y"}')).toThrow(/line 2/);
    expect(defaultDataDir()).toMatch(/shared[/\\]eval[/\\]apis-guru$/);
  });
  it('synthetic estate: callers are trusted as far as the call graph shows, and help only where they tell', () => {
    const data = loadGuru(fixture);
    const [none, all] = evaluateEstate(data, [0, 1], { prior: 0.5 });
    const [off] = evaluateEstate(data, [1], { prior: 0 });
    expect(none.services).toBeGreaterThan(3);
    expect(all.reliability.appCode).toBeGreaterThan(0.9);
    expect(none.reliability.appCode ?? 0).toBeLessThan(0.3);
    expect(all.appCode).toBeGreaterThan(off.appCode);
    expect(all.appCode).toBeGreaterThan(0.9);
  });
});
