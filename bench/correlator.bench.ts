/**
 * `npm run bench`: the correlator's per-record path on one core, as a ratio against a baseline that only parses the
 * same JSONL, plus peak memory per 10,000 tracked endpoints.
 *
 *   baseline:  Buffer line → JSON.parse
 *   full path: Buffer line → JSON.parse → Shard.process (RED windows with DDSketch quantiles, endpoint templating,
 *              every registered detector) → drain (alert grouping)
 */
import { cpus } from 'node:os';
import { execSync } from 'node:child_process';
import type { ApiCallRecord } from '../pipeline/core/record.js';
import { Shard } from '../pipeline/correlator/shard.js';
import { compileDetectors } from '../pipeline/detectors/registry.js';
import '../pipeline/detectors/all.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 400_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 2_000);
const ROUNDS = 3;
/** event time the stream spans: 400,000 records over 2 minutes is ~3,300 calls/s, a busy mesh */
const SPAN_MS = Number(process.env.BENCH_SPAN_MS ?? 120_000);

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
      source: { ip: `10.0.${i % 250}.${(i >> 8) % 250}`, service: 'frontend', principal: 'spiffe://cluster.local/ns/prod/sa/frontend', mtls: true },
      user: { sub: `user-${i % 5000}`, tokenHash: `h1:${(i % 5000).toString(16).padStart(32, '0')}`, authOutcome: 'success' },
      trace: { traceId: (i >> 3).toString(16).padStart(32, '0'), spanId: i.toString(16).padStart(16, '0') },
      params: { page: i % 9, sort: 'asc' },
      region: 'eu-west-1',
    };
    out.push(Buffer.from(JSON.stringify(r)));
  }
  return out;
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
  const metricOnly = compileDetectors({ metric_anomaly: {} });
  const spine = best('full path, metric_anomaly only', through(metricOnly));
  const full = best('full path, every detector', through(detectors));

  // memory per 10,000 tracked endpoints: heap after tracking N distinct endpoints, minus an empty shard
  const memEndpoints = 10_000;
  const memLines = makeLines(memEndpoints * 20, memEndpoints, Date.UTC(2026, 0, 2), 600_000);
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const shard = new Shard(detectors.create(), { maxSeries: 1_000_000 });
  for (const l of memLines) shard.process(JSON.parse(l.toString('utf8')) as ApiCallRecord);
  global.gc?.();
  const after = process.memoryUsage().heapUsed;
  const tracked = shard.stats().series;

  const rate = (s: number) => Math.round(RECORDS / s);
  const commit = (() => {
    try {
      return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
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
    heapMiBPer10kEndpoints: Number((((after - before) / 1024 / 1024) * (10_000 / memEndpoints)).toFixed(1)),
    seriesTracked: tracked,
    gcExposed: typeof global.gc === 'function',
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (sink === -1) process.stdout.write('');
}

main();
