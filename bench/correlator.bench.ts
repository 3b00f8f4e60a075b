/**
 * `npm run bench`: the correlator's per-record path on one core, as a ratio against a baseline that only parses the
 * same JSONL, then the heap it holds for 100,000 endpoints and for 1,000,000 distinct subjects.
 *
 *   baseline:  Buffer line → JSON.parse
 *   full path: Buffer line → JSON.parse → Shard.process (RED windows with DDSketch quantiles, endpoint templating,
 *              the metric detector only, then every registered detector) → drain (alert grouping)
 *   memory:    heapUsed (after two full GCs) of a shard with every detector, minus the same before it saw a record:
 *              1. 1,000,000 records over 100,000 distinct endpoints (10 calls each, 500 services, no route given, so
 *                 every path is templated and learned) — every series kept (maxSeries 1,000,000), detectors at
 *                 their default caps;
 *              2. 1,000,000 records from 1,000,000 distinct users, tokens and client addresses over 2,000 endpoints
 *                 (a quarter mesh hops, 2 % failed logins) — the per-subject caps (LRU) must hold the heap flat:
 *                 it is read at 250,000 and at 1,000,000 subjects.
 */
import { execSync } from 'node:child_process';
import { cpus } from 'node:os';
import type { ApiCallRecord } from '../pipeline/core/record.js';
import { Shard } from '../pipeline/correlator/shard.js';
import type { Detector } from '../pipeline/detectors/detector.js';
import { compileDetectors, detectorFactories } from '../pipeline/detectors/registry.js';
import '../pipeline/detectors/all.js';
import { hex, syntheticSource } from './subjects.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 400_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 2_000);
const ROUNDS = 3;
/** event time the stream spans: 400,000 records over 2 minutes is ~3,300 calls/s, a busy mesh */
const SPAN_MS = Number(process.env.BENCH_SPAN_MS ?? 120_000);
const MEM_ENDPOINTS = Number(process.env.BENCH_MEM_ENDPOINTS ?? 100_000);
const MEM_SUBJECTS = Number(process.env.BENCH_MEM_SUBJECTS ?? 1_000_000);

/** a distinct lower-case word per endpoint number, so templating keeps endpoints apart */
const word = (n: number): string => {
  let s = '';
  let x = n + 26 * 27;
  while (x > 0) {
    s = String.fromCharCode(97 + (x % 26)) + s;
    x = Math.floor(x / 26);
  }
  return `res${s}`;
};

function makeLines(n: number, endpoints: number, startTs: number, spanMs = SPAN_MS): Buffer[] {
  const out: Buffer[] = [];
  const services = 50;
  for (let i = 0; i < n; i++) {
    const e = i % endpoints;
    const svc = e % services;
    const r: ApiCallRecord = {
      id: `01JB${String(i).padStart(22, '0')}`,
      ts: startTs + Math.floor(i * (spanMs / n)),
      durationMs: 5 + ((i * 7919) % 300),
      sensor: { kind: 'envoy_wasm', id: `sidecar-${svc}` },
      service: `svc-${svc}`,
      method: i % 5 === 0 ? 'POST' : 'GET',
      host: `svc-${svc}.prod.svc.cluster.local`,
      path: `/api/v2/${word(e)}/${100000 + (i % 977)}/items?page=${i % 9}&sort=asc`,
      status: i % 97 === 0 ? 503 : 200,
      reqBytes: 200 + (i % 50),
      respBytes: 1500 + (i % 700),
      source: {
        ip: `10.0.${i % 250}.${(i >> 8) % 250}`,
        service: 'frontend',
        principal: 'spiffe://cluster.local/ns/prod/sa/frontend',
        mtls: true,
      },
      user: {
        sub: `user-${i % 5000}`,
        tokenHash: `h1:${(i % 5000).toString(16).padStart(32, '0')}`,
        authOutcome: 'success',
      },
      trace: { traceId: (i >> 3).toString(16).padStart(32, '0'), spanId: i.toString(16).padStart(16, '0') },
      params: { page: i % 9, sort: 'asc' },
      region: 'eu-west-1',
    };
    out.push(Buffer.from(JSON.stringify(r)));
  }
  return out;
}

/**
 * record i of n in the memory phases: endpoint i % endpoints (20 per service, so the route learner keeps them
 * apart); subject i (user, token, address) or i % 5000; event time spread evenly over spanMs
 */
function memRecord(i: number, n: number, endpoints: number, distinctSubjects: boolean, spanMs: number): ApiCallRecord {
  const e = i % endpoints;
  const s = distinctSubjects ? i : i % 5000;
  const mesh = i % 4 === 0;
  const failed = i % 50 === 0;
  return {
    id: `m${i}`,
    ts: Date.UTC(2026, 0, 2) + Math.floor((i * spanMs) / n),
    durationMs: 5 + ((i * 7919) % 300),
    sensor: { kind: 'bench', id: 'b' },
    service: `svc${Math.floor(e / 20)}`,
    method: e % 5 === 0 ? 'POST' : 'GET',
    host: 'h',
    path: `/api/${word(e)}/items/${i % 977}?q=v${i % 7}`,
    status: failed ? 401 : 200,
    reqBytes: 0,
    respBytes: 100,
    source: syntheticSource(s, mesh, i),
    user: failed
      ? { sub: `user${s}`, tokenHash: `h1:${hex(s)}`, authOutcome: 'failure' }
      : { sub: `user${s}`, tokenHash: `h1:${hex(s)}` },
    trace:
      i % 2
        ? { traceId: hex(i >> 1), spanId: hex(i).slice(16), parentSpanId: hex(i - 1).slice(16) }
        : { traceId: hex(i >> 1), spanId: hex(i).slice(16) },
    params: { q: `v${i % 7}`, n: i % 100 },
    region: 'eu-west-1',
    tags: { source_region: 'eu-west-1' },
  };
}

function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function best(label: string, fn: () => void): number {
  let bestSec = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ROUNDS; i++) bestSec = Math.min(bestSec, timeIt(fn));
  process.stderr.write(`  ${label}: best of ${ROUNDS} ${bestSec.toFixed(3)} s\n`);
  return bestSec;
}

const heapUsed = (): number => {
  global.gc?.();
  global.gc?.();
  return process.memoryUsage().heapUsed;
};
const mib = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));
const detectorStats = (ds: Detector[]) => Object.fromEntries(ds.map((d) => [d.type, d.stats?.() ?? {}]));

/** heap a shard with every detector holds after `n` records of `make`; also read at `midpoint` records */
function heapOf(
  detectors: ReturnType<typeof compileDetectors>,
  n: number,
  make: (i: number) => ApiCallRecord,
  midpoint: number,
) {
  const ds = detectors.create();
  const shard = new Shard(ds, { maxSeries: 1_000_000 });
  const before = heapUsed();
  let atMidpoint = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    shard.process(make(i));
    if ((i & 1023) === 0) shard.drain();
    if (i + 1 === midpoint) atMidpoint = heapUsed() - before;
  }
  shard.drain();
  const seconds = (performance.now() - t0) / 1000;
  const used = heapUsed() - before;
  return { used, atMidpoint, seconds, series: shard.stats().series, stats: detectorStats(ds) };
}

function main(): void {
  const detectors = compileDetectors(undefined);
  const lines = makeLines(RECORDS, ENDPOINTS, Date.UTC(2026, 0, 1));
  const bytes = lines.reduce((n, b) => n + b.length, 0);
  let sink = 0;
  const parseOnly = best('parse only', () => {
    for (const l of lines) sink += (JSON.parse(l.toString('utf8')) as ApiCallRecord).status;
  });
  const through = (set: ReturnType<typeof compileDetectors>) => () => {
    const shard = new Shard(set.create());
    for (let i = 0; i < lines.length; i++) {
      shard.process(JSON.parse(lines[i].toString('utf8')) as ApiCallRecord);
      if ((i & 1023) === 0) sink += shard.drain().alerts.length;
    }
    sink += shard.drain().alerts.length;
  };
  const metricOnly = compileDetectors(
    Object.fromEntries(detectorFactories().map((f) => [f.type, f.type === 'metric_anomaly' ? {} : null])),
  );
  const spine = best('full path, metric_anomaly only', through(metricOnly));
  const full = best('full path, every detector', through(detectors));
  lines.length = 0;

  process.stderr.write(`  memory: ${MEM_ENDPOINTS.toLocaleString()} endpoints…\n`);
  // two minutes of event time: the cost of 100,000 series closing windows every minute is the metric bench's
  const endpoints = heapOf(
    detectors,
    MEM_ENDPOINTS * 10,
    (i) => memRecord(i, MEM_ENDPOINTS * 10, MEM_ENDPOINTS, false, 120_000),
    0,
  );
  process.stderr.write(`  memory: ${MEM_SUBJECTS.toLocaleString()} subjects…\n`);
  const subjects = heapOf(
    detectors,
    MEM_SUBJECTS,
    // 2 ms apart (33 min of event time), as bench/trackers.bench.ts: windows and TTLs keep every subject alive
    (i) => memRecord(i, MEM_SUBJECTS, 2_000, true, MEM_SUBJECTS * 2),
    Math.floor(MEM_SUBJECTS / 4),
  );

  const rate = (s: number) => Math.round(RECORDS / s);
  const commit = (() => {
    try {
      return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      return 'unknown';
    }
  })();
  const result = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    commit,
    records: RECORDS,
    endpoints: ENDPOINTS,
    detectors: detectors.types,
    avgRecordBytes: Math.round(bytes / RECORDS),
    parseOnlyRecordsPerSec: rate(parseOnly),
    metricOnlyRecordsPerSec: rate(spine),
    metricOnlyRatio: Number((parseOnly / spine).toFixed(3)),
    everyDetectorRecordsPerSec: rate(full),
    everyDetectorRatio: Number((parseOnly / full).toFixed(3)),
    memory: {
      endpoints: {
        endpoints: MEM_ENDPOINTS,
        records: MEM_ENDPOINTS * 10,
        heapMiB: mib(endpoints.used),
        heapMiBPer10kEndpoints: mib((endpoints.used * 10_000) / MEM_ENDPOINTS),
        seriesTracked: endpoints.series,
        seconds: Number(endpoints.seconds.toFixed(1)),
        detectors: endpoints.stats,
      },
      subjects: {
        subjects: MEM_SUBJECTS,
        heapMiB: mib(subjects.used),
        heapMiBAtQuarter: mib(subjects.atMidpoint),
        seconds: Number(subjects.seconds.toFixed(1)),
        detectors: subjects.stats,
      },
    },
    gcExposed: typeof global.gc === 'function',
  };
  const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
  process.stdout.write(
    [
      `every detector on:   ${result.everyDetectorRecordsPerSec.toLocaleString()} records/s = ${result.everyDetectorRatio} of the JSON.parse-only baseline (${result.parseOnlyRecordsPerSec.toLocaleString()}/s), same run`,
      `metric detector only: ${result.metricOnlyRecordsPerSec.toLocaleString()} records/s = ${result.metricOnlyRatio} of the baseline`,
      `heap, ${MEM_ENDPOINTS.toLocaleString()} endpoints: ${result.memory.endpoints.heapMiB} MiB (${result.memory.endpoints.heapMiBPer10kEndpoints} MiB per 10,000; ${endpoints.series.toLocaleString()} series)`,
      `heap, ${MEM_SUBJECTS.toLocaleString()} subjects:  ${result.memory.subjects.heapMiB} MiB (${result.memory.subjects.heapMiBAtQuarter} MiB at ${Math.floor(MEM_SUBJECTS / 4).toLocaleString()}: growth ${pct(subjects.used / Math.max(1, subjects.atMidpoint) - 1)} over the last three quarters), ${result.memory.subjects.seconds} s`,
      '',
    ].join('\n'),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (sink === -1) process.stdout.write('');
}

main();
