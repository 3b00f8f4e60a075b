import { describe, expect, it } from 'vitest';
import '../detectors/all.js';
import { AlertRepository } from '../alerts/alert-repository.js';
import { bucketOf, bundles, keyedStreamsOf, STREAM_BUCKETS } from '../bus/keyed-streams.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { partitionFor } from '../bus/partitioner.js';
import { createRecordIngest } from '../collector/record-ingest.js';
import { resolveConfig } from '../config/load.js';
import type { Alert } from '../core/alert.js';
import { silentLogger } from '../core/logger.js';
import type { ApiCallRecord } from '../core/record.js';
import { checkpointKey } from '../correlator/correlator.js';
import { TOPICS } from '../bus/bus.js';
import { MemoryStore } from '../store/memory-store.js';
import { apiCall, tracedRequest } from '../../test/harness/api-call.js';
import { metricSum } from '../../test/harness/metrics.js';
import { Correlator } from '../correlator/correlator.js';
import { capturingLogger } from '../../test/harness/capturing-logger.js';
import { fastKafkaBusOptions, startKafkaMock } from '../../test/harness/kafka.js';
import { createKafkaBus } from '../bus/kafka-bus.js';
import { followAlerts, runCollector, runCorrelator } from './roles.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const FRONT = 'users';
const BACKENDS = ['billing', 'catalog', 'orders', 'accounts', 'search'];

const config = (over: Record<string, unknown> = {}) =>
  resolveConfig({
    bus: { kind: 'memory', partitions: 4 },
    correlator: { checkpoint_interval_ms: 200, idle_after_seconds: 0, ...over },
    detectors: {
      fan_out: { min_traces: 5, min_calls: 10, trace_ttl_ms: 5_000 },
      token_mismatch: { max_ips_per_token: 2 },
    },
  });

describe('keyed streams: which a config has', () => {
  it('auto: on for Kafka and a partitioned embedded bus, off for one partition; a detector turned off has none', () => {
    const of = (doc: Record<string, unknown>) => keyedStreamsOf(resolveConfig(doc)).map((s) => s.topic);
    expect(of({})).toEqual([]);
    expect(of({ bus: { kind: 'memory', partitions: 4 } })).toEqual([
      'meshward.calls.by-trace',
      'meshward.calls.by-token',
    ]);
    expect(of({ bus: { kind: 'kafka', kafka: { brokers: ['k:9092'] } } })).toHaveLength(2);
    expect(of({ bus: { kind: 'memory', partitions: 4 }, correlator: { keyed_streams: false } })).toEqual([]);
    expect(of({ correlator: { keyed_streams: true } })).toHaveLength(2);
    expect(
      of({ bus: { kind: 'memory', partitions: 4 }, detectors: { fan_out: { enabled: false }, token_mismatch: null } }),
    ).toEqual([]);
  });
});

/** ordinary traces: enough that every partition of the trace stream (keyed by trace id) holds min_traces of them */
const NORMAL = 40;

/**
 * A front end whose requests call five backends, each on another partition than the front end's (records are keyed
 * by service): forty ordinary traces of five backend calls, then one of thirty
 */
function traffic(): ApiCallRecord[] {
  const out: ApiCallRecord[] = [];
  const trace = (traceId: string, at: number, calls: number) =>
    out.push(
      ...tracedRequest({ traceId, at, front: FRONT, route: '/api/profile', user: 'u1', backends: BACKENDS, calls }),
    );
  for (let t = 0; t < NORMAL; t++) trace(`normal-${t}`, T0 + t * 200, 5);
  // after the ordinary traces closed (trace_ttl_ms 5 s)
  trace('amplified', T0 + 20_000, 30);
  return out;
}

/** one token presented from three addresses, each at a service on another partition */
function sharedToken(): ApiCallRecord[] {
  return ['billing', 'accounts', 'users'].map((service, i) =>
    apiCall({
      service,
      ts: T0 + i * 1000,
      path: '/me',
      route: '/me',
      source: { ip: `203.0.113.${10 + i}` },
      user: { sub: 'u7', tokenHash: 'hmac-of-the-token' },
    }),
  );
}

/** the records through a collector's ingest and a correlator role; the alerts of `kind` stored */
async function run(keyed: boolean, records = traffic(), kind = 'fan_out'): Promise<Alert[]> {
  const cfg = config({ keyed_streams: keyed, listen: '127.0.0.1:0' });
  const bus = new MemoryBus({ partitions: 4 });
  const store = new MemoryStore();
  const repo = new AlertRepository(store);
  const feed = await followAlerts(bus, repo);
  const role = await runCorrelator({ config: cfg, bus, store, logger: silentLogger });
  // the correlator's health says whether its keyed streams run (once their groups joined)
  await expect
    .poll(async () => (await fetch(`${role.url}/healthz`)).json())
    .toEqual({ status: 'ok', parts: { bus: true, store: true, ...(keyed ? { keyed_streams: true } : {}) } });
  const ingest = createRecordIngest({ bus, logger: silentLogger, streams: keyedStreamsOf(cfg) });
  const result = await ingest.ingest(records, { receiver: 'http', key: 'http', sensorId: 't' });
  expect(result.accepted).toBe(records.length);
  // on: until the alert is stored; off: until the calls topic's checkpoints cover every record
  const read = async () => {
    let n = 0;
    for (let p = 0; p < 4; p++) {
      const raw = await store.get(checkpointKey(cfg.correlator.group_id, TOPICS.calls, p));
      n += raw ? (JSON.parse(raw) as { nextOffset: number }).nextOffset : 0;
    }
    return n;
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (keyed ? (await repo.list({ kind })).items.length > 0 : (await read()) === records.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await role.close();
  await feed.close();
  await bus.close();
  return (await repo.list({ kind })).items;
}

describe('keyed streams: bundles', () => {
  it("a batch's records with the key, one message per bucket, each key's records in one; the others left out", () => {
    const [trace] = keyedStreamsOf(config());
    const records = traffic();
    const noTrace = { ...records[0], id: 'untraced', trace: undefined };
    const all = [...records, noTrace];
    const messages = bundles(
      trace,
      all,
      all.map((r) => ({ key: r.service, value: JSON.stringify(r) })),
    );
    expect(messages.length).toBeLessThanOrEqual(STREAM_BUCKETS);
    const byKey = new Map<string, string>();
    let n = 0;
    for (const m of messages) {
      for (const r of JSON.parse(String(m.value)) as ApiCallRecord[]) {
        n++;
        const traceId = r.trace?.traceId as string;
        // every record of a trace in the message of one key
        expect(byKey.get(traceId) ?? m.key).toBe(m.key);
        byKey.set(traceId, m.key as string);
        expect(m.key).toBe(`b${bucketOf(traceId)}`);
      }
    }
    expect(n).toBe(records.length);
  });
});

describe('keyed streams: fan_out over a bus of four partitions', () => {
  it('the front end and its backends are on different partitions; each trace partition has five ordinary traces', () => {
    const front = partitionFor(FRONT, 4);
    expect(BACKENDS.every((b) => partitionFor(b, 4) !== front)).toBe(true);
    const perPartition = [0, 0, 0, 0];
    // a stream message is keyed by its trace's bucket
    for (let t = 0; t < NORMAL; t++) perPartition[partitionFor(`b${bucketOf(`normal-${t}`)}`, 4)]++;
    expect(Math.min(...perPartition)).toBeGreaterThanOrEqual(5);
  });

  it('on: the trace stream carries each trace whole to one shard, and the amplified request is found', async () => {
    const alerts = await run(true);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      service: FRONT,
      endpoint: 'GET /api/profile',
      subject: { type: 'user', value: 'u1' },
    });
    expect(alerts[0].evidence.metrics.backend_calls).toBeGreaterThanOrEqual(11);
  });
});

describe('keyed streams off on a bus of four partitions', () => {
  it("fan_out sees none of the front end's backend calls (they are on other partitions) and misses the request", async () => {
    expect(await run(false)).toEqual([]);
  });
});

describe('keyed streams: token_mismatch over a bus of four partitions', () => {
  it('a token used from three addresses at services on three partitions: seen whole on the token stream', async () => {
    expect(new Set(['billing', 'accounts', 'users'].map((s) => partitionFor(s, 4))).size).toBe(3);
    const on = await run(true, sharedToken(), 'token_mismatch');
    expect(on).toHaveLength(1);
    expect(on[0]).toMatchObject({ subject: { type: 'token', value: 'hmac-of-the-token' } });
    expect(await run(false, sharedToken(), 'token_mismatch')).toEqual([]);
  });
});

describe('keyed streams: a bundle on the correlator', () => {
  it('takes each record of a bundle, and counts an item that is not a record without losing the others', async () => {
    const bus = new MemoryBus({ partitions: 1 });
    const store = new MemoryStore();
    const seen: string[] = [];
    const correlator = new Correlator({
      bus,
      store,
      logger: silentLogger,
      topic: TOPICS.callsByTrace,
      writeWindows: false,
      createDetectors: () => [
        { type: 'probe', observe: (r) => void seen.push(r.id), snapshot: () => null, restore: () => {} },
      ],
    });
    const bad = await metricSum('meshward_correlator_bad_records_total');
    await correlator.start();
    const [a, b] = traffic();
    await bus.publish(TOPICS.callsByTrace, [{ key: 'b1', value: JSON.stringify([a, { not: 'a record' }, b]) }]);
    const deadline = Date.now() + 5_000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([a.id, b.id]);
    expect(await metricSum('meshward_correlator_bad_records_total')).toBe(bad + 1);
    await correlator.close();
    await bus.close();
  });
});

describe('keyed streams: their topics missing from Kafka', () => {
  it('the collector says so at start, naming them and the way out', async () => {
    const kafka = await startKafkaMock({ brokers: 1, topics: [{ name: TOPICS.calls, partitions: 2 }] });
    const bus = createKafkaBus(fastKafkaBusOptions(kafka.bootstrap));
    const { lines, logger } = capturingLogger();
    const cfg = resolveConfig({
      bus: { kind: 'kafka', kafka: { brokers: kafka.bootstrap } },
      collector: { listen: '127.0.0.1:0', sensor_tokens: [{ id: 't', token: 'keyed-streams-sensor-token-01' }] },
    });
    const role = await runCollector({ config: cfg, bus, store: new MemoryStore(), logger });
    try {
      const deadline = Date.now() + 10_000;
      const said = () => lines.find((l) => String(l.msg).startsWith('keyed stream topics missing'));
      while (!said() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(said()).toMatchObject({ level: 40, missing: [TOPICS.callsByTrace, TOPICS.callsByToken] });
      expect(String(said()?.msg)).toContain('correlator.keyed_streams: false');
    } finally {
      await role.close();
      await bus.close();
      await kafka.stop();
    }
  });
});
