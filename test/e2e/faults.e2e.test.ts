import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import type { KafkaMock } from '../harness/kafka.js';
import { type KafkaRedis, startKafkaRedis } from '../harness/kafka-redis.js';
import { startRole, writeConfig } from '../harness/meshward.js';
import { type PostAnswer, postAll, postOnce, servicePoints, tails, waitFor } from '../harness/pipeline-client.js';
import type { Child } from '../harness/processes.js';
import type { RedisServer } from '../harness/redis.js';

const SENSOR_TOKEN = 'faults-sensor-token-0123456789';
const API_KEY = 'faults-viewer-key-0123456789';
const MAX_PENDING = 1000;
const MINUTE = 60_000;
const DAY = 86_400_000;
const BASE = Date.UTC(2025, 5, 2, 0, 0, 0);

/** `n` records of one service, all inside one minute (so each batch has a RED window of its own) */
function batch(service: string, at: number, n: number, tag: string): ApiCallRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${tag}-${i}`,
    ts: at + i * 10,
    durationMs: 5 + (i % 20),
    sensor: { kind: 'test', id: 'faults' },
    service,
    method: 'GET',
    host: `${service}.svc`,
    path: `/v1/items/${i % 7}`,
    status: 200,
    reqBytes: 50,
    respBytes: 500,
    source: { ip: '10.0.0.9' },
  }));
}

/** a Prometheus sample from the text exposition: the sum over series whose labels include `labels` */
async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

const health = async (url: string) => {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/**
 * Faults across processes: all Kafka brokers down and back, Redis down and back, and a collector SIGKILLed while it
 * ingests. The pipeline must refuse what it cannot take with a retryable code, say so on its health endpoints, come
 * back without a hand on it, and never lose a record it answered 2xx for.
 */
describe('faults: Kafka outage, Redis outage, collector killed mid-ingest', () => {
  let kafka: KafkaMock;
  let redis: RedisServer;
  let engines: KafkaRedis | undefined;
  let config: string;
  const children: Child[] = [];
  let correlator: Child;
  let apiUrl: string;
  let collectorUrl: string;

  beforeAll(async () => {
    engines = await startKafkaRedis({ extraTopics: [{ name: 'meshward.decisions', partitions: 1 }] });
    ({ kafka, redis } = engines);
    config = writeConfig({
      log_level: 'warn',
      // fail fast during an outage: a short publish deadline, a small bounded buffer, few retries
      ...engines.sections({
        publish_timeout_ms: 2000,
        max_pending_messages: MAX_PENDING,
        retries: 2,
        retry_initial_ms: 100,
        retry_max_ms: 500,
        connection_timeout_ms: 500,
        request_timeout_ms: 2000,
      }),
      collector: { listen: '127.0.0.1:0', sensor_tokens: [{ id: 'faults', token: SENSOR_TOKEN }] },
      api: { listen: '127.0.0.1:0', api_keys: [{ name: 'faults', role: 'viewer', key: API_KEY }] },
      // a window stays open 10 minutes for late records: batches that arrive out of order still count
      correlator: { checkpoint_interval_ms: 300, lateness_seconds: 600 },
    });
    const [c, api, collector] = await Promise.all([
      startRole('correlator', config),
      startRole('api', config),
      startRole('collector', config),
    ]);
    correlator = c.child;
    children.push(c.child, api.child, collector.child);
    apiUrl = api.url as string;
    collectorUrl = collector.url as string;
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(children.map((c) => c.stop(3000)));
    await engines?.stop();
  });

  /** waits until the stored window of every minute in `expected` holds exactly that many records */
  async function expectWindows(service: string, start: number, expected: Map<number, number | number[]>) {
    let last = new Map<number, number>();
    const matches = () =>
      [...expected].every(([minute, want]) => {
        const got = last.get(start + minute * MINUTE) ?? 0;
        return Array.isArray(want) ? want.includes(got) : got === want;
      });
    await waitFor(
      `the windows of ${service}`,
      async () => {
        last = new Map((await servicePoints(apiUrl, API_KEY, service)).map((p) => [p.start, p.count]));
        return matches() ? true : undefined;
      },
      60_000,
      500,
    ).catch(() => undefined);
    const got = Object.fromEntries([...expected.keys()].map((m) => [m, last.get(start + m * MINUTE) ?? 0]));
    expect(got, tails(children)).toEqual(
      Object.fromEntries(
        [...expected].map(([m, want]) => [m, Array.isArray(want) && want.includes(got[m]) ? got[m] : want]),
      ),
    );
  }

  it('Kafka down: 503 BUS_UNAVAILABLE / 429 BUS_SATURATED within the bound, health down; back up: every 2xx record delivered', async () => {
    const service = 'faults-kafka';
    const start = BASE;
    let minute = 0;
    const outcomes: { minute: number; size: number; answer: PostAnswer }[] = [];
    const attempt = async (size: number) => {
      const m = minute++;
      const answer = await postOnce(collectorUrl, SENSOR_TOKEN, batch(service, start + m * MINUTE, size, `kafka-${m}`));
      outcomes.push({ minute: m, size, answer });
      return answer;
    };

    for (let i = 0; i < 2; i++) expect((await attempt(200)).status).toBe(200);
    expect((await health(collectorUrl)).status).toBe(200);
    const saturatedBefore = await metric(collectorUrl, 'meshward_http_errors_total', { code: 'MW_ERR_BUS_SATURATED' });
    const turnedAwayBefore = await metric(collectorUrl, 'meshward_bus_rejected_total', {
      bus: 'kafka',
      topic: 'meshward.calls',
    });

    await kafka.brokerDown(-1);
    try {
      // one request goes to the (failing) send, the next ones fill the bounded buffer, past it: 429 at once
      for (let burst = 0; burst < 5; burst++) {
        const first = attempt(600);
        await new Promise((r) => setTimeout(r, 50));
        await Promise.all([first, attempt(600), attempt(600), attempt(600)]);
        const statuses = outcomes.slice(2).map((o) => o.answer.status);
        if (statuses.includes(429) && statuses.includes(503)) break;
      }
      const during = outcomes.slice(2);
      for (const o of during) {
        expect([429, 503], JSON.stringify(o.answer)).toContain(o.answer.status);
        expect(o.answer.body.code).toBe(o.answer.status === 429 ? 'MW_ERR_BUS_SATURATED' : 'MW_ERR_BUS_UNAVAILABLE');
      }
      const saturated = during.filter((o) => o.answer.status === 429);
      expect(saturated.length).toBeGreaterThan(0);
      expect(during.some((o) => o.answer.status === 503)).toBe(true);
      // each refusal is counted: the HTTP answer by code, the messages the bounded buffer turned away
      expect(await metric(collectorUrl, 'meshward_http_errors_total', { code: 'MW_ERR_BUS_SATURATED' })).toBe(
        saturatedBefore + saturated.length,
      );
      expect(await metric(collectorUrl, 'meshward_bus_rejected_total', { bus: 'kafka', topic: 'meshward.calls' })).toBe(
        turnedAwayBefore + saturated.reduce((n, o) => n + o.size, 0),
      );
      expect(
        await metric(collectorUrl, 'meshward_kafka_publish_failures_total', { code: 'MW_ERR_BUS_UNAVAILABLE' }),
      ).toBeGreaterThan(0);
      // the collector says the bus is down
      const down = await waitFor(
        'collector health to report the bus down',
        async () => {
          const h = await health(collectorUrl);
          return h.status === 503 ? h : undefined;
        },
        20_000,
      );
      expect(down.body).toMatchObject({ status: 'degraded', bus: 'down' });
    } finally {
      await kafka.brokerUp(-1);
    }

    const up = await waitFor(
      'collector health to report the bus up again',
      async () => {
        const h = await health(collectorUrl);
        return h.status === 200 ? h : undefined;
      },
      30_000,
    );
    expect(up.body).toMatchObject({ status: 'ok', bus: 'up' });
    // ingestion resumes (a 503 now and then while the producer reconnects is fine: each attempt is its own minute)
    const accepted = () => outcomes.filter((o) => o.answer.status === 200).length;
    const acceptedBefore = accepted();
    await waitFor(
      'three batches accepted after the outage',
      async () => {
        const a = await attempt(200);
        expect([200, 429, 503]).toContain(a.status);
        return accepted() >= acceptedBefore + 3 ? true : undefined;
      },
      45_000,
      200,
    );
    // a later record closes every window above (windows stay open 10 minutes for late records)
    await postAll(collectorUrl, SENSOR_TOKEN, batch(service, start + (minute + 12) * MINUTE, 1, 'kafka-closer'));

    // accepted: counted exactly once; refused at once (429): never published; timed out (503): the send may still
    // have gone through when the brokers came back, as a whole or not at all
    const expected = new Map<number, number | number[]>(
      outcomes.map((o) => [o.minute, o.answer.status === 200 ? o.size : o.answer.status === 429 ? 0 : [0, o.size]]),
    );
    await expectWindows(service, start, expected);
  }, 120_000);

  it('a collector SIGKILLed mid-ingest lost nothing it answered 2xx for (2xx only after the Kafka ack)', async () => {
    const service = 'faults-kill';
    const start = BASE + DAY;
    const victim = await startRole('collector', config);
    children.push(victim.child);
    const accepted: string[] = [];
    let attempted = 0;
    let stop = false;
    const poster = async (p: number) => {
      for (let k = 0; !stop; k++) {
        const records = batch(service, start, 100, `kill-${p}-${k}`);
        attempted += records.length;
        try {
          const a = await postOnce(victim.url as string, SENSOR_TOKEN, records);
          if (a.status === 200 && a.body.accepted === records.length) accepted.push(...records.map((r) => r.id));
        } catch {
          return; // the collector is gone
        }
      }
    };
    const posters = [0, 1, 2, 3].map(poster);
    await waitFor('some batches accepted', () => (accepted.length >= 1200 ? true : undefined), 30_000, 20);
    victim.child.kill('SIGKILL');
    stop = true;
    await Promise.all(posters);
    expect(await victim.child.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(accepted.length).toBeGreaterThanOrEqual(1200);

    // 1. in Kafka: every record answered 2xx is in the calls topic
    const inKafka = new Map<string, number>();
    const client = new Kafka({ brokers: kafka.bootstrap, logLevel: logLevel.NOTHING });
    const admin = client.admin();
    const consumer = client.consumer({
      groupId: 'faults-verify',
      sessionTimeout: 2500,
      heartbeatInterval: 200,
      rebalanceTimeout: 3000,
      maxWaitTimeInMs: 100,
    });
    await admin.connect();
    await consumer.connect();
    try {
      const ends = await admin.fetchTopicOffsets('meshward.calls');
      const readUpTo = new Map<number, number>();
      await consumer.subscribe({ topics: ['meshward.calls'], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          readUpTo.set(partition, Number(message.offset) + 1);
          const r = JSON.parse(String(message.value)) as ApiCallRecord;
          if (r.service === service) inKafka.set(r.id, (inKafka.get(r.id) ?? 0) + 1);
        },
      });
      await waitFor(
        'the test consumer to read the calls topic to its end',
        () => (ends.every((e) => (readUpTo.get(e.partition) ?? 0) >= Number(e.high)) ? true : undefined),
        30_000,
      );
    } finally {
      await consumer.disconnect();
      await admin.disconnect();
    }
    const missing = accepted.filter((id) => !inKafka.has(id));
    expect(missing.length, `answered 2xx but not in Kafka: ${missing.slice(0, 5).join(', ')}`).toBe(0);
    const delivered = [...inKafka.values()].reduce((a, b) => a + b, 0);
    expect(delivered).toBeLessThanOrEqual(attempted);

    // 2. at the correlator: the minute's window counts what Kafka holds (every 2xx record and no other twice)
    await postAll(collectorUrl, SENSOR_TOKEN, batch(service, start + 12 * MINUTE, 1, 'kill-closer'));
    await expectWindows(service, start, new Map([[0, delivered]]));
  }, 120_000);

  it('Redis down: API health degraded and store reads 503; back up: API and correlator recover by themselves', async () => {
    const service = 'faults-redis';
    const start = BASE + 2 * DAY;
    const records = (minute: number, n: number) => batch(service, start + minute * MINUTE, n, `redis-${minute}`);
    // minute 0, and a record of minute 11 that closes its window: once that window is stored, the correlator has
    // read everything so far, and what follows reaches it during the outage
    await postAll(collectorUrl, SENSOR_TOKEN, [...records(0, 150), ...records(11, 30)]);
    await waitFor(
      'the window of minute 0',
      async () =>
        (await servicePoints(apiUrl, API_KEY, service)).some((p) => p.start === start && p.count === 150)
          ? true
          : undefined,
      30_000,
    );
    expect((await health(apiUrl)).status).toBe(200);

    const since = correlator.lineCount();
    await redis.kill();
    try {
      const degraded = await waitFor(
        'API health to report the store down',
        async () => {
          const h = await health(apiUrl);
          return h.status === 503 ? h : undefined;
        },
        20_000,
      );
      expect(degraded.body).toMatchObject({ status: 'degraded', parts: { bus: true, store: false } });
      const read = await fetch(`${apiUrl}/v1/services`, { headers: { 'x-api-key': API_KEY } });
      expect(read.status).toBe(503);
      expect(((await read.json()) as { code: string }).code).toBe('MW_ERR_STORE_UNAVAILABLE');

      // ingest does not need the store. One batch: minutes 12-14, and minute 27 that closes the windows of minutes
      // 11-16; the correlator processes it, cannot store what it produced, and retries
      await postAll(collectorUrl, SENSOR_TOKEN, [
        ...records(12, 120),
        ...records(13, 90),
        ...records(14, 60),
        ...records(27, 40),
      ]);
      await correlator.waitForLine(/onBatch failed; the batch will be redelivered/, { since, timeoutMs: 30_000 });
    } finally {
      await redis.restart();
    }

    const back = await waitFor(
      'API health to recover',
      async () => {
        const h = await health(apiUrl);
        return h.status === 200 ? h : undefined;
      },
      30_000,
    );
    expect(back.body).toMatchObject({ status: 'ok', parts: { bus: true, store: true } });
    await postAll(collectorUrl, SENSOR_TOKEN, records(50, 1));
    // Redis came back empty (no persistence; minute 0 is gone with it): every window closed since the outage began
    // is written, in full
    await expectWindows(
      service,
      start,
      new Map([
        [11, 30],
        [12, 120],
        [13, 90],
        [14, 60],
        [15, 0],
        [16, 0],
        [27, 40],
      ]),
    );
  }, 120_000);
});
