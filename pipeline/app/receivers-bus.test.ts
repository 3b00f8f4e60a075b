import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CapturingIngest } from '../../sensors/common/capturing-ingest.js';
import { capturingLogger } from '../../test/harness/capturing-logger.js';
import { type KafkaMock, startKafkaMock } from '../../test/harness/kafka.js';
import { metricSum } from '../../test/harness/metrics.js';
import { silentLogger } from '../core/logger.js';
import { runProcess } from './process-runner.js';
import { receiverConfigs, startReceivers } from './receivers.js';
import { runCollector } from './roles.js';

const MAPPING = join(import.meta.dirname, '..', '..', 'sensors', 'bus', 'testdata', 'mapping.yaml');
const SASL = { mechanism: 'scram-sha-256', username: 'meshward-tap' };
const TOPICS = ['orders.requests', 'orders.replies', 'payments.requests', 'payments.replies', 'audit.events'];
let kafka: KafkaMock;

beforeAll(async () => {
  kafka = await startKafkaMock({ brokers: 1, topics: TOPICS.map((name) => ({ name, partitions: 1 })) });
});
afterAll(async () => {
  await kafka?.stop();
});

/** a meshward process's config file in `dir`: a collector on a free port with one sensor token, and `receiver` */
function processConfig(dir: string, receiver: string): string {
  const config = join(dir, 'meshward.yaml');
  writeFileSync(
    config,
    [
      'log_level: silent',
      `data_dir: ${join(dir, 'data')}`,
      'collector:',
      '  listen: 127.0.0.1:0',
      '  sensor_tokens: [{ id: envoy-1, token: envoy-sensor-token-0123 }]',
      'receivers:',
      `  ${receiver}`,
      '',
    ].join('\n'),
  );
  return config;
}

/** process.exit made to throw (a process that cannot start ends here) and stderr captured; vi.restoreAllMocks undoes both */
function spyOnExit() {
  const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
    throw new Error('the process exited');
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return { exit, stderr };
}

async function produceOrder(correlationId: string, t0: number) {
  const k = new Kafka({ clientId: 'receivers-bus-test', brokers: kafka.bootstrap, logLevel: logLevel.NOTHING });
  const producer = k.producer();
  await producer.connect();
  await producer.send({
    topic: 'orders.requests',
    messages: [
      {
        value: '{"sku":"A1"}',
        timestamp: String(t0),
        headers: { 'correlation-id': correlationId, 'x-operation': 'create', 'x-caller': 'web' },
      },
    ],
  });
  await producer.send({
    topic: 'orders.replies',
    messages: [
      {
        value: '{"id":1}',
        timestamp: String(t0 + 40),
        headers: { 'correlation-id': correlationId, 'x-status': '201' },
      },
    ],
  });
  await producer.disconnect();
}

const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('bus receiver in the receivers: section', () => {
  it('refuses a bus entry without a usable mapping, naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-bus-'));
    const bad = join(dir, 'mapping.yaml');
    writeFileSync(bad, 'topics:\n  - topic: orders.requests\n');
    const twice = {
      topics: [
        { topic: 'a', service: 'a' },
        { topic: 'a', service: 'b' },
      ],
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ bus: {} }, 'receivers.bus: mapping_file or mapping is required'],
      [
        { 'bus/orders': { mapping_file: join(dir, 'missing.yaml') } },
        'receivers.bus/orders: mapping_file: bus mapping file',
      ],
      [{ 'bus/orders': { mapping_file: bad } }, `receivers.bus/orders: mapping_file: ${bad}`],
      [{ bus: { mapping: twice } }, 'receivers.bus: mapping: bus mapping: topic a is mapped twice'],
      [{ bus: { mapping_file: MAPPING, max_pending: 0 } }, 'receivers.bus'],
      // the SASL password is never inline: only its file
      [
        { 'bus/orders': { mapping_file: MAPPING, sasl: { ...SASL, password: 'inline', password_file: '/p' } } },
        'receivers.bus/orders.sasl.password: Unexpected property',
      ],
      [{ 'bus/orders': { mapping_file: MAPPING, sasl: SASL } }, 'receivers.bus/orders.sasl.password_file: Expected'],
      [
        { bus: { mapping_file: MAPPING, sasl: { ...SASL, mechanism: 'gssapi', password_file: '/p' } } },
        'receivers.bus.sasl.mechanism: Expected one of: plain, scram-sha-256, scram-sha-512',
      ],
    ];
    for (const [section, message] of cases) {
      let caught: unknown;
      try {
        receiverConfigs(section);
      } catch (err) {
        caught = err;
      }
      expect(caught, message).toMatchObject({ code: 'MW_ERR_CONFIG_INVALID' });
      expect((caught as Error).message, message).toContain(message);
    }
    expect(receiverConfigs({ 'bus/orders': { mapping_file: MAPPING } })[0]).toMatchObject({
      type: 'bus',
      config: { mapping_file: MAPPING, group_id: 'meshward-bus-sensor', max_pending: 100_000 },
    });
  });

  it("takes the receiver's key as its sensor id when the config gives none", () => {
    const ids = receiverConfigs({
      bus: { mapping_file: MAPPING },
      'bus/orders': { mapping_file: MAPPING },
      'bus/named': { mapping_file: MAPPING, sensor_id: 'bus-payments-eu' },
    }).map((r) => (r.config as { sensor_id: string }).sensor_id);
    expect(ids).toEqual(['bus', 'bus/orders', 'bus-payments-eu']);
  });

  it('refuses a SASL password file that cannot be read before any receiver starts, naming the key and the option', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-bus-'));
    const missing = join(dir, 'no-such-password');
    const empty = join(dir, 'empty-password');
    writeFileSync(empty, '\n');
    for (const [file, why] of [
      [missing, `receivers.bus/orders.sasl.password_file: cannot read ${missing}: ENOENT`],
      [empty, `receivers.bus/orders.sasl.password_file: ${empty} is empty`],
    ]) {
      const app = Fastify();
      const started = startReceivers(
        {
          'bus/orders': { brokers: kafka.bootstrap, mapping_file: MAPPING, sasl: { ...SASL, password_file: file } },
        },
        { app, ingest: new CapturingIngest(), logger: silentLogger },
      );
      await expect(started).rejects.toMatchObject({ code: 'MW_ERR_CONFIG_INVALID' });
      await expect(started).rejects.toThrow(why);
      await app.close();
    }
  });

  it('under a meshward process, a SASL password file that cannot be read stops the start in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-bus-'));
    const missing = join(dir, 'no-such-password');
    const config = processConfig(
      dir,
      `bus/orders: { brokers: [${kafka.bootstrap.join(', ')}], mapping_file: ${MAPPING}, sasl: { mechanism: plain, username: meshward-tap, password_file: ${missing} } }`,
    );
    const { exit, stderr } = spyOnExit();
    try {
      await expect(runProcess('test', { config }, async (deps) => [await runCollector(deps)])).rejects.toThrow(
        'the process exited',
      );
      expect(exit).toHaveBeenCalledWith(2);
      expect(stderr.mock.calls.map(([chunk]) => String(chunk))).toEqual([
        `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: receivers.bus/orders.sasl.password_file: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'\n`,
      ]);
    } finally {
      vi.restoreAllMocks();
    }
  }, 60_000);

  it('taps the mapped topics and hands the paired request/reply to the collector ingest', async () => {
    const ingest = new CapturingIngest();
    const app = Fastify();
    const receivers = await startReceivers(
      {
        'bus/shop': {
          sensor_id: 'bus-shop',
          brokers: kafka.bootstrap,
          group_id: 'receivers-bus-pairing',
          from_beginning: true,
          mapping_file: MAPPING,
        },
      },
      { app, ingest, logger: silentLogger },
    );
    try {
      expect(receivers.describe).toEqual([
        `bus/shop: Kafka brokers ${kafka.bootstrap.join(',')} group receivers-bus-pairing tapping orders.requests, payments.requests, audit.events, orders.replies, payments.replies`,
      ]);
      const t0 = Date.now() - 1_000;
      await produceOrder('c-recv-1', t0);
      const [record] = await ingest.waitFor(1, 30_000);
      expect(record).toMatchObject({
        ts: t0,
        durationMs: 40,
        method: 'PUBLISH',
        path: '/topic/orders.requests/create',
        status: 201,
        service: 'orders',
        source: { service: 'web' },
        sensor: { kind: 'bus', id: 'bus-shop' },
        tags: { bus_outcome: 'reply' },
      });
      expect(ingest.origins[0]).toEqual({ receiver: 'bus', key: 'bus/shop', sensorId: 'bus-shop' });
    } finally {
      await receivers.close();
      await app.close();
    }
  }, 60_000);

  it('keeps two bus receivers without a sensor_id apart, in their records and their metrics', async () => {
    const topics = {
      orders: 'keyed.orders.requests',
      replies: 'keyed.orders.replies',
      payments: 'keyed.payments.events',
    };
    for (const topic of Object.values(topics)) await kafka.createTopic(topic, 1);
    const tap = (group: string, mapping: Record<string, unknown>) => ({
      brokers: kafka.bootstrap,
      group_id: group,
      from_beginning: true,
      mapping: { topics: [mapping] },
    });
    const ingest = new CapturingIngest();
    const receivers = await startReceivers(
      {
        'bus/orders': tap('receivers-bus-keyed-orders', {
          topic: topics.orders,
          service: 'orders',
          reply_topic: topics.replies,
        }),
        'bus/payments': tap('receivers-bus-keyed-payments', { topic: topics.payments, service: 'payments' }),
      },
      { app: Fastify(), ingest, logger: silentLogger },
    );
    try {
      const k = new Kafka({ clientId: 'receivers-bus-keyed', brokers: kafka.bootstrap, logLevel: logLevel.NOTHING });
      const producer = k.producer();
      await producer.connect();
      await producer.send({ topic: topics.orders, messages: [{ value: 'o', headers: { 'correlation-id': 'k-1' } }] });
      await producer.send({ topic: topics.replies, messages: [{ value: 'r', headers: { 'correlation-id': 'k-1' } }] });
      await producer.send({ topic: topics.payments, messages: [{ value: 'p' }] });
      await producer.disconnect();
      await ingest.waitFor(2, 30_000);
      const byService = Object.fromEntries(ingest.records.map((r) => [r.service, r.sensor]));
      expect(byService).toEqual({
        orders: { kind: 'bus', id: 'bus/orders' },
        payments: { kind: 'bus', id: 'bus/payments' },
      });
      expect(ingest.origins.map((o) => o.sensorId).sort()).toEqual(['bus/orders', 'bus/payments']);
      // each receiver's series: the request and its reply read by one, the event by the other; a record each
      const series = async (name: string) => [
        await metricSum(name, { sensor: 'bus/orders' }),
        await metricSum(name, { sensor: 'bus/payments' }),
      ];
      expect(await series('meshward_bus_sensor_messages_total')).toEqual([2, 1]);
      expect(await series('meshward_bus_sensor_records_total')).toEqual([1, 1]);
    } finally {
      await receivers.close();
    }
  }, 60_000);

  it('keeps the process up while the brokers are unreachable, retries, and consumes once they answer', async () => {
    await kafka.brokerDown(-1);
    const ingest = new CapturingIngest();
    const { lines, logger } = capturingLogger();
    const receivers = await startReceivers(
      {
        bus: {
          brokers: kafka.bootstrap,
          group_id: 'receivers-bus-retry',
          from_beginning: true,
          mapping_file: MAPPING,
        },
      },
      { app: Fastify(), ingest, logger },
    );
    try {
      // startReceivers returned without the brokers; the failed start is logged and retried, nothing thrown
      await until(
        () => lines.some((l) => l.msg === 'bus sensor could not start (brokers unreachable?); retrying'),
        60_000,
      );
      const warnings = () =>
        lines.filter((l) => l.msg === 'bus sensor could not start (brokers unreachable?); retrying');
      // the line says which attempt failed and how long until the next
      expect(warnings()[0]).toMatchObject({
        receiver: 'bus',
        failures: 1,
        retry_in_ms: 1_000,
        brokers: kafka.bootstrap,
      });
      // each failed attempt is counted, one for each line (read in one turn: no attempt ends between the two reads)
      const failures = await metricSum('meshward_bus_sensor_start_failures_total', { sensor: 'bus' });
      expect(failures).toBeGreaterThanOrEqual(1);
      expect(failures).toBe(warnings().length);
      await kafka.brokerUp(-1);
      await produceOrder('c-recv-2', Date.now());
      const [record] = await ingest.waitFor(1, 60_000);
      expect(record).toMatchObject({ path: '/topic/orders.requests/create', status: 201 });
      expect(lines.some((l) => l.msg === 'bus sensor consuming')).toBe(true);
    } finally {
      await kafka.brokerUp(-1);
      await receivers.close();
    }
  }, 120_000);

  it('closed while the brokers are down, leaves no consumer behind once they come back', async () => {
    await kafka.brokerDown(-1);
    const group = 'receivers-bus-closed-early';
    const receivers = await startReceivers(
      { bus: { brokers: kafka.bootstrap, group_id: group, from_beginning: true, mapping_file: MAPPING } },
      { app: Fastify(), ingest: new CapturingIngest(), logger: silentLogger },
    );
    await new Promise((r) => setTimeout(r, 500));
    await receivers.close();
    await kafka.brokerUp(-1);
    // the connection attempt in flight at close succeeds once the brokers answer (kafkajs retries it for seconds):
    // the consumer it brings up must leave, not consume and commit for a receiver that is closed
    await produceOrder('c-closed', Date.now());
    const admin = new Kafka({
      clientId: 'receivers-bus-admin',
      brokers: kafka.bootstrap,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const committed = async () =>
        (await admin.fetchOffsets({ groupId: group, topics: ['orders.requests'] }))[0].partitions[0].offset;
      const end = Date.now() + 12_000;
      while (Date.now() < end) {
        expect(await committed()).toBe('-1');
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await admin.disconnect();
    }
  }, 60_000);

  it('starts on the mapping the config check read, though the file is rewritten before the receiver starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-bus-'));
    const file = join(dir, 'mapping.yaml');
    copyFileSync(MAPPING, file);
    const app = Fastify();
    // the Kong receiver ahead of the bus one adds its route after the section was checked: the mapping file is
    // rewritten then, as a deployment tool could while meshward starts
    app.addHook('onRoute', () =>
      writeFileSync(file, 'topics:\n  - { topic: inventory.commands, service: inventory }\n'),
    );
    const ingest = new CapturingIngest();
    const receivers = await startReceivers(
      {
        kong_http_log: { token_hash_key: 'receivers-bus-test-token-hash-key' },
        'bus/shop': {
          sensor_id: 'bus-checked',
          brokers: kafka.bootstrap,
          group_id: 'receivers-bus-checked',
          from_beginning: true,
          mapping_file: file,
        },
      },
      { app, ingest, logger: silentLogger },
    );
    try {
      expect(readFileSync(file, 'utf8')).toContain('inventory.commands');
      // the start-up log and the sensor both have the checked mapping: the file was not read again
      expect(receivers.describe[1]).toBe(
        `bus/shop: Kafka brokers ${kafka.bootstrap.join(',')} group receivers-bus-checked tapping orders.requests, payments.requests, audit.events, orders.replies, payments.replies`,
      );
      await produceOrder('c-checked', Date.now() - 1_000);
      await ingest.waitFor(1, 30_000);
      expect(ingest.records[0]).toMatchObject({ path: '/topic/orders.requests/create', sensor: { id: 'bus-checked' } });
    } finally {
      await receivers.close();
      await app.close();
    }
  }, 60_000);

  it('under a meshward process, starts on the mapping checked with the config: the file is not read again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-bus-'));
    const mapping = join(dir, 'mapping.yaml');
    copyFileSync(MAPPING, mapping);
    const config = processConfig(
      dir,
      `bus: { brokers: [${kafka.bootstrap.join(', ')}], group_id: receivers-bus-process, mapping_file: ${mapping} }`,
    );
    // a process that cannot start exits: caught here, it fails the test with its one line
    const { exit, stderr } = spyOnExit();
    try {
      // checked with the config, then gone before the collector starts its receivers
      const { roles, shutdown } = await runProcess('test', { config }, async (deps) => {
        rmSync(mapping);
        return [await runCollector(deps)];
      });
      expect(roles.map((r) => r.name)).toEqual(['collector']);
      await shutdown();
    } finally {
      const lines = stderr.mock.calls.map(([chunk]) => String(chunk));
      const exits = exit.mock.calls.length;
      vi.restoreAllMocks();
      expect(lines).toEqual([]);
      expect(exits).toBe(0);
    }
  }, 60_000);
});
