/**
 * Association latency against a 100,000-entry catalogue: p50/p99 per query of the smart kNN (pruned sparse inverted
 * index, the index used above kdtree_max_entries), beside baselines measured in the same run: featurising the query
 * alone, and an exhaustive (brute-force) neighbour search over the same vectors. Also index memory and the recall of
 * the pruned index against the exhaustive search.
 * Entries are APIs-guru definitions perturbed (host, title words, a random subset of endpoints), or synthetic APIs
 * when the data set is absent. Usage: node dist/bench/association.bench.js [--entries 100000] [--queries 300]
 * [--prune <ratio>] [--config '<json partial AssociationConfig>']
 */
import { existsSync } from 'node:fs';
import type { AssociationConfig } from '../pipeline/association/config.js';
import type { ApiDescription } from '../pipeline/association/features.js';
import { voteWeights } from '../pipeline/association/knn-math.js';
import { providerOf, SmartKnn } from '../pipeline/association/smart-knn.js';
import { Rng } from '../pipeline/core/prng.js';
import { defaultDataDir, type GuruApi, guruToDescription, loadGuru } from '../eval/association/data.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : Number(process.argv[i + 1]);
};
const ENTRIES = arg('--entries', 100_000);
const QUERIES = arg('--queries', 300);
const BRUTE = Math.min(QUERIES, arg('--brute', 30));
const PRUNE = arg('--prune', Number.NaN);
/** --config '<json partial AssociationConfig>', e.g. '{"word_embeddings":"off"}' */
const CONFIG = JSON.parse(
  process.argv.includes('--config') ? process.argv[process.argv.indexOf('--config') + 1] : '{}',
) as Partial<AssociationConfig>;
const r = new Rng(42);
const pick = <T>(xs: readonly T[]): T => r.pick(xs);
const WORDS =
  'account order payment invoice user profile report metric device sensor ticket message media video image file document search index weather map route trip booking hotel flight product cart stock price quote market news article comment review policy claim loan card transfer'.split(
    ' ',
  );

function synthetic(i: number): { api: ApiDescription; label: string } {
  const topic = WORDS[i % WORDS.length];
  const words = Array.from({ length: 6 }, () => pick(WORDS));
  return {
    api: {
      name: `${topic} ${pick(WORDS)} service`,
      description: `${words.join(' ')} api for ${topic}`,
      hosts: [`${topic}-${i % 997}.example.com`],
      paths: words.map((w) => `/v1/${topic}s/{id}/${w}s`),
      params: words.map((w) => `${w}Id`),
      tags: [topic],
    },
    label: `c${i % 30}`,
  };
}

function perturb(a: GuruApi, i: number): { api: ApiDescription; label: string } {
  const d = guruToDescription(a);
  const keep = (xs: string[] | undefined, n: number) => (xs ?? []).filter(() => r.next() < 0.6).slice(0, n);
  return {
    api: {
      ...d,
      name: `${d.name ?? ''} ${pick(WORDS)}`,
      hosts: [`team${i % 5000}.${(d.hosts ?? ['x.example'])[0].replace(/^https?:\/\//, '')}`],
      paths: keep(d.paths, 15),
      params: keep(d.params, 30),
      summaries: keep(d.summaries, 15),
      tags: keep(d.tags, 10),
    },
    label: a.categories[0],
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function main(): void {
  const dir = defaultDataDir();
  const guru = existsSync(dir) ? loadGuru(dir).apis : null;
  const make = (i: number) => (guru ? perturb(guru[i % guru.length], i) : synthetic(i));
  console.log(
    `association bench: ${ENTRIES} catalogue entries (${guru ? 'perturbed APIs-guru' : 'synthetic'}), ${QUERIES} queries, node ${process.version}`,
  );

  global.gc?.();
  const mem0 = process.memoryUsage();
  const heap0 = mem0.heapUsed;
  const model = new SmartKnn({
    ...CONFIG,
    index: 'auto',
    ...(Number.isNaN(PRUNE) ? {} : { prune_df_ratio: PRUNE }),
  });
  let t0 = performance.now();
  const items = Array.from({ length: ENTRIES }, (_, i) => ({ id: `e${i}`, ...make(i) }));
  model.fit(items.map((it) => ({ id: it.id, api: it.api, labels: { category: it.label } })));
  const labelOf = new Map(items.map((it) => [it.id, it.label]));
  items.length = 0;
  const q0 = make(ENTRIES + 1);
  model.nearest(model.vectorize(q0.api), 1); // builds the index
  const buildMs = performance.now() - t0;
  t0 = performance.now();
  model.predict(q0.api, ['category']); // trains the linear scorer (linear_blend)
  const scorerMs = performance.now() - t0;
  global.gc?.();
  const mem1 = process.memoryUsage();
  const heap1 = mem1.heapUsed;
  console.log(
    `build (featurise + index): ${(buildMs / 1000).toFixed(1)} s, index kind ${model.indexKind}, prune_df_ratio ${model.config.prune_df_ratio}`,
  );
  console.log(
    `linear scorer (linear_blend ${model.config.linear_blend}): trained in ${(scorerMs / 1000).toFixed(1)} s, ~${(model.scorerMemoryBytes() / 2 ** 20).toFixed(0)} MiB`,
  );
  console.log(
    `memory: index structures ~${(model.memoryBytes() / 2 ** 20).toFixed(0)} MiB, training vectors ~${(model.vectorMemoryBytes() / 2 ** 20).toFixed(0)} MiB; heap growth ${((heap1 - heap0) / 2 ** 20).toFixed(0)} MiB, typed-array buffers outside the heap ${((mem1.arrayBuffers - mem0.arrayBuffers) / 2 ** 20).toFixed(0)} MiB${global.gc ? '' : ' (run with --expose-gc for a settled figure)'}`,
  );
  // what a service does at start-up (SmartKnn.warm): the index and scorer are built, so this compiles the search
  t0 = performance.now();
  model.warm();
  console.log(`warm-up (SmartKnn.warm, a few searches): ${(performance.now() - t0).toFixed(0)} ms`);
  const emb = model.embeddings;
  console.log(
    emb
      ? `word embeddings (shared by every model of the process, in the figures above): ${emb.size} words x ${emb.dims}, ~${(emb.memoryBytes() / 2 ** 20).toFixed(0)} MiB`
      : 'word embeddings: off',
  );

  const queries = Array.from({ length: QUERIES }, (_, i) => make(ENTRIES + 7 * i + 3).api);
  // the same APIs from providers absent from the catalogue: unseen_provider_cap applies (one neighbour per provider)
  const unseen = queries.map((q, i) => ({ ...q, hosts: [`api.newco${i}.io`] }));
  const featurise: number[] = [];
  const predict: number[] = [];
  const predictUnseen: number[] = [];
  for (const q of queries) {
    t0 = performance.now();
    model.vectorize(q);
    featurise.push(performance.now() - t0);
  }
  for (const q of queries) {
    t0 = performance.now();
    model.predict(q, ['category']);
    predict.push(performance.now() - t0);
  }
  for (const q of unseen) {
    t0 = performance.now();
    model.predict(q, ['category']);
    predictUnseen.push(performance.now() - t0);
  }
  const brute: number[] = [];
  let overlap = 0;
  let overlapUnseen = 0;
  // the class the neighbours vote for (the paper's distance weights), from the index's neighbours and the exact ones
  const voted = (ns: { id: string; distance: number }[]) => {
    const w = voteWeights(ns.map((n) => n.distance));
    const votes = new Map<string, number>();
    ns.forEach((n, j) => {
      const c = labelOf.get(n.id) ?? '';
      votes.set(c, (votes.get(c) ?? 0) + w[j]);
    });
    return [...votes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  };
  let agree = 0;
  let agreeUnseen = 0;
  const k = model.config.k;
  for (const [i, q] of queries.slice(0, BRUTE).entries()) {
    const v = model.vectorize(q);
    t0 = performance.now();
    const exact = model.nearestBruteForce(v, k);
    brute.push(performance.now() - t0);
    // a returned neighbour counts when its exact distance is within the exact k-th distance (ties are common
    // between perturbed copies of one definition, so id overlap would understate recall)
    const kth = exact[exact.length - 1].distance + 1e-9;
    const found = model.nearest(v, k);
    overlap += found.filter((n) => model.distanceTo(v, n.id) <= kth).length;
    if (voted(found) === voted(exact)) agree++;
    // the same for the unseen-provider query: its weight profile and one neighbour per provider
    const u = model.vectorize(unseen[i]);
    const p = providerOf(unseen[i], '');
    const exactU = model.nearestBruteForce(u, k, p);
    const kthU = exactU[exactU.length - 1].distance + 1e-9;
    const foundU = model.nearest(u, k, undefined, p);
    overlapUnseen += foundU.filter((n) => model.distanceTo(u, n.id, p) <= kthU).length;
    if (voted(foundU) === voted(exactU)) agreeUnseen++;
  }
  const f = (x: number) => x.toFixed(3).padStart(8);
  console.log('\n| per query (ms) | p50 | p99 |');
  console.log('|---|---|---|');
  console.log(`| featurise only (baseline) | ${f(pct(featurise, 50))} | ${f(pct(featurise, 99))} |`);
  console.log(`| associate: featurise + pruned sparse kNN + votes | ${f(pct(predict, 50))} | ${f(pct(predict, 99))} |`);
  console.log(
    `| associate, provider not in the catalogue (capped per provider) | ${f(pct(predictUnseen, 50))} | ${f(pct(predictUnseen, 99))} |`,
  );
  console.log(
    `| exhaustive neighbour search alone (baseline, ${BRUTE} queries) | ${f(pct(brute, 50))} | ${f(pct(brute, 99))} |`,
  );
  console.log(
    `\nratios: associate / featurise p50 = ${(pct(predict, 50) / pct(featurise, 50)).toFixed(1)}x; exhaustive / associate p50 = ${(pct(brute, 50) / pct(predict, 50)).toFixed(1)}x`,
  );
  console.log(`recall@${k} of the pruned index against the exhaustive search: ${(overlap / (BRUTE * k)).toFixed(3)}`);
  console.log(
    `recall@${k}, provider not in the catalogue (its weights, one neighbour per provider): ${(overlapUnseen / (BRUTE * k)).toFixed(3)}`,
  );
  console.log(
    `the class the neighbours vote for, the index's against the exhaustive search's: the same for ${agree} of ${BRUTE} queries; provider not in the catalogue ${agreeUnseen} of ${BRUTE}`,
  );
  const worst = Math.max(pct(predict, 50), pct(predictUnseen, 50));
  console.log(`goal: associate p50 < 10 ms -> ${worst < 10 ? 'met' : 'not met'}`);
}

main();
