import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastKafkaBusOptions, type KafkaMock, startKafkaMock } from '../../test/harness/kafka.js';
import { repoRoot } from '../../test/harness/paths.js';
import { spawnNode } from '../../test/harness/processes.js';
import { MeshwardError } from '../core/errors.js';
import { registry } from '../core/metrics.js';
import type { BusBatch, BusMessage, Subscription } from './bus.js';
import { type KafkaBus, createKafkaBus } from './kafka-bus.js';
import { KafkaBusConfigSchema, kafkaBusOptionsFromConfig } from './kafka-config.js';

type TP = { topic: string; partition: number };
const names = (list: TP[]) => list.map((t) => `${t.topic}/${t.partition}`).sort();

async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** poll lag() until the total reaches `total` (commits land just after onBatch resolves) */
async function lagSettles(sub: Subscription, total: number, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  let lag = await sub.lag();
  while (lag.reduce((s, l) => s + l.lag, 0) !== total && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    lag = await sub.lag();
  }
  return lag;
}

// independent groups and topics: the tests overlap their group-join waits
describe.concurrent('KafkaBus against the mock cluster', () => {
  let mock: KafkaMock;
  let bus: KafkaBus;
  const subs: Subscription[] = [];

  beforeAll(async () => {
    mock = await startKafkaMock({
      brokers: 3,
      topics: [
        { name: 'rt', partitions: 4 },
        { name: 'group', partitions: 4 },
        { name: 'retry', partitions: 1 },
        { name: 'crash', partitions: 2 },
        { name: 'killed', partitions: 1 },
      ],
    });
    bus = createKafkaBus(fastKafkaBusOptions(mock.bootstrap));
  });

  afterAll(async () => {
    for (const s of subs) await s.close();
    await bus?.close();
    await mock?.stop();
  });

  it('round-trips keyed messages: one key, one partition, order and headers kept', async ({ expect }) => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const keys = ['orders', 'payments', 'users', 'search', 'auth'];
    const sent = Array.from({ length: 40 }, (_, i) => ({
      key: keys[i % keys.length],
      value: JSON.stringify({ i }),
      headers: { traceparent, seq: String(i) },
    }));
    await bus.publish('rt', sent.slice(0, 20));
    await bus.publish('rt', sent.slice(20));
    expect(bus.healthy()).toBe(true);

    const got: BusMessage[] = [];
    const sub = await bus.subscribe({
      groupId: 'rt-group',
      topics: ['rt'],
      fromBeginning: true,
      onBatch: async (b) => {
        got.push(...b.messages);
      },
    });
    subs.push(sub);
    await until('40 messages', () => got.length >= 40);
    expect(got).toHaveLength(40);

    const partitionOfKey = new Map<string, Set<number>>();
    for (const m of got) {
      const set = partitionOfKey.get(m.key!) ?? new Set();
      set.add(m.partition);
      partitionOfKey.set(m.key!, set);
      expect(m.topic).toBe('rt');
      expect(m.headers.traceparent).toBe(traceparent);
      expect(m.timestamp).toBeGreaterThan(Date.now() - 60_000);
    }
    for (const [, parts] of partitionOfKey) expect(parts.size).toBe(1);
    // the keys spread over more than one partition
    expect(new Set(got.map((m) => m.partition)).size).toBeGreaterThan(1);
    for (const key of keys) {
      const seqs = got.filter((m) => m.key === key).map((m) => Number(m.headers.seq));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(8);
      const offsets = got.filter((m) => m.key === key).map((m) => BigInt(m.offset));
      for (let i = 1; i < offsets.length; i++) expect(offsets[i] > offsets[i - 1]).toBe(true);
    }
    expect(JSON.parse(got.find((m) => m.headers.seq === '7')!.value.toString())).toEqual({ i: 7 });
    // everything processed is committed
    const lag = await lagSettles(sub, 0);
    expect(lag.map((l) => l.partition)).toEqual([0, 1, 2, 3]);
    expect(lag.reduce((s, l) => s + l.lag, 0)).toBe(0);
  });

  it('splits partitions between two group members with onAssign / onRevoke', async ({ expect }) => {
    const events: { who: string; what: 'assign' | 'revoke'; tps: string[] }[] = [];
    const seen = { a: 0, b: 0 };
    const member = (who: 'a' | 'b') =>
      bus.subscribe({
        groupId: 'split-group',
        topics: ['group'],
        fromBeginning: true,
        onBatch: async (batch) => {
          seen[who] += batch.messages.length;
        },
        onAssign: async (tps) => {
          events.push({ who, what: 'assign', tps: names(tps) });
        },
        onRevoke: async (tps) => {
          events.push({ who, what: 'revoke', tps: names(tps) });
        },
      });

    const a = await member('a');
    expect(events).toEqual([{ who: 'a', what: 'assign', tps: ['group/0', 'group/1', 'group/2', 'group/3'] }]);

    const b = await member('b');
    subs.push(a);
    // what each member holds, from its own callbacks (a loaded machine may rebalance more than once)
    const holding = (who: string) => {
      const held = new Set<string>();
      for (const e of events.filter((x) => x.who === who)) {
        for (const tp of e.tps) {
          if (e.what === 'assign') held.add(tp);
          else held.delete(tp);
        }
      }
      return held;
    };
    await until('a and b hold two partitions each, none twice', () => {
      const ha = holding('a');
      const hb = holding('b');
      const all = new Set([...ha, ...hb]);
      return ha.size === 2 && hb.size === 2 && all.size === 4 ? true : undefined;
    });
    // what b was given, a gave up
    const aRevoked = new Set(events.filter((e) => e.who === 'a' && e.what === 'revoke').flatMap((e) => e.tps));
    for (const tp of holding('b')) expect(aRevoked.has(tp)).toBe(true);

    // both members now consume their half
    const keys = Array.from({ length: 16 }, (_, i) => `svc-${i}`);
    await bus.publish(
      'group',
      keys.map((k) => ({ key: k, value: k })),
    );
    await until('all 16 consumed', () => seen.a + seen.b >= 16);
    expect(seen.a).toBeGreaterThan(0);
    expect(seen.b).toBeGreaterThan(0);
    expect(seen.a + seen.b).toBe(16);

    // b leaves: it revokes its partitions first, then a gets them back
    const bHeld = [...holding('b')].sort();
    events.length = 0;
    await b.close();
    expect(events[0]).toEqual({ who: 'b', what: 'revoke', tps: bHeld });
    await until("a takes b's partitions back", () => (holding('a').size === 2 ? true : undefined));
    const back = events.filter((e) => e.who === 'a' && e.what === 'assign').flatMap((e) => e.tps);
    expect(back.sort()).toEqual(bHeld);
  });

  it('redelivers a batch whose onBatch threw, commits once it succeeds; lag shows the backlog', async ({ expect }) => {
    await bus.publish(
      'retry',
      Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `m${i}` })),
    );
    const deliveries: BusBatch[] = [];
    let failuresLeft = 2;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const sub = await bus.subscribe({
      groupId: 'retry-group',
      topics: ['retry'],
      fromBeginning: true,
      onBatch: async (b) => {
        deliveries.push(b);
        await gate;
        if (failuresLeft-- > 0) throw new Error('effect store down');
      },
    });
    subs.push(sub);
    await until('first delivery', () => deliveries.length >= 1);
    // nothing is committed while the first batch is held
    expect((await sub.lag())[0]).toEqual({ topic: 'retry', partition: 0, lag: 10 });
    release();
    await until('three deliveries', () => deliveries.length >= 3);
    const firstOffsets = deliveries.slice(0, 3).map((d) => d.messages[0].offset);
    expect(firstOffsets).toEqual(['0', '0', '0']);
    expect(deliveries[2].messages.map((m) => m.value.toString())).toEqual(
      deliveries[0].messages.map((m) => m.value.toString()),
    );
    expect((await lagSettles(sub, 0))[0].lag).toBe(0);
  });

  it('a member that stops before committing leaves its batch to the next member', async ({ expect }) => {
    await bus.publish(
      'crash',
      Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `c${i}` })),
    );
    let firstSaw = 0;
    const first = await bus.subscribe({
      groupId: 'crash-group',
      topics: ['crash'],
      fromBeginning: true,
      onBatch: async (b) => {
        firstSaw += b.messages.length;
        throw new Error('crash before the effects are durable');
      },
    });
    await until('first member saw messages', () => firstSaw > 0);
    await first.close();

    const got = new Set<string>();
    subs.push(
      await bus.subscribe({
        groupId: 'crash-group',
        topics: ['crash'],
        fromBeginning: true,
        onBatch: async (b) => {
          for (const m of b.messages) got.add(m.value.toString());
        },
      }),
    );
    await until('all 6 redelivered', () => got.size >= 6);
    expect([...got].sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
  });
  it('a member SIGKILLed in the middle of a batch: its uncommitted batch goes to the next member', async ({
    expect,
  }) => {
    await bus.publish(
      'killed',
      Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: `kill${i}` })),
    );
    const child = spawnNode(`${repoRoot()}/test/harness/fixtures/kafka-member.ts`, {
      env: {
        MESHWARD_TEST_BROKERS: mock.bootstrap.join(','),
        MESHWARD_TEST_GROUP: 'killed-group',
        MESHWARD_TEST_TOPIC: 'killed',
      },
    });
    try {
      const m = await child.waitForLine(/^batch (\d+) (\d+) (\d+)$/, { stream: 'stdout', timeoutMs: 20_000 });
      expect(m[2]).toBe('0');
      child.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }
    const got: string[] = [];
    subs.push(
      await bus.subscribe({
        groupId: 'killed-group',
        topics: ['killed'],
        fromBeginning: true,
        onBatch: async (b) => {
          for (const msg of b.messages) got.push(msg.value.toString());
        },
      }),
    );
    await until("the killed member's batch redelivered", () => got.length >= 5, 20_000);
    expect(got).toEqual(['kill0', 'kill1', 'kill2', 'kill3', 'kill4']);
  });
  it('a member survives non-retriable errors at join and while running', async ({ expect }) => {
    // its own cluster: the injected errors hit every request of a type
    const mock = await startKafkaMock({ brokers: 1, topics: [{ name: 'faults', partitions: 2 }] });
    const bus = createKafkaBus(fastKafkaBusOptions(mock.bootstrap));
    try {
      const crashes = async () =>
        (await registry.getSingleMetric('meshward_kafka_consumer_crashes_total')?.get())?.values
          .filter((v) => v.labels.restart === 'false')
          .reduce((s, v) => s + v.value, 0) ?? 0;
      const before = await crashes();
      // SyncGroup (api key 14) answered with INVALID_REQUEST (42): kafkajs gives up on the join
      await mock.pushRequestErrors(14, 1, 42);
      const got: string[] = [];
      const sub = await bus.subscribe({
        groupId: 'faults-group',
        topics: ['faults'],
        fromBeginning: true,
        onBatch: async (b) => {
          for (const m of b.messages) got.push(m.value.toString());
        },
      });
      // (a loaded machine can add crashes of its own, e.g. request timeouts: count at least the injected ones)
      expect(await crashes()).toBeGreaterThanOrEqual(before + 1);
      await bus.publish('faults', [{ key: 'a', value: 'one' }]);
      await until('first message', () => got.includes('one'));
      const afterJoin = await crashes();

      // Fetch (api key 1) failing the same way crashes the running consumer; it rejoins by itself
      await mock.pushRequestErrors(1, 1, 42);
      await until('crash seen', async () => (await crashes()) >= afterJoin + 1);
      await bus.publish('faults', [{ key: 'a', value: 'two' }]);
      await until('message after the crash', () => got.includes('two'), 15_000);
      await sub.close();
    } finally {
      await bus.close();
      await mock.stop();
    }
  });
});

describe('KafkaBus when the cluster goes away', () => {
  let mock: KafkaMock;
  let bus: KafkaBus;

  beforeAll(async () => {
    mock = await startKafkaMock({ brokers: 3, topics: [{ name: 'outage', partitions: 3 }] });
    bus = createKafkaBus(fastKafkaBusOptions(mock.bootstrap));
  });

  afterAll(async () => {
    await bus?.close();
    await mock?.stop();
  });

  it('rejects publishes with BUS_UNAVAILABLE within seconds, goes unhealthy, then recovers', async () => {
    await bus.publish('outage', [{ key: 'a', value: 'before' }]);
    expect(bus.healthy()).toBe(true);

    await mock.brokerDown(-1);
    const started = Date.now();
    const err = await bus.publish('outage', [{ key: 'a', value: 'during' }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(MeshwardError);
    expect((err as MeshwardError).code).toBe('MW_ERR_BUS_UNAVAILABLE');
    expect(took).toBeLessThan(5_000);
    expect(bus.healthy()).toBe(false);

    await mock.brokerUp(-1);
    // the health probe notices without any publish
    await until('healthy again', () => bus.healthy(), 15_000);
    // and publishing works again (the first send after an outage may still hit a stale connection)
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await bus.publish('outage', [{ key: 'a', value: 'after' }]);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
    }
    expect(bus.healthy()).toBe(true);

    const values: string[] = [];
    const sub = await bus.subscribe({
      groupId: 'outage-group',
      topics: ['outage'],
      fromBeginning: true,
      onBatch: async (b) => {
        for (const m of b.messages) values.push(m.value.toString());
      },
    });
    await until('after is readable', () => values.includes('after'));
    expect(values).toContain('before');
    await sub.close();
  });

  it('rejects with BUS_SATURATED when the pending queue is full', async () => {
    const small = createKafkaBus({ ...fastKafkaBusOptions(mock.bootstrap), maxPendingMessages: 5 });
    try {
      const err = await small
        .publish(
          'outage',
          Array.from({ length: 6 }, () => ({ value: 'x' })),
        )
        .catch((e) => e);
      expect((err as MeshwardError).code).toBe('MW_ERR_BUS_SATURATED');
      await small.publish('outage', [{ value: 'fits' }]);
    } finally {
      await small.close();
      await small.close();
    }
    await expect(small.publish('outage', [{ value: 'late' }])).rejects.toThrow(/closed/);
  });
});

describe('kafka bus config', () => {
  it('fills defaults, rejects bad brokers, and maps to bus options with the password read from its file', () => {
    const cfg = Value.Default(KafkaBusConfigSchema, {
      brokers: ['kafka-1:9092'],
      sasl: { mechanism: 'scram-sha-512', username: 'meshward', password_file: '/run/secrets/kafka' },
    });
    expect(Value.Check(KafkaBusConfigSchema, cfg)).toBe(true);
    expect(Value.Check(KafkaBusConfigSchema, { ...(cfg as object), brokers: ['no-port'] })).toBe(false);
    expect(Value.Check(KafkaBusConfigSchema, { ...(cfg as object), brokers: [] })).toBe(false);
    expect(Value.Check(KafkaBusConfigSchema, { ...(cfg as object), group: 'x' })).toBe(false);
    const read: string[] = [];
    const opts = kafkaBusOptionsFromConfig(Value.Cast(KafkaBusConfigSchema, cfg), (path) => {
      read.push(path);
      return 's3cret';
    });
    expect(read).toEqual(['/run/secrets/kafka']);
    expect(opts).toMatchObject({
      brokers: ['kafka-1:9092'],
      clientId: 'meshward',
      idempotent: true,
      ssl: undefined,
      sasl: { mechanism: 'scram-sha-512', username: 'meshward', password: 's3cret' },
      publishTimeoutMs: 10_000,
      consumer: { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3_000, partitionsConsumedConcurrently: 1 },
    });
  });

  it('refuses an empty broker list at construction', () => {
    expect(() => createKafkaBus({ brokers: [] })).toThrow(/brokers/);
  });
});
