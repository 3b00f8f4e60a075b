/**
 * `npm run bench:alert-queue`: the analysts' alert list (AlertRepository.list, what GET /v1/alerts and the console's
 * queue call) with 50,000 open alerts of varied severity, service and kind (and some acknowledged), on the embedded
 * store and, with `--redis`, on a throwaway redis-server. Each list is timed as the median of its runs and printed
 * as a ratio to a baseline measured in the same run on the same store: reading and parsing one page's 50 alerts by
 * id (mget + JSON.parse), the least any page costs. Then the cost of keeping the indexes: a correlator refresh of a
 * stored alert (upsert: one more occurrence, now), as a ratio to reading and writing the alert's document alone
 * (get + compareAndSet), the least any refresh costs.
 *
 * Run: `npm run build && node dist/bench/alert-queue.bench.js [--alerts 50000] [--runs 15] [--redis]`
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { type AlertFilter, AlertRepository } from '../pipeline/alerts/alert-repository.js';
import type { AlertSort } from '../pipeline/alerts/alert-sort.js';
import type { Alert, Severity } from '../pipeline/core/alert.js';
import { MeshwardError } from '../pipeline/core/errors.js';
import { MemoryStore } from '../pipeline/store/memory-store.js';
import { createRedisStore } from '../pipeline/store/redis-store.js';
import type { Store } from '../pipeline/store/store.js';
import { startRedis } from '../test/harness/redis.js';

const { values: args } = parseArgs({
  options: {
    alerts: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '15' },
    redis: { type: 'boolean', default: false },
  },
});
const ALERTS = Number(args.alerts);
const RUNS = Number(args.runs);
const PAGE = 50;

const SEVERITIES: Severity[] = ['info', 'low', 'low', 'medium', 'medium', 'medium', 'high', 'high', 'critical'];
const KINDS = ['error_burst', 'latency_spike', 'credential_stuffing', 'enumeration', 'shadow_api', 'traffic_spike'];
const T0 = 1_780_000_000_000;

/** alert i: open (every 50th acknowledged), seen over the last ~14 hours, a service of 40 and a kind of 6 */
function alertAt(i: number): Alert {
  const lastSeen = T0 + i * 1000 + (i % 7);
  return {
    v: 1,
    id: `alr_${i.toString(36).padStart(6, '0')}`,
    kind: KINDS[(i * 7) % KINDS.length] as Alert['kind'],
    severity: SEVERITIES[(i * 5) % SEVERITIES.length],
    state: i % 50 === 0 ? 'acknowledged' : 'open',
    service: `svc${(i * 13) % 40}`,
    endpoint: `GET /r${i % 300}/{id}`,
    subject: { type: 'ip', value: `10.0.${(i >> 8) & 255}.${i & 255}` },
    firstSeen: lastSeen - (i % 97) * 60_000,
    lastSeen,
    count: 1 + ((i * 31) % 400),
    summary: `bench alert ${i}: a summary about as long as the detectors write one, naming its endpoint and subject`,
    evidence: { recordIds: [`rec_${i}_a`, `rec_${i}_b`, `rec_${i}_c`], metrics: { rate: i % 13, z: 4.2 } },
    updatedAt: lastSeen,
  };
}

async function fill(repo: AlertRepository): Promise<void> {
  const batch = 500;
  for (let i = 0; i < ALERTS; i += batch) {
    const upserts: Promise<Alert>[] = [];
    for (let j = i; j < Math.min(ALERTS, i + batch); j++) upserts.push(repo.upsert(alertAt(j)));
    await Promise.all(upserts);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function timed(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

interface Case {
  name: string;
  filter: AlertFilter;
  sort: AlertSort;
}

const CASES: Case[] = [
  { name: 'every state, newest first (API default)', filter: {}, sort: 'last_seen' },
  { name: 'open, newest first (console default)', filter: { state: 'open' }, sort: 'last_seen' },
  { name: 'open, by severity', filter: { state: 'open' }, sort: 'severity' },
  { name: 'open, by count', filter: { state: 'open' }, sort: 'count' },
  { name: 'open, by first seen', filter: { state: 'open' }, sort: 'first_seen' },
  { name: 'open, service svc7, newest first', filter: { state: 'open', service: 'svc7' }, sort: 'last_seen' },
  { name: 'open, service svc7, by severity', filter: { state: 'open', service: 'svc7' }, sort: 'severity' },
  {
    name: 'open, high and above, one kind, by severity',
    filter: { state: 'open', minSeverity: 'high', kind: 'enumeration' },
    sort: 'severity',
  },
  { name: 'acknowledged (2 %), newest first', filter: { state: 'acknowledged' }, sort: 'last_seen' },
  { name: 'acknowledged (2 %), by count', filter: { state: 'acknowledged' }, sort: 'count' },
];

async function measure(label: string, store: Store): Promise<void> {
  const repo = new AlertRepository(store);
  await repo.buildIndexes();
  let t = performance.now();
  await fill(repo);
  console.log(
    `\n### ${label}: ${ALERTS.toLocaleString()} alerts stored in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const pageKeys = Array.from({ length: PAGE }, (_, i) => `alert:${alertAt(ALERTS - 1 - i * 3).id}`);
  const baseline = await timed(async () => (await store.mget(pageKeys)).map((raw) => JSON.parse(raw as string)));
  console.log(`\n| list, first page of ${PAGE} | ms per request | ratio to baseline |\n|---|---|---|`);
  console.log(`| baseline: mget + parse of ${PAGE} alerts | ${baseline.toFixed(3)} | 1 |`);
  for (const c of CASES) {
    let refused = '';
    try {
      await repo.list(c.filter, PAGE, undefined, c.sort);
    } catch (err) {
      if (!(err instanceof MeshwardError)) throw err;
      refused = err.message;
    }
    if (refused) {
      console.log(`| ${c.name} | refused: ${refused.slice(0, 60)}… | – |`);
      continue;
    }
    const ms = await timed(() => repo.list(c.filter, PAGE, undefined, c.sort));
    console.log(`| ${c.name} | ${ms.toFixed(2)} | ${(ms / baseline).toFixed(0)} |`);
  }
  // the tenth page by severity: paging deep into the queue
  t = performance.now();
  let cursor: string | undefined;
  try {
    for (let p = 0; p < 10; p++) cursor = (await repo.list({ state: 'open' }, PAGE, cursor, 'severity')).next;
    const ms = (performance.now() - t) / 10;
    console.log(`| open, by severity, pages 1–10 (mean) | ${ms.toFixed(2)} | ${(ms / baseline).toFixed(0)} |`);
  } catch (err) {
    if (!(err instanceof MeshwardError)) throw err;
  }
  await refreshes(repo, store);
}

/** µs per refresh of stored alerts (more occurrences, seen now, every 4th a severity of its own), and the baseline */
async function refreshes(repo: AlertRepository, store: Store): Promise<void> {
  const n = Math.min(2000, ALERTS);
  const pick = (r: number) => alertAt((r * 7919) % ALERTS);
  let t = performance.now();
  for (let r = 0; r < n; r++) {
    const key = `alert:${pick(r).id}`;
    const raw = await store.get(key);
    await store.compareAndSet(key, raw, `${raw?.slice(0, -1)} }`);
  }
  const baseline = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let r = 0; r < n; r++) {
    const a = pick(r);
    await repo.upsert({
      ...a,
      severity: r % 4 === 0 ? SEVERITIES[r % SEVERITIES.length] : a.severity,
      count: a.count + 1 + r,
      lastSeen: T0 + ALERTS * 1000 + r,
      updatedAt: T0 + ALERTS * 1000 + r,
    });
  }
  const us = ((performance.now() - t) * 1000) / n;
  console.log(`
| write, ${n} in turn | µs per write | ratio to baseline |
|---|---|---|`);
  console.log(`| baseline: get + compareAndSet of the alert | ${baseline.toFixed(0)} | 1 |`);
  console.log(`| correlator refresh (upsert) | ${us.toFixed(0)} | ${(us / baseline).toFixed(1)} |`);
}

console.log(
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, load ${loadavg()[0].toFixed(2)}; ${ALERTS.toLocaleString()} alerts, ${RUNS} runs per list (median)`,
);
await measure('embedded store', new MemoryStore());
if (args.redis) {
  const server = await startRedis();
  const store = createRedisStore({ url: server.url, keyPrefix: 'bench:', commandTimeoutMs: 30_000 });
  try {
    await measure('Redis store', store);
  } finally {
    await store.close();
    await server.stop();
  }
}
