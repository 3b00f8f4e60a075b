/**
 * Throughput and memory of the trackers (TRACKER_FACTORIES). `npm run build && node --expose-gc dist/bench/trackers.bench.js`
 *  1. records/s through all the trackers on simulated mesh traffic, as a ratio to a baseline loop that only
 *     iterates the same records (same run, same process);
 *     The same records through the trackers plus custom_rules with ten CEL rules, as a ratio to the trackers alone
 *     (rounds alternated, best of each), and custom_rules alone;
 *  2. heapUsed growth after pushing 1,000,000 records with distinct users, tokens and addresses over 100,000
 *     endpoints through them: the caps (LRU sizes) must hold it flat, whatever the number of subjects.
 */
import type { ApiCallRecord } from '../pipeline/core/record.js';
import { CapturingContext } from '../pipeline/detectors/shared/capture.js';
import { CustomRulesConfigSchema } from '../pipeline/detectors/custom-rules/config.js';
import { customRulesFactory } from '../pipeline/detectors/custom-rules/factory.js';
import { checkConfig } from '../pipeline/detectors/shared/detector-kit.js';
import { TRACKER_FACTORIES } from '../pipeline/detectors/shared/trackers.js';
import type { Detector } from '../pipeline/detectors/detector.js';
import { simulate } from '../pipeline/simulate/simulate.js';
import { TRACKER_SETTINGS } from '../eval/scenarios/config.js';
import { hex, syntheticSource } from './subjects.js';

const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
const detectors = (): Detector[] =>
  TRACKER_FACTORIES.map((f) => f.create(checkConfig(f.type, f.configSchema, TRACKER_SETTINGS[f.type] ?? {})));

// 1. throughput on simulated traffic
const sim = simulate({ seed: 1, start: Date.UTC(2024, 5, 3, 8), durationMs: 60 * 60_000, rps: 10, anomalies: [] });
const records = sim.records;
let sink = 0;
const baseline = () => {
  const t = performance.now();
  for (let i = 0; i < records.length; i++) sink += records[i].ts & 1;
  return performance.now() - t;
};
const timed = (make: () => Detector[]) => () => {
  const ds = make();
  const ctx = new CapturingContext();
  const t = performance.now();
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    for (let j = 0; j < ds.length; j++) ds[j].observe?.(r, ctx);
  }
  return performance.now() - t;
};
/** ten rules as operators might write them: most match rarely, one matches most calls (status < 500) */
const TEN_RULES = [
  {
    name: 'admin-deletes',
    when: 'method == "DELETE" && route.startsWith("/admin/")',
    group_by: ['user.sub'],
    threshold: 5,
  },
  { name: 'scanner-404s', when: 'status == 404', group_by: ['source.ip'], threshold: 20 },
  { name: 'internal-from-outside', when: 'path.startsWith("/internal") && source.principal == ""' },
  { name: 'large-anonymous', when: 'respBytes > 1000000 && user.sub == "" && user.tokenHash == ""' },
  { name: 'slow-writes', when: 'method != "GET" && durationMs > 2000.0', group_by: ['service'], threshold: 10 },
  { name: 'server-errors', when: 'status >= 500', group_by: ['service', 'route'], threshold: 50 },
  { name: 'debug-param', when: '"debug" in params' },
  {
    name: 'plain-writes',
    when: 'method in ["POST", "PUT", "PATCH", "DELETE"] && !source.mtls && source.service != ""',
  },
  { name: 'busy-users', when: 'status < 500', group_by: ['user.sub'], threshold: 100_000 },
  { name: 'wp-probes', when: 'path.contains("wp-") || path.endsWith(".php")', group_by: ['source.ip'], threshold: 3 },
];
const customRules = (): Detector =>
  customRulesFactory.create(
    customRulesFactory.prepare!(checkConfig('custom_rules', CustomRulesConfigSchema, { rules: TEN_RULES })),
  );
const trackers = timed(detectors);
const withRules = timed(() => [...detectors(), customRules()]);
const rulesAlone = timed(() => [customRules()]);
baseline();
trackers();
withRules();
rulesAlone();
const rounds = { b: [] as number[], t: [] as number[], w: [] as number[], c: [] as number[] };
for (let i = 0; i < 3; i++) {
  rounds.b.push(baseline());
  rounds.t.push(trackers());
  rounds.w.push(withRules());
  rounds.c.push(rulesAlone());
}
const [b, t, w, c] = [rounds.b, rounds.t, rounds.w, rounds.c].map((x) => Math.min(...x));
const perRecord = (ms: number) => `${((ms / records.length) * 1000).toFixed(2)} µs/record`;
console.log(`node ${process.version}, ${records.length} simulated records (60 min at 10 front-end req/s)`);
console.log(`baseline loop      ${Math.round(records.length / (b / 1000)).toLocaleString()} records/s`);
console.log(
  `${TRACKER_FACTORIES.length} trackers       ${Math.round(records.length / (t / 1000)).toLocaleString()} records/s  (${perRecord(t)}, ${(t / b).toFixed(0)}x the baseline loop)`,
);
console.log(
  `+ custom_rules (10 CEL rules): ${Math.round(records.length / (w / 1000)).toLocaleString()} records/s  (${perRecord(w)}, ${(w / t).toFixed(2)}x the trackers alone)`,
);
console.log(
  `custom_rules alone (10 rules): ${Math.round(records.length / (c / 1000)).toLocaleString()} records/s  (${perRecord(c)}, ${Math.round((records.length * TEN_RULES.length) / (c / 1000)).toLocaleString()} rule evaluations/s)`,
);

// 2. memory with 1,000,000 distinct subjects over 100,000 endpoints
const SUBJECTS = 1_000_000;
const ENDPOINTS = 100_000;
function synthetic(i: number): ApiCallRecord {
  const e = i % ENDPOINTS;
  const mesh = i % 4 === 0;
  return {
    id: `b${i}`,
    ts: 1_700_000_000_000 + i * 2,
    durationMs: 5,
    sensor: { kind: 'bench', id: 'b' },
    service: `svc${e % 500}`,
    method: 'GET',
    host: 'h',
    path: `/r${e}/items/${i}?q=v${i % 7}`,
    route: `/r${e}/items/{id}`,
    status: i % 50 === 0 ? 401 : 200,
    reqBytes: 0,
    respBytes: 100,
    source: syntheticSource(i, mesh),
    user: { sub: `user${i}`, tokenHash: `h1:${hex(i)}`, authOutcome: i % 50 === 0 ? 'failure' : undefined },
    trace: { traceId: hex(i >> 1), spanId: hex(i).slice(16), parentSpanId: i % 2 ? hex(i - 1).slice(16) : undefined },
    params: { q: `v${i % 7}`, n: i % 100 },
    region: 'eu-west-1',
    tags: { source_region: 'eu-west-1' },
  };
}
const ds = detectors();
const ctx = new CapturingContext();
const before = heap();
const report = (n: number) => {
  const used = heap() - before;
  const stats = Object.fromEntries(ds.map((d) => [d.type, d.stats?.() ?? {}]));
  console.log(`after ${n.toLocaleString().padStart(9)} records: heapUsed +${mb(used)}`);
  return { used, stats };
};
let at250k = 0;
const t0 = performance.now();
for (let i = 0; i < SUBJECTS; i++) {
  const r = synthetic(i);
  if (r.user && r.user.authOutcome === undefined) delete r.user.authOutcome;
  if (r.trace && r.trace.parentSpanId === undefined) delete r.trace.parentSpanId;
  for (let j = 0; j < ds.length; j++) ds[j].observe?.(r, ctx);
  if (ctx.signals.length > 10_000) ctx.signals.length = 0;
  if (i + 1 === 250_000) at250k = report(i + 1).used;
}
const elapsed = performance.now() - t0;
ctx.signals.length = 0;
const end = report(SUBJECTS);
console.log(`1,000,000 distinct subjects over 100,000 endpoints in ${(elapsed / 1000).toFixed(1)} s`);
console.log(
  `heap growth from 250k to 1M records: ${mb(end.used - at250k)} (caps hold when this is small next to the total)`,
);
for (const [type, s] of Object.entries(end.stats)) console.log(`  ${type.padEnd(20)} ${JSON.stringify(s)}`);
if (!gc) console.log('(run with --expose-gc for steadier heap figures)');
if (sink === -1) console.log(sink);
