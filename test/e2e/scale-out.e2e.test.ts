import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { type KafkaRedis, startKafkaRedis } from '../harness/kafka-redis.js';
import { startRole } from '../harness/meshward.js';
import {
  offlineReplay,
  offlineWindowCounts,
  ownedPartitions,
  postAll,
  servicePoints,
  tails,
  waitFor,
  waitForAlerts,
} from '../harness/pipeline-client.js';
import type { Child } from '../harness/processes.js';
import { errorBurstTraffic, spineConfig, startApiAndCollector } from '../harness/spine.js';

const SENSOR_TOKEN = 'scale-sensor-token-0123456789';
const API_KEY = 'scale-viewer-key-0123456789';
const PARTITIONS = 6;
const ALL = Array.from({ length: PARTITIONS }, (_, i) => i);

/**
 * Scale-out: two correlator processes share the calls topic as one consumer group (records keyed by service, so a
 * service's state lives on one partition). Mid-stream one of them is stopped gracefully (SIGTERM): it checkpoints
 * and leaves, the other takes its partitions over from the checkpoints. The result must be as if one correlator had
 * seen everything once: the alerts equal an offline replay, and every record is counted in exactly one RED window.
 */
describe('scale-out: two correlators in one consumer group, one stops mid-stream', () => {
  let engines: KafkaRedis | undefined;
  const children: Child[] = [];
  let config: string;

  const start = Date.UTC(2026, 0, 5, 8, 0, 0);
  const records: ApiCallRecord[] = errorBurstTraffic(11, start);

  beforeAll(async () => {
    engines = await startKafkaRedis({ callsPartitions: PARTITIONS });
    config = spineConfig(engines, { name: 'scale', sensorToken: SENSOR_TOKEN, apiKey: API_KEY });
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(children.map((c) => c.stop(3000)));
    await engines?.stop();
  });

  const startCorrelator = async () => {
    // info level: the correlator logs the partitions it is assigned and gives up
    const c = await startRole('correlator', config, [], { MESHWARD_LOG_LEVEL: 'info' });
    children.push(c.child);
    return c.child;
  };

  it('hands partitions over on a graceful stop: alerts equal the offline replay, every record counted once', async () => {
    const expected = await offlineReplay(config, records);
    expect(expected.some((a) => a.kind === 'error_burst' && a.firstSeen >= start + 75 * 60_000)).toBe(true);

    // A joins alone and owns everything; B joins and the group splits the partitions between them
    const a = await startCorrelator();
    await waitFor(
      'correlator A to own every partition',
      () => (ownedPartitions(a).size === PARTITIONS ? true : undefined),
      20_000,
    );
    const b = await startCorrelator();
    const split = await waitFor(
      'the group to split the partitions between A and B',
      () => {
        const [ownA, ownB] = [ownedPartitions(a), ownedPartitions(b)];
        const disjoint = [...ownA].every((p) => !ownB.has(p));
        return ownA.size > 0 && ownB.size > 0 && disjoint && ownA.size + ownB.size === PARTITIONS
          ? { a: [...ownA], b: [...ownB] }
          : undefined;
      },
      30_000,
    );

    const { apiUrl, collectorUrl } = await startApiAndCollector(config, children);

    const half = Math.floor(records.length / 2);
    for (let i = 0; i < half; i += 1000)
      await postAll(collectorUrl, SENSOR_TOKEN, records.slice(i, Math.min(half, i + 1000)));

    // both members work: each has processed (and checkpointed) records of the partitions it owns
    const { Kafka, logLevel } = await import('kafkajs');
    const admin = new Kafka({ brokers: engines!.kafka.bootstrap, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets('meshward.calls');
      const withData = new Set(ends.filter((e) => Number(e.high) > 0).map((e) => e.partition));
      expect(
        split.a.some((p) => withData.has(p)),
        `A owns ${split.a}, data in ${[...withData]}`,
      ).toBe(true);
      expect(
        split.b.some((p) => withData.has(p)),
        `B owns ${split.b}, data in ${[...withData]}`,
      ).toBe(true);
      await waitFor(
        'both correlators to commit progress on their own partitions',
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId: 'meshward-correlator', topics: ['meshward.calls'] });
          const done = new Set(committed.partitions.filter((p) => Number(p.offset) > 0).map((p) => p.partition));
          return split.a.some((p) => done.has(p)) && split.b.some((p) => done.has(p)) ? true : undefined;
        },
        30_000,
      );
    } finally {
      await admin.disconnect();
    }

    // the rest of the stream; A is stopped (SIGTERM) while it flows
    let stopped: Promise<unknown> | undefined;
    for (let i = half, n = 0; i < records.length; i += 1000, n++) {
      if (n === 3) {
        a.kill('SIGTERM');
        stopped = a.exited;
      }
      await postAll(collectorUrl, SENSOR_TOKEN, records.slice(i, Math.min(records.length, i + 1000)));
    }
    expect(await stopped, tails([a])).toEqual({ code: 0, signal: null });
    // A gave its partitions up on the way out, and B took every partition over
    expect(ownedPartitions(a).size, tails([a])).toBe(0);
    await waitFor(
      'B to own every partition',
      () => (ownedPartitions(b).size === PARTITIONS ? true : undefined),
      30_000,
    );
    expect([...ownedPartitions(b)].sort()).toEqual(ALL);

    const got = await waitForAlerts(apiUrl, API_KEY, expected);
    expect(got.map((x) => x.id).sort(), tails(children)).toEqual(expected.map((x) => x.id).sort());
    for (const e of expected) {
      expect(
        got.find((x) => x.id === e.id),
        e.id,
      ).toMatchObject({ kind: e.kind, service: e.service, state: e.state, count: e.count, firstSeen: e.firstSeen });
    }

    // every record counted exactly once: one stored window per service and minute, with the offline count
    // (the last minutes are left out: each partition closes them by its own watermark)
    const offline = await offlineWindowCounts(records);
    const services = [...new Set(records.map((r) => r.service))];
    let compared = 0;
    for (const service of services) {
      const points = await servicePoints(apiUrl, API_KEY, service);
      const starts = points.map((p) => p.start);
      expect(new Set(starts).size, `${service}: a window stored twice`).toBe(starts.length);
      for (const p of points) {
        if (p.start > start + 90 * 60_000) continue;
        expect(p.count, `${service} window ${new Date(p.start).toISOString()}`).toBe(
          offline.get(`${service}@${p.start}`),
        );
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(services.length * 80);
  }, 150_000);
});
