/**
 * The callers' traffic context of the API-discovery detector (inventoryTraffic: callers' weights and reliability,
 * taken at most once a minute of record time on a shard's event loop) over a large synthetic inventory: the sampled
 * scan as shipped against the full scan of every labelled endpoint (the baseline, measured in the same run), with the
 * reliability each estimates. Usage: node dist/bench/traffic-context.bench.js [--services 2000] [--endpoints 25]
 * [--callers 32] [--homophily 0.7] [--runs 5]
 */
import { SmartKnn } from '../pipeline/association/smart-knn.js';
import { inventoryTraffic } from '../pipeline/association/traffic-context.js';
import type { ApiEntry } from '../pipeline/inventory/api-entry.js';
import { Rng } from '../pipeline/core/prng.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : Number(process.argv[i + 1]);
};
const SERVICES = arg('--services', 2000);
const ENDPOINTS = arg('--endpoints', 25);
const CALLERS = arg('--callers', 32);
const HOMOPHILY = arg('--homophily', 0.7);
const RUNS = arg('--runs', 5);
const PER_APP = 20;
const DIMS = ['lineOfBusiness', 'appCode', 'category'];

const svc = (i: number) => `svc-${i}`;
const app = (i: number) => Math.floor(i / PER_APP);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const r = new Rng(42);
  const labelsOf = (s: number) => ({ appCode: `APP${app(s)}`, lineOfBusiness: `LOB${app(s) % 8}` });
  const model = new SmartKnn({ word_embeddings: 'off' });
  model.fit(
    Array.from({ length: SERVICES }, (_, s) => ({
      id: `c${s}`,
      api: { service: svc(s), hosts: [`${svc(s)}.shop.svc.cluster.local`] },
      labels: labelsOf(s),
    })),
  );
  type Entry = Pick<ApiEntry, 'service' | 'callers' | 'labels' | 'state'>;
  const entries: Entry[] = [];
  for (let s = 0; s < SERVICES; s++)
    for (let e = 0; e < ENDPOINTS; e++) {
      const callers = Array.from({ length: CALLERS }, () =>
        svc(r.next() < HOMOPHILY ? app(s) * PER_APP + r.int(0, PER_APP - 1) : r.int(0, SERVICES - 1)),
      );
      const labels: Entry['labels'] = {};
      for (const [dim, value] of Object.entries(labelsOf(s))) labels[dim] = { value, probability: 1, neighbours: [] };
      entries.push({ service: svc(s), callers, labels, state: 'catalogued' });
    }
  console.log(
    `traffic context bench: ${entries.length} labelled endpoints (${SERVICES} services in applications of ${PER_APP}), ${CALLERS} callers each, homophily ${HOMOPHILY}, node ${process.version}`,
  );
  const full: number[] = [];
  const sampled: number[] = [];
  let fullR: Record<string, number> = {};
  let sampledR: Record<string, number> = {};
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    fullR = inventoryTraffic(entries, model, DIMS, Number.POSITIVE_INFINITY).reliability;
    full.push(performance.now() - t);
    t = performance.now();
    sampledR = inventoryTraffic(entries, model, DIMS).reliability;
    sampled.push(performance.now() - t);
  }
  const f = (x: number) => x.toFixed(0);
  const rel = (x: Record<string, number>) =>
    DIMS.map((d) => `${d} ${x[d] === undefined ? '-' : x[d].toFixed(3)}`).join(', ');
  console.log(`\n| scan (median of ${RUNS}) | ms | reliability |`);
  console.log('|---|---|---|');
  console.log(`| every labelled endpoint (baseline) | ${f(median(full))} | ${rel(fullR)} |`);
  console.log(`| sampled (as shipped) | ${f(median(sampled))} | ${rel(sampledR)} |`);
  console.log(`\nratio: full / sampled = ${(median(full) / median(sampled)).toFixed(1)}x`);
}

main();
