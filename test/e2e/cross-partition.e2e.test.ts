import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { kafkaPartitionOf } from '../harness/kafka.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf } from '../../pipeline/bus/keyed-streams.js';
import type { Alert } from '../../pipeline/core/alert.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { type KafkaRedis, startKafkaRedis } from '../harness/kafka-redis.js';
import { apiCall, tracedRequest } from '../harness/api-call.js';
import { startRole, writeConfig } from '../harness/meshward.js';
import { alertsFromApi, ownedPartitions, postAll, tails, waitFor } from '../harness/pipeline-client.js';
import type { Child } from '../harness/processes.js';
import { startApiAndCollector } from '../harness/spine.js';
import { createRedisStore } from '../../pipeline/store/redis-store.js';

const SENSOR_TOKEN = 'mesh-sensor-token-0123456789';
const API_KEY = 'mesh-viewer-key-0123456789';
const PARTITIONS = 6;
const THRESHOLD = 10;
const SERVICES = Array.from({ length: 12 }, (_, i) => `svc-${String.fromCharCode(97 + i)}`);

/** the partition the collector's Kafka producer gives a service's records (kafkajs's default murmur2 partitioner) */
const partitionOf = kafkaPartitionOf('meshward.calls', PARTITIONS);

/** the front end of the fan-out case and its backends; its ordinary traces, enough for every trace partition */
const FRONT = 'shop-frontend';
const BACKENDS = ['svc-a', 'svc-b', 'svc-c', 'svc-e', 'svc-g'];
const NORMAL = 90;

/** a front-end request and its backend calls, one trace */
const trace = (traceId: string, at: number, calls: number): ApiCallRecord[] =>
  tracedRequest({ traceId, at, front: FRONT, route: '/api/cart', user: 'shopper-1', backends: BACKENDS, calls });

/**
 * Two correlator processes in one consumer group over Kafka, with Redis, where what is counted spans partitions
 * (records are keyed by service). A custom rule grouped by address counts an address's failed logins at twelve
 * services: no partition alone reaches the threshold; the shards' shares in Redis do; credential_stuffing counts
 * the address's distinct failing users the same way. A front-end request fanning out
 * to backends on other partitions: the collector writes each traced record to meshward.calls.by-trace keyed by its
 * trace too, where fan_out sees the trace whole; two such requests on two trace partitions are one alert. A slow
 * backend's alert and its slowed caller's, raised on two partitions, are folded into one by the API.
 */
describe('what spans partitions: two correlators, Kafka and Redis', () => {
  let engines: KafkaRedis | undefined;
  const children: Child[] = [];
  let config: string;

  beforeAll(async () => {
    engines = await startKafkaRedis({ callsPartitions: PARTITIONS });
    config = writeConfig({
      log_level: 'warn',
      ...engines.sections(),
      collector: { listen: '127.0.0.1:0', sensor_tokens: [{ id: 'mesh', token: SENSOR_TOKEN }] },
      api: { listen: '127.0.0.1:0', api_keys: [{ name: 'mesh', role: 'viewer', key: API_KEY }] },
      correlator: { checkpoint_interval_ms: 300, idle_after_seconds: 0 },
      detectors: {
        custom_rules: {
          rules: [
            {
              name: 'failed-logins',
              severity: 'high',
              when: 'status == 401 && route == "/login"',
              group_by: ['source.ip'],
              threshold: THRESHOLD,
              window_seconds: 60,
            },
          ],
        },
        fan_out: { min_traces: 5, min_calls: 10, trace_ttl_ms: 5_000 },
        credential_stuffing: { stuffing_distinct_users: THRESHOLD },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(children.map((c) => c.stop(3000)));
    await engines?.stop();
  });

  let apiUrl = '';
  let collectorUrl = '';

  it('a custom rule: one alert for the address, with the count of every partition', async () => {
    const perPartition = new Map<number, number>();
    for (const s of SERVICES) perPartition.set(partitionOf(s), (perPartition.get(partitionOf(s)) ?? 0) + 1);
    // one failure per service: no partition holds ten of them
    expect(Math.max(...perPartition.values())).toBeLessThan(THRESHOLD);

    const correlators: Child[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await startRole('correlator', config, [], { MESHWARD_LOG_LEVEL: 'info' });
      children.push(c.child);
      correlators.push(c.child);
    }
    await waitFor(
      'the two correlators to share the partitions',
      () => {
        const [a, b] = correlators.map((c) => ownedPartitions(c));
        return a.size > 0 && b.size > 0 && a.size + b.size === PARTITIONS ? true : undefined;
      },
      30_000,
    );
    ({ apiUrl, collectorUrl } = await startApiAndCollector(config, children));

    const t0 = Date.now() - (Date.now() % 60_000) - 120_000;
    const records: ApiCallRecord[] = SERVICES.map((service, i) =>
      apiCall({
        service,
        ts: t0 + 10_000 + i * 1000,
        method: 'POST',
        path: '/login',
        route: '/login',
        status: 401,
        source: { ip: '203.0.113.7' },
        user: { sub: `victim-${i}` },
      }),
    );
    await postAll(collectorUrl, SENSOR_TOKEN, records);

    const alert = await waitFor(
      'the custom rule alert',
      async () => (await alertsFromApi(apiUrl, API_KEY)).find((a) => a.kind === 'custom_rule'),
      60_000,
      500,
    ).catch(() => undefined);
    expect(alert, tails(children)).toBeDefined();
    expect(alert).toMatchObject({
      subject: { type: 'ip', value: '203.0.113.7' },
      labels: { rule: 'failed-logins', group: 'source.ip=203.0.113.7' },
    });
    expect(alert?.evidence.metrics.requests).toBeGreaterThanOrEqual(THRESHOLD);
    expect(alert?.evidence.metrics.partitions).toBeGreaterThan(1);
    // one alert, signalled by one shard
    expect((await alertsFromApi(apiUrl, API_KEY)).filter((a) => a.kind === 'custom_rule')).toHaveLength(1);
    // credential stuffing: twelve users failing from one address, no partition seeing ten of them
    const stuffing = await waitFor(
      'the credential_stuffing alert',
      async () => (await alertsFromApi(apiUrl, API_KEY)).find((a) => a.kind === 'credential_stuffing'),
      60_000,
      500,
    ).catch(() => undefined);
    expect(stuffing, tails(children)).toMatchObject({ subject: { type: 'ip', value: '203.0.113.7' } });
    expect(stuffing?.evidence.metrics.distinct_users).toBeGreaterThanOrEqual(THRESHOLD);
    expect(stuffing?.evidence.metrics.partitions).toBeGreaterThan(1);
    expect((await alertsFromApi(apiUrl, API_KEY)).filter((a) => a.kind === 'credential_stuffing')).toHaveLength(1);
  }, 150_000);

  it('fan_out: a request whose backend calls are on other partitions is found on the trace stream', async () => {
    expect(apiUrl, 'the processes of the test before').not.toBe('');
    const front = partitionOf(FRONT);
    expect(BACKENDS.every((b) => partitionOf(b) !== front)).toBe(true);
    const perPartition = new Map<number, number>();
    // a stream message is keyed by its trace's bucket
    for (let t = 0; t < NORMAL; t++) {
      const p = partitionOf(`b${bucketOf(`n-${t}`)}`);
      perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
    }
    expect(perPartition.size).toBe(PARTITIONS);
    expect(Math.min(...perPartition.values())).toBeGreaterThanOrEqual(5);

    const t0 = Date.now() - (Date.now() % 60_000) - 300_000;
    const records: ApiCallRecord[] = [];
    for (let t = 0; t < NORMAL; t++) records.push(...trace(`n-${t}`, t0 + t * 100, 4));
    // two amplified requests of the same shopper whose traces are on two trace partitions
    const amplified = ['amplified-0'];
    for (let i = 1; amplified.length < 2; i++)
      if (partitionOf(`b${bucketOf(`amplified-${i}`)}`) !== partitionOf(`b${bucketOf(amplified[0])}`))
        amplified.push(`amplified-${i}`);
    records.push(...trace(amplified[0], t0 + 30_000, 30), ...trace(amplified[1], t0 + 31_000, 25));
    await postAll(collectorUrl, SENSOR_TOKEN, records);

    const alert = await waitFor(
      'the fan_out alert of both requests',
      async () =>
        (await alertsFromApi(apiUrl, API_KEY)).find((a) => a.kind === 'fan_out' && a.evidence.metrics.requests === 2),
      60_000,
      500,
    ).catch(() => undefined);
    expect(alert, tails(children)).toMatchObject({
      service: FRONT,
      endpoint: 'GET /api/cart',
      subject: { type: 'user', value: 'shopper-1' },
    });
    // one alert says what both partitions counted (their shards' parts in Redis): no twin
    expect(alert?.evidence.metrics).toMatchObject({ backend_calls: 55, max_backend_calls: 30, partitions: 2 });
    expect((await alertsFromApi(apiUrl, API_KEY)).filter((a) => a.kind === 'fan_out')).toHaveLength(1);
  }, 150_000);

  it("root-cause folding: the API folds a slow caller's alert into its backend's along the call graph the correlators wrote", async () => {
    expect(apiUrl, 'the processes of the test before').not.toBe('');
    // pay-web calls pay-api, which calls ledger-db: three services on three partitions, each seen by the shard of its own
    const [web, api, db] = ['pay-web', 'pay-api', 'ledger-db'];
    expect(new Set([web, api, db].map(partitionOf)).size).toBe(3);
    const t0 = Date.now() - 120_000;
    const calls = [
      apiCall({ service: api, ts: t0, source: { ip: '10.0.0.2', service: web } }),
      apiCall({ service: db, ts: t0 + 10, source: { ip: '10.0.0.3', service: api } }),
    ];
    await postAll(collectorUrl, SENSOR_TOKEN, calls);
    // the correlators write the edges to the mesh's call graph at their sync after the batch
    const redis = createRedisStore({ url: engines!.redis.url });
    const graph = await waitFor(
      'the call graph in Redis',
      async () => {
        const edges = Object.keys(await redis.hgetall('callgraph:meshward-correlator'));
        return edges.includes(`${web}\u0000${api}`) && edges.includes(`${api}\u0000${db}`) ? edges : undefined;
      },
      30_000,
      200,
    )
      .catch(() => undefined)
      .finally(() => redis.close());
    expect(graph, tails(children)).toBeDefined();
    // the slow database's alert and its slowed front end's, as two correlator shards raise them
    const latency = (id: string, service: string): Alert => ({
      v: 1,
      id,
      kind: 'latency_spike',
      severity: 'high',
      state: 'open',
      service,
      firstSeen: t0,
      lastSeen: t0 + 60_000,
      count: 1,
      summary: `p95 latency 900 ms at ${service} (expected 50 ± 5 ms)`,
      evidence: { recordIds: [], metrics: {} },
      updatedAt: t0 + 60_000,
    });
    const client = new Kafka({ brokers: engines!.kafka.bootstrap, logLevel: logLevel.NOTHING });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({
      topic: 'meshward.alerts',
      messages: [latency('alr_xp_db', db), latency('alr_xp_web', web)].map((a) => ({
        key: a.id,
        value: JSON.stringify(a),
      })),
    });
    const folded = await waitFor(
      "the front end's alert folded into the database's",
      async () => {
        const got = await alertsFromApi(apiUrl, API_KEY);
        const symptom = got.find((a) => a.id === 'alr_xp_web');
        return symptom?.foldedInto ? { symptom, root: got.find((a) => a.id === 'alr_xp_db') } : undefined;
      },
      60_000,
      1_000,
    )
      .catch(() => undefined)
      .finally(() => producer.disconnect());
    expect(folded, tails(children)).toBeDefined();
    expect(folded?.symptom).toMatchObject({ state: 'resolved', foldedInto: 'alr_xp_db' });
    expect(folded?.root).toMatchObject({ state: 'open', folded: [{ id: 'alr_xp_web', service: web }] });
  }, 150_000);
});
