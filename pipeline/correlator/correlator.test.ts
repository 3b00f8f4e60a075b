import { describe, expect, it } from 'vitest';
import { AlertRepository } from '../alerts/alert-repository.js';
import { followAlerts } from '../app/roles.js';
import { fastKafkaBusOptions, startKafkaMock } from '../../test/harness/kafka.js';
import { metricSum } from '../../test/harness/metrics.js';
import type { Alert } from '../core/alert.js';
import { type Bus, type Subscription, TOPICS } from '../bus/bus.js';
import { createKafkaBus } from '../bus/kafka-bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../core/logger.js';
import type { ApiCallRecord } from '../core/record.js';
import { INVENTORY_COLLECTION } from '../detectors/api-discovery/api-discovery.js';
import { apiDiscoveryFactory } from '../detectors/api-discovery/factory.js';
import { MemoryStore } from '../store/memory-store.js';
import { Correlator, type CorrelatorOptions, checkpointHeadKey, checkpointKey } from './correlator.js';
import { loadEvidence } from './evidence-keeper.js';
import type { StoredWindow } from './metrics-writer.js';
import { replay } from './replay.js';
import { steadyTraffic } from './testdata/records.js';
import { thresholdDetector } from './testdata/test-detectors.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const INVENTORY_KEY = `doc:${INVENTORY_COLLECTION}`;

const waitFor = async (cond: () => Promise<boolean> | boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const records = steadyTraffic({
  start: T0,
  minutes: 30,
  perMinute: 30,
  services: ['orders', 'users', 'payments'],
  failing: (s, m) => (s === 'orders' && m >= 5 && m < 8) || (s === 'payments' && m >= 15 && m < 17),
});

async function publishAll(bus: MemoryBus, from: number, to: number) {
  for (let i = from; i < to; i += 500) {
    const slice = records.slice(i, Math.min(to, i + 500));
    await bus.publish(
      TOPICS.calls,
      slice.map((r) => ({ key: r.service, value: JSON.stringify(r) })),
    );
  }
}

/** a correlator with the threshold test detector, alerts resolved after 5 quiet minutes */
const thresholdCorrelator = (bus: Bus, store: MemoryStore, opts: Partial<CorrelatorOptions> = {}) =>
  new Correlator({
    bus,
    store,
    logger: silentLogger,
    createDetectors: () => [thresholdDetector()],
    shard: { resolveAfterMs: 5 * 60_000 },
    ...opts,
  });

/** the sum of the two partitions' checkpointed next offsets */
async function checkpointedOffsets(store: MemoryStore): Promise<number> {
  const raws = await Promise.all([0, 1].map((p) => store.get(checkpointKey('meshward-correlator', TOPICS.calls, p))));
  return raws.reduce((sum, raw) => sum + (raw ? (JSON.parse(raw) as { nextOffset: number }).nextOffset : 0), 0);
}

describe('Correlator over the in-process bus', () => {
  it('turns records into the same alerts as an offline replay, with stored windows and evidence', async () => {
    const bus = new MemoryBus({ partitions: 3 });
    const store = new MemoryStore();
    const repo = new AlertRepository(store);
    const feed = await followAlerts(bus, repo);
    const correlator = thresholdCorrelator(bus, store);
    await correlator.start();
    await publishAll(bus, 0, records.length);
    const expected = await replay(records, { detectors: [thresholdDetector()], resolveAfterMs: 5 * 60_000 });
    expect(expected.map((a) => a.service).sort()).toEqual(['orders', 'payments']);
    await waitFor(async () => (await repo.list({ state: 'resolved' })).items.length === expected.length);
    const got = (await repo.list()).items;
    expect(got.map((a) => a.id).sort()).toEqual(expected.map((a) => a.id).sort());
    const orders = got.find((a) => a.service === 'orders');
    expect(orders).toMatchObject({ count: 3, state: 'resolved' });
    // evidence records were saved next to the alert
    const ev = await loadEvidence(store, orders?.evidence.recordIds ?? []);
    expect(ev.length).toBeGreaterThan(0);
    expect((ev[0] as { status: number }).status).toBe(503);
    // RED windows are queryable for charts
    const points = await store.zrange('win:orders', 0, Number.POSITIVE_INFINITY);
    expect(points.length).toBeGreaterThan(20);
    await correlator.close();
    await feed.close();
    await bus.close();
  });

  it('a correlator restarted mid-stream resumes from its checkpoint: no lost and no duplicate alerts', async () => {
    const bus = new MemoryBus({ partitions: 2 });
    const store = new MemoryStore();
    const repo = new AlertRepository(store);
    const feed = await followAlerts(bus, repo);
    const ids: string[] = [];
    repo.on('change', (c) => ids.push(c.alert.id));
    const make = () => thresholdCorrelator(bus, store, { checkpointRecords: 700 });
    const first = make();
    await first.start();
    const half = Math.floor(records.length * 0.4);
    await publishAll(bus, 0, half);
    await waitFor(() => first.stats().series > 0);
    await first.close();
    const second = make();
    await second.start();
    await publishAll(bus, half, records.length);
    const expected = await replay(records, { detectors: [thresholdDetector()], resolveAfterMs: 5 * 60_000 });
    await waitFor(async () => (await repo.list({ state: 'resolved' })).items.length === expected.length);
    const stored = (await repo.list()).items;
    expect(stored.map((a) => a.id).sort()).toEqual(expected.map((a) => a.id).sort());
    expect(new Set(ids).size).toBe(expected.length);
    for (const a of stored) expect(a.count).toBe(expected.find((e) => e.id === a.id)?.count);
    await second.close();
    await feed.close();
    await bus.close();
  });

  it('a restarted process keeps its state and reads the new embedded bus from the start (its offsets restart at 0)', async () => {
    const store = new MemoryStore();
    const repo = new AlertRepository(store);
    const run = async (from: number, to: number, done: () => Promise<boolean>) => {
      // a new process: a new embedded bus, the same data directory (store)
      const bus = new MemoryBus({ partitions: 2 });
      const feed = await followAlerts(bus, repo);
      const correlator = thresholdCorrelator(bus, store, { checkpointIntervalMs: 100 });
      await correlator.start();
      await publishAll(bus, from, to);
      await waitFor(done);
      await correlator.close();
      await feed.close();
      await bus.close();
    };
    // the first process reads the first 60% (the orders burst); the second gets fewer records than that
    const cut = Math.floor(records.length * 0.6);
    await run(0, cut, async () => (await checkpointedOffsets(store)) === cut);
    const expected = await replay(records, { detectors: [thresholdDetector()], resolveAfterMs: 5 * 60_000 });
    await run(
      cut,
      records.length,
      async () => (await repo.list({ state: 'resolved' })).items.length === expected.length,
    );
    // the payments burst is in the second part: it was read, not skipped as "already in the state"; and its
    // windows continue the restored series (the same alerts as one uninterrupted replay)
    const stored = (await repo.list()).items;
    expect(stored.map((a) => a.id).sort()).toEqual(expected.map((a) => a.id).sort());
    expect(await checkpointedOffsets(store)).toBe(records.length - cut);
  });

  it("writes no checkpoint behind a newer owner's, judging by the small head key alone", async () => {
    const bus = new MemoryBus({ partitions: 2 });
    const store = new MemoryStore();
    const keys = [0, 1].map((p) => checkpointKey('meshward-correlator', TOPICS.calls, p));
    // partition 1's head says another correlator of this log checkpointed further (its state not written yet)
    await store.set(checkpointHeadKey(keys[1]), JSON.stringify({ nextOffset: 1e9, epoch: bus.logEpoch }));
    const correlator = thresholdCorrelator(bus, store, { checkpointIntervalMs: 100 });
    await correlator.start();
    await publishAll(bus, 0, 300);
    await waitFor(async () => (await store.get(keys[0])) !== null);
    await correlator.close();
    await bus.close();
    expect(JSON.parse((await store.get(checkpointHeadKey(keys[0]))) ?? '{}')).toEqual({
      nextOffset: JSON.parse((await store.get(keys[0])) ?? '{}').nextOffset,
      epoch: bus.logEpoch,
    });
    expect(await store.get(keys[1])).toBeNull();
    expect(JSON.parse((await store.get(checkpointHeadKey(keys[1]))) ?? '{}').nextOffset).toBe(1e9);
  });

  it('commits the progress of partitions whose traffic stopped, without waiting for another batch', async () => {
    const bus = new MemoryBus({ partitions: 2 });
    const store = new MemoryStore();
    const correlator = thresholdCorrelator(bus, store, { checkpointIntervalMs: 200 });
    await correlator.start();
    const n = 300;
    await publishAll(bus, 0, n);
    await waitFor(async () => (await checkpointedOffsets(store)) === n);
    // every record is checkpointed and committed: the bus released them all (nothing left for a restart to replay)
    await waitFor(() => bus.backlog(TOPICS.calls) === 0);
    await correlator.close();
    await bus.close();
  });

  describe('idle watermark', () => {
    // orders fails its first three minutes of five, then the whole partition goes quiet
    const quietAfter = steadyTraffic({
      start: T0,
      minutes: 5,
      perMinute: 20,
      services: ['orders'],
      failing: (_s, m) => m < 3,
    });
    const publish = (bus: Bus) =>
      bus.publish(
        TOPICS.calls,
        quietAfter.map((r) => ({ key: r.service, value: JSON.stringify(r) })),
      );
    /** the wall clock the correlator sees: the real one, `skew.ms` ahead (a test moves it on by minutes at once) */
    const skewedClock = () => {
      const skew = { ms: 0 };
      return { skew, now: () => Date.now() + skew.ms };
    };
    const windowsOf = async (store: MemoryStore, service: string) =>
      (await store.zrange(`win:${service}`, 0, Number.POSITIVE_INFINITY)).map((raw) => JSON.parse(raw) as StoredWindow);

    it("moves a quiet partition's event time on with the wall clock: its windows close as zero, its quiet alert resolves", async () => {
      const bus = new MemoryBus({ partitions: 1 });
      const store = new MemoryStore();
      const repo = new AlertRepository(store);
      const feed = await followAlerts(bus, repo);
      const { skew, now } = skewedClock();
      const correlator = thresholdCorrelator(bus, store, { checkpointIntervalMs: 100, idleAfterMs: 60_000, now });
      await correlator.start();
      const advances = await metricSum('meshward_correlator_idle_advances_total');
      await publish(bus);
      await waitFor(async () => (await repo.list({ kind: 'error_burst' })).items.length === 1);
      // read and committed to its end; before idle_after of wall clock event time stays at the last record
      await waitFor(() => bus.backlog(TOPICS.calls) === 0);
      expect((await repo.list({ kind: 'error_burst' })).items[0].state).toBe('open');
      expect((await windowsOf(store, 'orders')).map((w) => w.count)).toEqual([20, 20, 20, 20]);
      expect(await metricSum('meshward_correlator_idle_advances_total')).toBe(advances);

      // 20 minutes of wall clock later (less idle_after): resolved after resolve_after (5 min) of quiet
      skew.ms = 20 * 60_000;
      await waitFor(async () => (await repo.list({ state: 'resolved' })).items.length === 1);
      const [resolved] = (await repo.list()).items;
      expect(resolved).toMatchObject({ kind: 'error_burst', service: 'orders', count: 3 });
      // the zero windows the quiet service got on the way, stored for its charts
      const windows = await windowsOf(store, 'orders');
      expect(windows.slice(0, 5).map((w) => w.count)).toEqual([20, 20, 20, 20, 20]);
      expect(windows.length).toBeGreaterThan(10);
      expect(windows.slice(5).every((w) => w.count === 0)).toBe(true);
      expect(await metricSum('meshward_correlator_idle_advances_total')).toBeGreaterThan(advances);
      await correlator.close();
      // the advanced state was checkpointed: a restart does not resolve it again or bring the windows back
      const ck = JSON.parse((await store.get(checkpointKey('meshward-correlator', TOPICS.calls, 0))) ?? '{}');
      expect(ck.state.watermark).toBeGreaterThan(T0 + 15 * 60_000);
      await feed.close();
      await bus.close();
    });

    it('leaves a partition where it was while the bus does not report it read to its end, or cannot say', async () => {
      const bus = new MemoryBus({ partitions: 1 });
      const store = new MemoryStore();
      const changes: Alert[] = [];
      // the bus as the correlator sees it: its lag as the test says (Kafka down, a backlog the group has not committed)
      let lagIs: 'behind' | 'down' | 'real' = 'behind';
      const lagOf = async (sub: Subscription) => {
        if (lagIs === 'down') throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
        const lags = await sub.lag();
        return lagIs === 'behind' ? lags.map((l) => ({ ...l, lag: 1 })) : lags;
      };
      const stubbed: Bus = {
        kind: bus.kind,
        logEpoch: bus.logEpoch,
        publish: (topic, messages) => bus.publish(topic, messages),
        subscribe: async (o) => {
          const sub = await bus.subscribe(o);
          return { close: () => sub.close(), commit: (t, p, off) => sub.commit(t, p, off), lag: () => lagOf(sub) };
        },
        healthy: () => bus.healthy(),
        close: () => bus.close(),
      };
      const { skew, now } = skewedClock();
      const correlator = thresholdCorrelator(bus, store, {
        bus: stubbed,
        checkpointIntervalMs: 100,
        idleAfterMs: 60_000,
        now,
        onAlerts: (alerts) => changes.push(...alerts.map((a) => structuredClone(a))),
      });
      await correlator.start();
      await publish(bus);
      await waitFor(() => changes.length > 0 && bus.backlog(TOPICS.calls) === 0);
      skew.ms = 20 * 60_000;
      for (const [mode, reason] of [
        ['behind', 'lag'],
        ['down', 'bus_error'],
      ] as const) {
        lagIs = mode;
        const skipped = await metricSum('meshward_correlator_idle_advances_skipped_total', { reason });
        // two ticks that found the partition idle and left it (each tick decides before it would move it)
        await waitFor(
          async () => (await metricSum('meshward_correlator_idle_advances_skipped_total', { reason })) >= skipped + 2,
        );
        expect(changes.map((a) => a.state)).not.toContain('resolved');
        expect(correlator.stats().openAlerts).toBe(1);
      }
      // the bus reports it read to its end: it moves on, and the alert resolves
      lagIs = 'real';
      await waitFor(() => changes.some((a) => a.state === 'resolved'));
      expect(correlator.stats().openAlerts).toBe(0);
      await correlator.close();
      await bus.close();
    });

    it('over Kafka: a partition read and committed to its end moves on; with the brokers down it waits', async () => {
      const kafka = await startKafkaMock({
        brokers: 1,
        topics: [
          { name: TOPICS.calls, partitions: 2 },
          { name: TOPICS.alerts, partitions: 1 },
        ],
      });
      const bus = createKafkaBus(fastKafkaBusOptions(kafka.bootstrap, 'idle-watermark-test'));
      const changes: Alert[] = [];
      const { skew, now } = skewedClock();
      const correlator = thresholdCorrelator(bus, new MemoryStore(), {
        checkpointIntervalMs: 300,
        idleAfterMs: 60_000,
        now,
        onAlerts: (alerts) => changes.push(...alerts.map((a) => structuredClone(a))),
      });
      try {
        await correlator.start();
        await publish(bus);
        await waitFor(() => changes.length > 0, 30_000);
        // the commit of the idle checkpoint reaches the group's offsets: lag() reads 0, the partition moves on
        skew.ms = 20 * 60_000;
        await waitFor(() => changes.some((a) => a.state === 'resolved'), 30_000);
        expect(changes.map((a) => a.state)).toEqual(['open', 'resolved']);
        const busErrors = () => metricSum('meshward_correlator_idle_advances_skipped_total', { reason: 'bus_error' });
        const before = await busErrors();
        await kafka.brokerDown(-1);
        await waitFor(async () => (await busErrors()) > before, 30_000);
        await kafka.brokerUp(-1);
      } finally {
        await correlator.close();
        await bus.close();
        await kafka.stop();
      }
    }, 90_000);
  });

  it("hands a partition the analysts' feedback before its first record, not at its first checkpoint", async () => {
    const bus = new MemoryBus({ partitions: 1 });
    const store = new MemoryStore();
    await store.hset('test:feedback', 'entry-1', JSON.stringify({ label: 'payments' }));
    const seen: string[] = [];
    const correlator = new Correlator({
      bus,
      store,
      logger: silentLogger,
      // checkpoints far apart: feedback taken only there would come after the records
      checkpointIntervalMs: 600_000,
      createDetectors: () => [
        {
          type: 'test_feedback',
          feedbackKey: 'test:feedback',
          onFeedback: (id, value) => seen.push(`feedback ${id} ${(value as { label: string }).label}`),
          observe: (r) => void seen.push(`record ${r.id}`),
          snapshot: () => null,
          restore: () => {},
        },
      ],
    });
    await correlator.start();
    await publishAll(bus, 0, 2);
    await waitFor(() => seen.length >= 3);
    expect(seen.slice(0, 3)).toEqual([
      'feedback entry-1 payments',
      `record ${records[0].id}`,
      `record ${records[1].id}`,
    ]);
    await correlator.close();
  });

  it('deletes the inventory documents of endpoints merged away, so analysts see no ghost of a split', async () => {
    const bus = new MemoryBus({ partitions: 1 });
    const store = new MemoryStore();
    const correlator = new Correlator({
      bus,
      store,
      logger: silentLogger,
      createDetectors: () => [
        apiDiscoveryFactory.create({ ...apiDiscoveryFactory.defaultConfig, route_max_distinct: 3 }),
      ],
      checkpointIntervalMs: 100,
    });
    await correlator.start();
    let n = 0;
    const call = (path: string): ApiCallRecord => ({
      id: `inv-${++n}`,
      ts: T0 + n * 1000,
      durationMs: 5,
      sensor: { kind: 'fastify', id: 's1' },
      service: 'users',
      method: 'GET',
      host: 'users.internal',
      path,
      status: 200,
      reqBytes: 0,
      respBytes: 10,
      source: { service: 'web' },
    });
    const send = (paths: string[]) =>
      bus.publish(
        TOPICS.calls,
        paths.map((p) => ({ key: 'users', value: JSON.stringify(call(p)) })),
      );
    const routes = async () =>
      Object.values(await store.hgetall(INVENTORY_KEY))
        .map((raw) => (JSON.parse(raw) as { route: string }).route)
        .sort();
    await send(['/users/alice', '/users/bob', '/users/carol']);
    await waitFor(async () => (await routes()).length === 3);
    expect(await routes()).toEqual(['/users/alice', '/users/bob', '/users/carol']);
    // a fourth name: the learner folds the position, the three entries merge into one
    await send(['/users/dave']);
    await waitFor(async () => (await routes()).includes('/users/{param}'));
    await waitFor(async () => (await routes()).length === 1);
    const [merged] = Object.values(await store.hgetall(INVENTORY_KEY)).map((raw) => JSON.parse(raw));
    expect(merged).toMatchObject({ route: '/users/{param}', count: 4 });
    await correlator.close();
    await bus.close();
  });
});
