/**
 * `npm run bench:e2e`: the distributed spine under load, across processes. N sensor clients (the sensors' batching
 * HTTP shipper) post records to a collector process → Kafka (librdkafka mock cluster, gzip) → correlator processes
 * (Redis store) → alerts topic → analyst API process, whose alert stream (SSE) the bench reads. One phase with one
 * correlator, one with two, each on a fresh Kafka and Redis. In every phase, once the consumer group has settled:
 *
 *   capacity: with the correlators paused (SIGSTOP), a backlog produced straight to Kafka between a round of head
 *             probes and a round of tail probes; resumed, the time from the first head alert to the last tail alert
 *   live:     the sensors post through the collector while the correlators run; a probe every --probe-ms
 *   baseline: the same records in the same batches from kafkajs producers straight to the same cluster (a topic no
 *             correlator reads, before and after the live load), and a plain kafkajs consumer group (JSON.parse
 *             only) reading the calls topic at the end; figures are printed as ratios against it
 *
 * Latency is measured with injected anomalies (bench/e2e/probes.ts): record ts = now, alert seen on the stream. A
 * partition is consumed in order, so once a probe sent to every partition after the last record is out as an alert,
 * the correlators have processed every record before it.
 *
 * Run: `npm run build && node dist/bench/e2e.bench.js [--records 80000] [--sensors 4] ...` (every flag also as env
 * BENCH_E2E_<NAME>, e.g. BENCH_E2E_RECORDS). Prints markdown tables (stdout) and progress (stderr).
 */
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { silentLogger } from '../pipeline/core/logger.js';
import { type BatchingShipper, createHttpShipper } from '../sensors/common/batching-shipper.js';
import { defaultShipperConfig } from '../sensors/common/shipper-config.js';
import type { KafkaMock } from '../test/harness/kafka.js';
import { startKafkaRedis } from '../test/harness/kafka-redis.js';
import { startRole, writeConfig } from '../test/harness/meshward.js';
import type { Child } from '../test/harness/processes.js';
import { tails as tailsOf } from '../test/harness/pipeline-client.js';
import { cpuPer1k, cpuSnapshot, ROLES, type Role } from './e2e/process-cpu.js';
import { followAlertStream, ProbeBook, Prober } from './e2e/probes.js';
import { directProducers, drive, meshTraffic, partitionShares, postRecord, type Traffic } from './e2e/traffic.js';

const SENSOR_TOKEN = 'bench-sensor-token-0123456789';
const API_KEY = 'bench-viewer-key-0123456789';
const CALLS = 'meshward.calls';
const GROUP = 'meshward-correlator';
const BASELINE_TOPIC = 'bench.baseline';
/**
 * The mock cluster's rebalance waits session timeout − 1 s. 10 s (the spine test uses 2.5 s) lets two correlators
 * join in one generation and lets them be paused while the backlog is produced without leaving the group.
 */
const SESSION_TIMEOUT_MS = 10_000;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[`BENCH_E2E_${name.toUpperCase().replace(/-/g, '_')}`];
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a number, got ${raw}`);
  return v;
}

const OPTS = {
  /** records of the live load, per phase */
  records: option('records', 80_000),
  /** records of the backlog (capacity), per phase; the pause must stay under the session timeout */
  backlog: option('backlog', 30_000),
  /** records of each of the two produce-baseline samples (before and after the live load), per phase */
  baselineRecords: option('baseline-records', 15_000),
  /** concurrent sensor clients (and kafkajs producers in the baseline) */
  sensors: option('sensors', 4),
  batch: option('batch', 500),
  partitions: option('partitions', 4),
  brokers: option('brokers', 1),
  /** phases run with 1..correlators correlator processes */
  correlators: option('correlators', 2),
  /** copies of the simulated 6-service mesh (see meshTraffic) */
  meshes: option('meshes', 8),
  /** a latency probe every this many ms during the live load */
  probeMs: option('probe-ms', 100),
  idleProbes: option('idle-probes', 20),
  /** bus.kafka.max_wait_time_ms of every consumer (the spine test uses 100) */
  maxWaitMs: option('max-wait-ms', 100),
  /** correlator.checkpoint_interval_ms: offsets are committed at checkpoints, so lag moves in these steps */
  checkpointMs: option('checkpoint-ms', 1_000),
  drainTimeoutS: option('drain-timeout-s', 120),
  /**
   * correlator.keyed_streams: 1 (the default with Kafka) the collector also writes traced records to the trace stream
   * and records with a token to the token stream, where each correlator process runs fan_out and token_mismatch; 0 off
   */
  keyedStreams: option('keyed-streams', 1),
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[e2e] ${msg}\n`);
const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};

// every process, cluster, client and connection is registered here, stopped in reverse order on exit, error or signal
const cleanups: (() => unknown)[] = [];
async function cleanupAll(): Promise<void> {
  for (let fn = cleanups.pop(); fn; fn = cleanups.pop()) {
    try {
      await fn();
    } catch {
      // keep stopping the rest
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping everything`);
    void cleanupAll().finally(() => process.exit(130));
  });
}
// the harness's own exit hook SIGKILLs children, which leaves the Redis wrapper's redis-server behind: stop in order
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.once(event, (err) => {
    log(`${event}: ${(err as Error)?.stack ?? err}`);
    void cleanupAll().finally(() => process.exit(1));
  });
}

interface PhaseResult {
  correlators: number;
  /** kafkajs producers straight to the same cluster, mean of a sample before and after the live load (records/s) */
  baseProduce: number;
  /** a plain kafkajs consumer group reading the whole topic after the phase (records/s) */
  baseConsume: number;
  /** records/s accepted by the collector */
  ingest: number;
  /** records/s from the first live record to the last sentinel alert */
  e2e: number;
  /** records/s draining the backlog */
  capacity: number;
  idleP50: number;
  loadP50: number;
  loadP99: number;
  probes: number;
  maxLag: number;
  lagAtIngestEnd: number;
  lagAfterDrain: number;
  dropped: number;
  cpuLive: Record<Role, number>;
  cpuDrain: Record<Role, number>;
}

async function within<T>(p: Promise<T>, what: string, tails: () => string): Promise<T> {
  const ms = OPTS.drainTimeoutS * 1000;
  const timeout = sleep(ms).then(() => Promise.reject(new Error(`${what}: not within ${ms / 1000} s\n${tails()}`)));
  return Promise.race([p, timeout]);
}

/** the group's committed-offset lag summed over partitions, as meshward_correlator_lag reports it per partition */
async function groupLag(admin: Admin, group: string): Promise<number> {
  const [committed, ends] = await Promise.all([
    admin.fetchOffsets({ groupId: group, topics: [CALLS] }),
    admin.fetchTopicOffsets(CALLS),
  ]);
  const mine = committed.find((c) => c.topic === CALLS)?.partitions ?? [];
  let lag = 0;
  for (const e of ends) {
    const c = mine.find((p) => p.partition === e.partition);
    const from = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(e.low);
    lag += Math.max(0, Number(e.high) - from);
  }
  return lag;
}

const kafkaClient = (mock: KafkaMock, clientId: string) =>
  new Kafka({ brokers: mock.bootstrap, clientId, logLevel: logLevel.NOTHING, retry: { retries: 5 } });

/** a plain consumer group reads the whole topic: records/s from its first message to the high watermark */
async function plainConsumeRate(kafka: KafkaMock, admin: Admin): Promise<number> {
  const total = (await admin.fetchTopicOffsets(CALLS)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const consumer = kafkaClient(kafka, 'bench-plain').consumer({
    groupId: 'bench-plain',
    sessionTimeout: SESSION_TIMEOUT_MS,
    heartbeatInterval: 200,
    maxWaitTimeInMs: OPTS.maxWaitMs,
  });
  cleanups.push(() => consumer.disconnect());
  let seen = 0;
  let first = 0;
  let last = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [CALLS], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      first ||= Date.now();
      for (const m of batch.messages) if (JSON.parse(m.value?.toString('utf8') ?? 'null') !== null) seen++;
      if (seen >= total) last ||= Date.now();
    },
  });
  const until = Date.now() + OPTS.drainTimeoutS * 1000;
  while (!last && Date.now() < until) await sleep(20);
  await consumer.stop();
  return last ? total / ((last - first) / 1000) : Number.NaN;
}

async function phase(traffic: Traffic, correlators: number): Promise<PhaseResult> {
  const engines = await startKafkaRedis({
    brokers: OPTS.brokers,
    callsPartitions: OPTS.partitions,
    extraTopics: [{ name: BASELINE_TOPIC, partitions: OPTS.partitions }],
  });
  const { kafka } = engines;
  cleanups.push(() => engines.stop());
  const config = writeConfig({
    log_level: 'warn',
    ...engines.sections({
      session_timeout_ms: SESSION_TIMEOUT_MS,
      rebalance_timeout_ms: SESSION_TIMEOUT_MS + 2_000,
      max_wait_time_ms: OPTS.maxWaitMs,
    }),
    collector: { listen: '127.0.0.1:0', sensor_tokens: [{ id: 'bench', token: SENSOR_TOKEN }] },
    api: { listen: '127.0.0.1:0', api_keys: [{ name: 'bench', role: 'viewer', key: API_KEY }] },
    correlator: { checkpoint_interval_ms: OPTS.checkpointMs, keyed_streams: OPTS.keyedStreams !== 0 },
  });
  const children: Child[] = [];
  const tails = () => tailsOf(children, 10);
  const start = async (role: 'api' | 'collector' | 'correlator'): Promise<string> => {
    const r = await startRole(role, config);
    children.push(r.child);
    cleanups.push(() => {
      r.child.kill('SIGCONT'); // a paused correlator cannot act on SIGTERM
      return r.child.stop(5_000);
    });
    return r.url as string;
  };
  const [apiUrl, collectorUrl] = await Promise.all([start('api'), start('collector')]);

  const book = new ProbeBook();
  const stopStream = await followAlertStream(apiUrl, API_KEY, (a) => {
    if (a.kind === 'plaintext_hop' && a.subject) book.seen(a.subject.value, Date.now());
  });
  cleanups.push(stopStream);
  const admin = kafkaClient(kafka, 'bench-admin').admin();
  await admin.connect();
  cleanups.push(() => admin.disconnect());
  const direct = await directProducers(kafkaClient(kafka, 'bench-direct'), OPTS.sensors, (p) =>
    cleanups.push(() => p.disconnect()),
  );
  const prober = new Prober(book, CALLS, OPTS.partitions, (r) => direct.probe(CALLS, r), log);
  // the produce baseline goes to a topic of its own, which no correlator reads
  const baselineSample = () => direct.load(BASELINE_TOPIC, OPTS.baselineRecords, traffic, OPTS.batch);

  await Promise.all(Array.from({ length: correlators }, () => start('correlator')));
  const correlatorProcs = children.filter((c) => c.name === 'meshward-correlator');
  // settled: every partition answers within a second, twice in a row
  const settleUntil = Date.now() + 60_000;
  for (let inRow = 0; inRow < 2; ) {
    const ok = await Promise.race([prober.round('warm').seen.then(() => true), sleep(1_000).then(() => false)]);
    inRow = ok ? inRow + 1 : 0;
    if (Date.now() > settleUntil) throw new Error(`probes not answered within 60 s\n${tails()}`);
  }

  // capacity: correlators paused, head probes, the backlog straight to Kafka, tail probes; then they go on
  for (const c of correlatorProcs) c.kill('SIGSTOP');
  const pausedAt = Date.now();
  const head = prober.round('head');
  await head.sent;
  await direct.load(CALLS, OPTS.backlog, traffic, OPTS.batch);
  const tail = prober.round('tail');
  await tail.sent;
  if (Date.now() - pausedAt > SESSION_TIMEOUT_MS - 1_000)
    log(`paused ${Date.now() - pausedAt} ms, near the session timeout: the group may have rebalanced`);
  const cpuDrain0 = cpuSnapshot();
  for (const c of correlatorProcs) c.kill('SIGCONT');
  await within(tail.seen, 'draining the backlog', tails);
  const cpuDrain = cpuPer1k(cpuDrain0, cpuSnapshot(), OPTS.backlog);
  const capacity =
    OPTS.backlog / ((Math.max(...book.seenTimes(tail.callers)) - Math.min(...book.seenTimes(head.callers))) / 1000);

  // idle latency on the live path: one record per POST to the collector
  prober.send = (r) => postRecord(collectorUrl, SENSOR_TOKEN, r);
  const idle = await prober.sequence('idle', OPTS.idleProbes);
  const producedBefore = await baselineSample();

  // live load through the sensors' shipper, probes alongside, lag sampled
  const shippers: BatchingShipper[] = Array.from({ length: OPTS.sensors }, (_, s) => {
    const shipper = createHttpShipper(
      {
        ...defaultShipperConfig,
        collector_url: collectorUrl,
        token: SENSOR_TOKEN,
        batch_size: OPTS.batch,
        flush_interval_ms: 50,
        max_buffer: OPTS.batch * 8,
        timeout_ms: 15_000,
        backoff_ms: 50,
        max_backoff_ms: 1_000,
      },
      { sensorId: `bench-sensor-${s}`, logger: silentLogger },
    );
    cleanups.push(() => shipper.shutdown(1_000));
    return shipper;
  });
  let maxLag = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxLag = Math.max(maxLag, await groupLag(admin, GROUP).catch(() => 0));
      await sleep(250);
    }
  })();
  const live = prober.periodic('load', OPTS.probeMs);
  const cpuLive0 = cpuSnapshot();
  const t0 = Date.now();
  await drive({
    total: OPTS.records,
    clients: OPTS.sensors,
    batch: OPTS.batch,
    traffic,
    send: (s, batch) => {
      for (const r of batch) shippers[s].push(r);
    },
    room: (s) => shippers[s].stats().buffered < OPTS.batch * 4,
  });
  const settled = () => shippers.reduce((n, s) => n + s.stats().accepted + s.stats().dropped, 0);
  while (settled() < OPTS.records) await sleep(5);
  const ingestEnd = Date.now();
  await live.stop();
  sampling = false;
  await sampler;
  const lagAtIngestEnd = await groupLag(admin, GROUP);
  maxLag = Math.max(maxLag, lagAtIngestEnd);
  const sentinels = prober.round('sentinel');
  await within(sentinels.seen, 'draining the live load', tails);
  const e2eEnd = Math.max(...book.seenTimes(sentinels.callers));
  const cpuLive = cpuPer1k(cpuLive0, cpuSnapshot(), OPTS.records);
  const dropped = shippers.reduce((n, s) => n + s.stats().dropped, 0);
  if (dropped > 0) log(`the shippers dropped ${dropped} records: ${JSON.stringify(shippers[0].stats())}`);

  // no record arrives any more: what the group has still not committed three checkpoint intervals later
  await sleep(Math.max(2_000, OPTS.checkpointMs * 3));
  const lagAfterDrain = await groupLag(admin, GROUP);
  const baseProduce = (producedBefore + (await baselineSample())) / 2;
  const baseConsume = await plainConsumeRate(kafka, admin);

  if (children.some((c) => c.exitInfo() !== null)) throw new Error(`a meshward process exited\n${tails()}`);
  if (children.some((c) => c.lines().some((l) => l.text.includes('lost to the bus retention'))))
    log('warning: records outgrew the mock broker (5 MiB per partition): lower --records/--backlog');
  const underLoad = book.latencies(live.callers);
  return {
    correlators,
    baseProduce,
    baseConsume,
    ingest: OPTS.records / ((ingestEnd - t0) / 1000),
    e2e: OPTS.records / ((e2eEnd - t0) / 1000),
    capacity,
    idleP50: quantile(book.latencies(idle), 0.5),
    loadP50: quantile(underLoad, 0.5),
    loadP99: quantile(underLoad, 0.99),
    probes: underLoad.length,
    maxLag,
    lagAtIngestEnd,
    lagAfterDrain,
    dropped,
    cpuLive,
    cpuDrain,
  };
}

function report(phases: PhaseResult[], services: number, shares: number[], load: string): string {
  const n = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
  const x = (v: number, base: number) => (Number.isFinite(v) && base > 0 ? `${(v / base).toFixed(2)}×` : '—');
  const commit = (() => {
    try {
      return execSync('git describe --always --dirty', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      return 'unknown';
    }
  })();
  const name = (p: PhaseResult) => `${p.correlators} correlator${p.correlators > 1 ? 's' : ''}`;
  const main = phases.map((p) =>
    [
      name(p),
      `${n(p.baseProduce)} / ${n(p.baseConsume)}`,
      `${n(p.ingest)} (${x(p.ingest, p.baseProduce)})`,
      `${n(p.e2e)} (${x(p.e2e, p.baseProduce)})`,
      `${n(p.capacity)} (${x(p.capacity, p.baseConsume)})`,
      `${n(p.idleP50)}`,
      `${n(p.loadP50)} / ${n(p.loadP99)} (${x(p.loadP50, p.idleP50)})`,
      `${n(p.maxLag)} / ${n(p.lagAtIngestEnd)} / ${n(p.lagAfterDrain)}`,
    ].join(' | '),
  );
  const cpu = phases.map(
    (p) => `${name(p)} | ${ROLES.map((r) => `${n(p.cpuLive[r])} / ${n(p.cpuDrain[r])}`).join(' | ')}`,
  );
  const total = OPTS.records + OPTS.backlog;
  return [
    `Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${load}; commit ${commit}. ` +
      `Per phase ${total.toLocaleString('en-US')} records (${OPTS.backlog.toLocaleString('en-US')} backlog + ` +
      `${OPTS.records.toLocaleString('en-US')} live from ${OPTS.sensors} sensors, batches of ${OPTS.batch}), ` +
      `${OPTS.partitions} partitions (${shares.map((s) => `${Math.round(s * 100)}%`).join('/')} of the records), ` +
      `${services} services, ${OPTS.brokers} mock broker(s), gzip, fetch wait ${OPTS.maxWaitMs} ms, checkpoint every ${OPTS.checkpointMs} ms; ` +
      `${phases.map((p) => p.probes).join('/')} probes under load.`,
    '',
    '| correlators | baseline kafkajs produce / consume rec/s | ingest rec/s (× produce) | end-to-end rec/s (× produce) | capacity rec/s (× consume) | alert latency idle p50 ms | under load p50 / p99 ms (× idle) | committed lag max / at ingest end / after drain |',
    '|---|---|---|---|---|---|---|---|',
    ...main.map((r) => `| ${r} |`),
    '',
    `| CPU ms per 1,000 records, live / backlog | ${ROLES.join(' | ')} |`,
    `|---|${ROLES.map(() => '---').join('|')}|`,
    ...cpu.map((r) => `| ${r} |`),
    '',
    `Method: every phase on a fresh mock Kafka cluster and Redis. Baseline, same cluster and records: ${OPTS.sensors} kafkajs producers in the same batches`,
    'to a topic no correlator reads (before and after the live load), and a plain consumer group reading the calls topic (JSON.parse).',
    'Capacity: a backlog produced while the correlators are paused (SIGSTOP), from the first to the last alert of a probe per partition',
    'put before and after it. Live: sensor shippers post to the collector; ingest = records accepted / time; end-to-end = until a probe',
    `per partition sent after the last record is out. Latency: alert on the API's SSE stream − ts of an injected anomaly (a plaintext hop from a new caller).`,
  ].join('\n');
}

async function main(): Promise<void> {
  const traffic = meshTraffic(OPTS.meshes);
  // keyed by service, a partition's share is the sum of its services' shares: the most a correlator can be spared
  const shares = partitionShares(meshTraffic(OPTS.meshes), CALLS, OPTS.partitions, OPTS.records);
  const load = () => loadavg()[0].toFixed(1);
  const loadBefore = load();
  log(`${JSON.stringify(OPTS)}; ${traffic.services} services; load average ${loadBefore}`);
  const began = Date.now();
  const phases: PhaseResult[] = [];
  for (let k = 1; k <= OPTS.correlators; k++) {
    try {
      phases.push(await phase(traffic, k));
    } finally {
      await cleanupAll();
    }
    log(`${k} correlator(s) done at ${((Date.now() - began) / 1000).toFixed(0)} s: ${JSON.stringify(phases.at(-1))}`);
  }
  process.stdout.write(`${report(phases, traffic.services, shares, `${loadBefore}–${load()}`)}\n`);
}

main()
  .then(
    () => 0,
    (err) => {
      log(`failed: ${(err as Error)?.stack ?? err}`);
      return 1;
    },
  )
  .then(async (code) => {
    await cleanupAll();
    process.exit(code);
  });
