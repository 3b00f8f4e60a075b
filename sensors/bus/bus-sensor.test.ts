import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../pipeline/core/metrics.js';
import { type KafkaMock, startKafkaMock } from '../../test/harness/kafka.js';
import { metricSum } from '../../test/harness/metrics.js';
import { CapturingIngest } from '../common/capturing-ingest.js';
import { loadConfig } from '../common/load-config.js';
import { BusSensorConfigSchema } from './config.js';
import { busSensorFactory } from './factory.js';
import { loadMappingFile } from './mapping.js';

const TOPICS = ['orders.requests', 'orders.replies', 'payments.requests', 'payments.replies', 'audit.events'];
let kafka: KafkaMock;

beforeAll(async () => {
  kafka = await startKafkaMock({ brokers: 3, topics: TOPICS.map((name) => ({ name, partitions: 2 })) });
});
afterAll(async () => {
  await kafka?.stop();
});

/** a bus sensor of consumer group `group` reading from the beginning (the testdata mapping unless `over` names one) */
const config = (group: string, over: Record<string, unknown> = {}) =>
  loadConfig(BusSensorConfigSchema, {
    sensor_id: `bus-${group}`,
    brokers: kafka.bootstrap,
    group_id: group,
    from_beginning: true,
    lag_interval_ms: 200,
    mapping: over.mapping ?? loadMappingFile(join(import.meta.dirname, 'testdata', 'mapping.yaml')),
    ...over,
  });

async function produce(
  messages: { topic: string; key: string; ts: number; headers: Record<string, string>; value: string }[],
) {
  const k = new Kafka({ clientId: 'bus-test-app', brokers: kafka.bootstrap, logLevel: logLevel.NOTHING });
  const producer = k.producer();
  await producer.connect();
  for (const m of messages) {
    await producer.send({
      topic: m.topic,
      messages: [{ key: m.key, value: m.value, timestamp: String(m.ts), headers: m.headers }],
    });
  }
  await producer.disconnect();
}

const until = async (cond: () => boolean | Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('bus sensor against the Kafka mock cluster', () => {
  it('pairs requests and replies across topics, times out the unanswered, records one-way events, and reports lag', async () => {
    const t0 = Date.now() - 1_000;
    await produce([
      {
        topic: 'orders.requests',
        key: 'o1',
        ts: t0,
        value: '{"sku":"A1","qty":2}',
        headers: { 'correlation-id': 'c-1', 'x-operation': 'create', 'x-caller': 'web' },
      },
      {
        topic: 'orders.replies',
        key: 'o1',
        ts: t0 + 35,
        value: '{"id":"o-77"}',
        headers: { 'correlation-id': 'c-1', 'x-status': '201' },
      },
      {
        topic: 'payments.requests',
        key: 'p1',
        ts: t0 + 1,
        value: '{"amount":10}',
        headers: { 'correlation-id': 'c-2', 'x-user': 'alice' },
      },
      {
        topic: 'orders.requests',
        key: 'o2',
        ts: t0 + 2,
        value: '{}',
        headers: { 'correlation-id': 'c-3', 'x-operation': 'cancel' },
      },
      { topic: 'payments.replies', key: 'p1', ts: t0 + 90, value: '{"ok":true}', headers: { 'correlation-id': 'c-2' } },
      { topic: 'audit.events', key: 'a1', ts: t0 + 3, value: '{"who":"web"}', headers: {} },
    ]);
    const ingest = new CapturingIngest();
    const cfg = config('g-pairing');
    const sensor = busSensorFactory.create(cfg, { ingest });
    try {
      await sensor.start();
      const records = await ingest.waitFor(4, 30_000);
      expect(ingest.invalid).toEqual([]);
      const byPath = Object.fromEntries(records.map((r) => [r.path, r]));
      expect(byPath['/topic/orders.requests/create']).toMatchObject({
        ts: t0,
        durationMs: 35,
        status: 201,
        service: 'orders',
        method: 'PUBLISH',
        reqBytes: 20,
        respBytes: 13,
        source: { service: 'web' },
        sensor: { kind: 'bus', id: 'bus-g-pairing' },
      });
      expect(byPath['/topic/payments.requests/charge']).toMatchObject({
        durationMs: 89,
        status: 200,
        user: { sub: 'alice' },
      });
      expect(byPath['/topic/orders.requests/cancel']).toMatchObject({ status: 504, tags: { bus_outcome: 'timeout' } });
      expect(byPath['/topic/audit.events/record']).toMatchObject({ status: 202, service: 'audit' });
      expect(ingest.origins[0]).toEqual({ receiver: 'bus', key: 'bus', sensorId: 'bus-g-pairing' });

      // committed offsets catch up with the high watermarks: lag 0 on every partition
      await until(async () => (await sensor.lag()).every((p) => p.lag === 0));
    } finally {
      await sensor.shutdown();
      await sensor.shutdown();
    }

    // while the group is not consuming, new messages show up as lag (and on the gauge)
    await produce(
      [1, 2, 3].map((i) => ({
        topic: 'audit.events',
        key: 'same-key',
        ts: Date.now(),
        value: 'x',
        headers: { n: String(i) },
      })),
    );
    const idle = busSensorFactory.create(cfg, { ingest: new CapturingIngest() });
    try {
      // the broker's high watermark and the group's committed offsets are read separately: under load the first
      // read may precede the produce's visibility, so it is read until it settles (and must settle at 3)
      const auditLag = async () =>
        (await idle.lag()).filter((p) => p.topic === 'audit.events').reduce((a, p) => a + p.lag, 0);
      await until(async () => (await auditLag()) === 3);
      expect(await auditLag()).toBe(3);
      const gauge = await registry.getSingleMetric('meshward_bus_sensor_lag')!.get();
      const mine = gauge.values.filter((v) => v.labels.sensor === 'bus-g-pairing' && v.labels.topic === 'audit.events');
      expect(mine.reduce((a, v) => a + v.value, 0)).toBe(3);
    } finally {
      await idle.shutdown();
    }
  });

  it('counts duplicates, unmatched replies and uncorrelated requests as Prometheus metrics, by sensor and topic', async () => {
    // topics of their own: the group reads from the beginning, and the other test's messages would count too
    await kafka.createTopic('shop.requests', 1);
    await kafka.createTopic('shop.replies', 1);
    const t0 = Date.now() - 1_000;
    const request = (ts: number, headers: Record<string, string>) => ({
      topic: 'shop.requests',
      key: 'k',
      ts,
      value: '{}',
      headers,
    });
    const reply = (ts: number, headers: Record<string, string>) => ({
      topic: 'shop.replies',
      key: 'k',
      ts,
      value: '{}',
      headers,
    });
    await produce([
      request(t0, { 'correlation-id': 'dup-1' }),
      request(t0 + 1, { 'correlation-id': 'dup-1' }), // redelivered while the first waits
      request(t0 + 2, {}), // a reply is expected, but no correlation id to pair it by
      reply(t0 + 3, { 'correlation-id': 'nobody-asked' }), // waits for a request that never comes
      reply(t0 + 4, {}), // no correlation id: matches nothing
    ]);
    const sensorId = 'bus-pairing-counts';
    const cfg = config('g-pairing-counts', {
      sensor_id: sensorId,
      mapping: { topics: [{ topic: 'shop.requests', service: 'shop', reply_topic: 'shop.replies', timeout_ms: 300 }] },
    });
    const ingest = new CapturingIngest();
    const sensor = busSensorFactory.create(cfg, { ingest });
    const count = (name: string, topic: string) => metricSum(name, { sensor: sensorId, topic });
    try {
      await sensor.start();
      // the one-way record of the uncorrelated request, the 504 of dup-1; the early reply expires with dup-1
      await ingest.waitFor(2, 30_000);
      await until(async () => (await count('meshward_bus_sensor_unmatched_replies_total', 'shop.replies')) === 2);
      expect(await count('meshward_bus_sensor_unmatched_replies_total', 'shop.replies')).toBe(2);
      expect(await count('meshward_bus_sensor_duplicates_total', 'shop.requests')).toBe(1);
      expect(await count('meshward_bus_sensor_uncorrelated_requests_total', 'shop.requests')).toBe(1);
      // nothing is counted against the other topic
      expect(await count('meshward_bus_sensor_duplicates_total', 'shop.replies')).toBe(0);
      expect(await count('meshward_bus_sensor_uncorrelated_requests_total', 'shop.replies')).toBe(0);
      // the metrics say what stats() says
      expect(sensor.stats()).toMatchObject({ unmatchedReplies: 2, duplicates: 1, uncorrelated: 1, timeouts: 1 });
      expect(ingest.records.map((r) => r.tags?.bus_outcome).sort()).toEqual(['one_way', 'timeout']);
    } finally {
      await sensor.shutdown();
    }
  });

  it('gauges the requests waiting for a reply and the early replies, through pairing, eviction, expiry and shutdown', async () => {
    await kafka.createTopic('stock.requests', 1);
    await kafka.createTopic('stock.replies', 1);
    await kafka.createTopic('quote.requests', 1);
    await kafka.createTopic('quote.replies', 1);
    const t0 = Date.now() - 1_000;
    const msg = (topic: string, ts: number, corr: string) => ({
      topic,
      key: 'k',
      ts,
      value: '{}',
      headers: { 'correlation-id': corr },
    });
    const sensorId = 'bus-waiting-gauges';
    const cfg = config('g-waiting-gauges', {
      sensor_id: sensorId,
      max_pending: 2,
      mapping: {
        topics: [
          // stock waits longer than the test runs; quote times out at once
          { topic: 'stock.requests', service: 'stock', reply_topic: 'stock.replies', timeout_ms: 600_000 },
          { topic: 'quote.requests', service: 'quote', reply_topic: 'quote.replies', timeout_ms: 200 },
        ],
      },
    });
    const ingest = new CapturingIngest();
    const sensor = busSensorFactory.create(cfg, { ingest });
    const waiting = async () => ({
      pending: await metricSum('meshward_bus_sensor_pending_requests', { sensor: sensorId }),
      early: await metricSum('meshward_bus_sensor_early_replies', { sensor: sensorId }),
    });
    const settlesAt = async (expected: { pending: number; early: number }) => {
      await until(async () => JSON.stringify(await waiting()) === JSON.stringify(expected));
      expect(await waiting()).toEqual(expected);
      expect(sensor.stats()).toMatchObject({ pending: expected.pending, earlyReplies: expected.early });
    };
    const outcomes = () => ingest.records.map((r) => r.tags?.bus_outcome);
    try {
      await sensor.start();
      // three requests, at most two wait: the oldest is evicted
      await produce([msg('stock.requests', t0, 's-1'), msg('stock.requests', t0 + 1, 's-2')]);
      await settlesAt({ pending: 2, early: 0 });
      await produce([msg('stock.requests', t0 + 2, 's-3')]);
      await ingest.waitFor(1, 30_000);
      expect(outcomes()).toEqual(['evicted']);
      await settlesAt({ pending: 2, early: 0 });
      // a reply takes its request out
      await produce([msg('stock.replies', t0 + 3, 's-3')]);
      await ingest.waitFor(2, 30_000);
      await settlesAt({ pending: 1, early: 0 });
      // a request and a reply without a request expire (quote's timeout), the waiting stock request stays
      await produce([msg('quote.requests', t0 + 4, 'q-1'), msg('quote.replies', t0 + 5, 'q-nobody')]);
      await ingest.waitFor(3, 30_000);
      expect(outcomes()).toEqual(['evicted', 'reply', 'timeout']);
      await settlesAt({ pending: 1, early: 0 });
      // three early replies, at most two wait: the oldest is dropped; then one's request comes and takes it out
      await produce(['x-1', 'x-2', 'x-3'].map((corr, i) => msg('stock.replies', t0 + 6 + i, corr)));
      await settlesAt({ pending: 1, early: 2 });
      await produce([msg('stock.requests', t0 + 9, 'x-3')]);
      await ingest.waitFor(4, 30_000);
      await settlesAt({ pending: 1, early: 1 });
    } finally {
      await sensor.shutdown();
    }
    // what waited is dropped with the sensor: nothing waits any more
    expect(await waiting()).toEqual({ pending: 0, early: 0 });
    expect(sensor.stats()).toMatchObject({ pending: 0, earlyReplies: 0 });
    expect(outcomes()).toEqual(['evicted', 'reply', 'timeout', 'reply']);
  });
});
