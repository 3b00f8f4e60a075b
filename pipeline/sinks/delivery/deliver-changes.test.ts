import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { capturingLogger } from '../../../test/harness/capturing-logger.js';
import { httpReceiver } from '../../../test/harness/http-receiver.js';
import { metricSum } from '../../../test/harness/metrics.js';
import { type RedisServer, startRedis } from '../../../test/harness/redis.js';
import { TOPICS } from '../../bus/bus.js';
import { MemoryBus } from '../../bus/memory-bus.js';
import type { Alert } from '../../core/alert.js';
import { silentLogger } from '../../core/logger.js';
import { MemoryStore } from '../../store/memory-store.js';
import { createRedisStore } from '../../store/redis-store.js';
import type { Store } from '../../store/store.js';
import { compileSinks, runSink } from '../sink-runner.js';
import { DeliveredAlerts } from './delivered-alerts.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const opened: Alert = {
  v: 1,
  id: 'alr_incident',
  kind: 'error_burst',
  severity: 'high',
  state: 'open',
  service: 'orders',
  endpoint: 'POST /v1/orders',
  firstSeen: 1_700_000_000_000,
  lastSeen: 1_700_000_000_000,
  count: 1,
  summary: '41% of calls failed in a minute, expected ≤ 2%',
  evidence: { recordIds: ['r1'], metrics: { errorRatio: 0.41 } },
  updatedAt: 1_700_000_000_000,
};
/** the alert as the correlator publishes its n-th refresh (count and lastSeen only) */
const refresh = (a: Alert, n: number): Alert => ({ ...a, count: a.count + n, lastSeen: a.lastSeen + n * MINUTE });

/** opened, acknowledged and opened again, as three changes the correlator and the API publish in quick succession */
const reopenedInOneBatch: Alert[] = [
  opened,
  { ...refresh(opened, 1), state: 'acknowledged' },
  { ...refresh(opened, 2), state: 'open' },
];

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

function newBus() {
  const bus = new MemoryBus({ partitions: 1 });
  closers.push(() => bus.close());
  return bus;
}
const publishAll = (bus: MemoryBus, alerts: Alert[]) =>
  bus.publish(
    TOPICS.alerts,
    alerts.map((a) => ({ key: a.id, value: JSON.stringify(a) })),
  );
const publish = (bus: MemoryBus, a: Alert) => publishAll(bus, [a]);
const unchanged = (sink: string) => metricSum('meshward_sink_skipped_total', { sink, reason: 'unchanged' });
/** what the sink wrote down it delivered of `opened` (raw, null: nothing) */
const deliveredOf = (store: Store, sink: string) => store.hget(`sink-delivered:${sink}`, opened.id);
/** the state and severity of each Slack message, from its title */
const titles = (got: { body: string }[]) =>
  got.map((g) => /\*(\w+)\*.*\((\w+)\)$/.exec(JSON.parse(g.body).blocks[0].text.text)?.slice(1).join(' '));

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
let prefixes = 0;
const redisStore = (url: string) => {
  const store = createRedisStore({
    url,
    keyPrefix: `mw-sinks-${prefixes++}:`,
    commandTimeoutMs: 500,
    reconnectStepMs: 20,
    maxReconnectDelayMs: 100,
  });
  closers.push(() => store.close());
  return store;
};
/** the stores a sink keeps what it delivered in: the embedded one, and Redis as API replicas share it */
const STORES: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['redis', () => redisStore(redis.url)],
];

/** the embedded store, but its hashes fail while `broken` */
class FailingStore extends MemoryStore {
  broken = true;
  private check(): void {
    if (this.broken) throw new Error('store down');
  }
  override async hget(key: string, field: string) {
    this.check();
    return super.hget(key, field);
  }
  override async hmget(key: string, fields: string[]) {
    this.check();
    return super.hmget(key, fields);
  }
  override async hset(key: string, field: string, value: string) {
    this.check();
    return super.hset(key, field, value);
  }
  override async hgetall(key: string) {
    this.check();
    return super.hgetall(key);
  }
  override async setIfAbsent(key: string, value: string, ttlMs?: number) {
    this.check();
    return super.setIfAbsent(key, value, ttlMs);
  }
}

/**
 * `store`, but its first `n` look-ups of what was delivered wait for each other: `n` replicas reading a change at the
 * same moment, before any of them wrote down that it delivered it
 */
function lookupsMeet(store: Store, n: number): Store {
  let asked = 0;
  let meet: () => void = () => {};
  const met = new Promise<void>((r) => {
    meet = r;
  });
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'hmget')
        return async (key: string, fields: string[]) => {
          if (++asked === n) meet();
          await met;
          return target.hmget(key, fields);
        };
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/**
 * a Slack sink `name` run by two API replicas (each its own bus) on one store, whose first look-ups of what was
 * delivered wait for each other: both read a change before either wrote it down
 */
async function twoReplicas(store: Store, name: string) {
  const slack = await httpReceiver(() => 200, closers);
  const [sink] = compileSinks({ [name]: { url: slack.url, format: 'slack' } });
  const [one, two] = [newBus(), newBus()];
  const shared = lookupsMeet(store, 2);
  for (const bus of [one, two]) {
    const sub = await runSink(bus, silentLogger, sink, { store: shared });
    closers.push(() => sub.close());
  }
  return { slack, one, two };
}

describe('deliver: changes', () => {
  it('a Slack webhook gets an alert when opened, when its severity rises, when resolved, and again after repeat_minutes; deliver: all and a JSON webhook get every change', async () => {
    let now = Date.UTC(2026, 0, 1);
    const bus = newBus();
    const store = new MemoryStore();
    const claims = vi.spyOn(store, 'setIfAbsent');
    const slack = await httpReceiver(() => 200, closers);
    const slackAll = await httpReceiver(() => 200, closers);
    const json = await httpReceiver(() => 200, closers);
    const sinks = compileSinks({
      'webhook/slack-changes': { url: slack.url, format: 'slack' },
      'webhook/slack-all': { url: slackAll.url, format: 'slack', deliver: 'all' },
      'webhook/json-default': { url: json.url },
    });
    for (const s of sinks) {
      const sub = await runSink(bus, silentLogger, s, { store, now: () => now });
      closers.push(() => sub.close());
    }
    const versions: Alert[] = [];
    const send = async (a: Alert) => {
      versions.push(a);
      await publish(bus, a);
    };

    await send(opened);
    await until('the opened alert', () => slack.got.length === 1);
    for (let n = 1; n <= 5; n++) await send(refresh(opened, n));
    await until('5 refreshes skipped', async () => (await unchanged('webhook/slack-changes')) === 5);
    const critical = { ...refresh(opened, 6), severity: 'critical' as const };
    await send(critical);
    await until('the severity rise', () => slack.got.length === 2);
    // a severity that falls back is no news
    await send({ ...refresh(opened, 7) });
    await until('the fall skipped', async () => (await unchanged('webhook/slack-changes')) === 6);

    // still open: repeated once 240 minutes passed since it was last delivered, not a minute before
    now += 239 * MINUTE;
    await send(refresh(opened, 8));
    await until(
      'the refresh before repeat_minutes skipped',
      async () => (await unchanged('webhook/slack-changes')) === 7,
    );
    now += MINUTE;
    await send(refresh(opened, 9));
    await until('the repeat', () => slack.got.length === 3);

    await send({ ...refresh(opened, 10), state: 'resolved' });
    await until('the resolve', () => slack.got.length === 4);
    // written down once the receiver answered: before the clock moves on
    await until(
      'the resolve written down',
      async () => (await deliveredOf(store, 'webhook/slack-changes'))?.includes('resolved') === true,
    );
    now += 5 * HOUR;
    await send({ ...refresh(opened, 11), state: 'resolved' });
    await until('a resolved one is not repeated', async () => (await unchanged('webhook/slack-changes')) === 8);

    expect(titles(slack.got)).toEqual(['HIGH open', 'CRITICAL open', 'HIGH open', 'HIGH resolved']);
    expect(versions).toHaveLength(12);
    await until('every change at the other two', () => slackAll.got.length === 12 && json.got.length === 12);
    expect(json.got.map((g) => JSON.parse(g.body))).toEqual(versions);
    expect(titles(slackAll.got)).toEqual(versions.map((v) => `${v.severity.toUpperCase()} ${v.state}`));
    expect(JSON.parse((await store.hgetall('sink-delivered:webhook/slack-changes')).alr_incident)).toEqual({
      state: 'resolved',
      severity: 'high',
      at: now - 5 * HOUR,
    });
    // the sinks delivering all keep no record
    expect(await store.hgetall('sink-delivered:webhook/slack-all')).toEqual({});
    // one claim per change delivered, none for a skipped one nor for the sinks delivering all
    expect(claims.mock.calls.map((c) => c[0])).toEqual([
      'sink-claim:webhook/slack-changes:alr_incident:none:open:high',
      expect.stringMatching(/^sink-claim:webhook\/slack-changes:alr_incident:\d+:open:critical$/),
      expect.stringMatching(/^sink-claim:webhook\/slack-changes:alr_incident:\d+:repeat$/),
      expect.stringMatching(/^sink-claim:webhook\/slack-changes:alr_incident:\d+:resolved:high$/),
    ]);
  });

  it('min_severity leaves a change out before deliver: changes weighs it: counted, not written down, and the alert is new to the sink once it rises', async () => {
    const store = new MemoryStore();
    const claims = vi.spyOn(store, 'setIfAbsent');
    const slack = await httpReceiver(() => 200, closers);
    const json = await httpReceiver(() => 200, closers);
    const sinks = compileSinks({
      'webhook/slack-high': { url: slack.url, format: 'slack', min_severity: 'high' },
      'webhook/json-high': { url: json.url, min_severity: 'high' },
    });
    const bus = newBus();
    for (const s of sinks) {
      const sub = await runSink(bus, silentLogger, s, { store });
      closers.push(() => sub.close());
    }
    const below = (sink: string) => metricSum('meshward_sink_skipped_total', { sink, reason: 'below_min_severity' });
    const medium: Alert = { ...opened, severity: 'medium' };
    await publish(bus, medium);
    await publish(bus, refresh(medium, 1));
    await until(
      'both changes left out by both sinks',
      async () => (await below('webhook/slack-high')) === 2 && (await below('webhook/json-high')) === 2,
    );
    expect(await deliveredOf(store, 'webhook/slack-high')).toBeNull();
    expect(claims).not.toHaveBeenCalled();
    expect(await unchanged('webhook/slack-high')).toBe(0);

    await publish(bus, { ...refresh(medium, 2), severity: 'high' });
    await until('the rise at both', () => slack.got.length === 1 && json.got.length === 1);
    expect(titles(slack.got)).toEqual(['HIGH open']);
    // new to the sink: claimed after no record at all
    expect(claims.mock.calls.map((c) => c[0])).toEqual(['sink-claim:webhook/slack-high:alr_incident:none:open:high']);
    expect(JSON.parse(json.got[0].body)).toMatchObject({ severity: 'high', count: 3 });
    // counted once each receiver answered
    const deliveredBy = (sink: string) => metricSum('meshward_sink_delivered_total', { sink });
    await until(
      'both deliveries counted',
      async () => (await deliveredBy('webhook/slack-high')) + (await deliveredBy('webhook/json-high')) >= 2,
    );
    expect([await deliveredBy('webhook/slack-high'), await deliveredBy('webhook/json-high')]).toEqual([1, 1]);
  });

  it('a store that fails costs no alert: every change is delivered, counted, and logged once per run of failures', async () => {
    const failing = new FailingStore();
    const { lines, logger } = capturingLogger();
    const slack = await httpReceiver(() => 200, closers);
    const [sink] = compileSinks({ 'webhook/slack-failopen': { url: slack.url, format: 'slack' } });
    const bus = newBus();
    const sub = await runSink(bus, logger, sink, { store: failing });
    closers.push(() => sub.close());
    for (let n = 0; n < 3; n++) {
      await publish(bus, refresh(opened, n));
      await until(`change ${n}`, () => slack.got.length === n + 1);
    }
    // look-up, claim and write of each; the write follows the receiver's answer, so it is awaited: a write still to
    // come when the store answers again would record the last change, and the next one would be a refresh
    await until(
      'the three writes to fail',
      async () => (await metricSum('meshward_sink_store_errors_total', { sink: 'webhook/slack-failopen' })) >= 9,
    );
    expect(lines.filter((l) => String(l.msg).includes('the store failed'))).toHaveLength(1);
    failing.broken = false;
    await publish(bus, refresh(opened, 3));
    await until('the first change once it answers', () => slack.got.length === 4);
    await publish(bus, refresh(opened, 4));
    await until('the next refresh skipped', async () => (await unchanged('webhook/slack-failopen')) === 1);
    expect(lines.filter((l) => String(l.msg).includes('the store answers again'))).toHaveLength(1);
  });

  it('a Redis outage costs no alert either, and after it the sink skips refreshes again', async () => {
    const server = await startRedis();
    closers.push(() => server.stop());
    const store = redisStore(server.url);
    const { lines, logger } = capturingLogger();
    const slack = await httpReceiver(() => 200, closers);
    const [sink] = compileSinks({ 'webhook/slack-redis-down': { url: slack.url, format: 'slack' } });
    const bus = newBus();
    const sub = await runSink(bus, logger, sink, { store });
    closers.push(() => sub.close());
    await publish(bus, opened);
    await until('the opened alert', () => slack.got.length === 1);
    await until('the record', async () => (await deliveredOf(store, 'webhook/slack-redis-down')) !== null);
    await server.kill();
    for (let n = 1; n <= 2; n++) {
      await publish(bus, refresh(opened, n));
      await until(`refresh ${n} delivered while Redis is down`, () => slack.got.length === n + 1);
    }
    expect(await metricSum('meshward_sink_store_errors_total', { sink: 'webhook/slack-redis-down' })).toBeGreaterThan(
      0,
    );
    expect(lines.filter((l) => String(l.msg).includes('the store failed'))).toHaveLength(1);
    await server.restart();
    await until('Redis to answer again', () => store.healthy());
    // it came back empty (no persistence here): the next change is new to it
    await publish(bus, refresh(opened, 3));
    await until('the first change once it answers', () => slack.got.length === 4);
    await publish(bus, refresh(opened, 4));
    await until('the next refresh skipped', async () => (await unchanged('webhook/slack-redis-down')) === 1);
  });
});

describe.each(STORES)('what a sink delivered, in the %s store', (kind, newStore) => {
  it('two API replicas on one store deliver a new alert once, and a refresh the other replica reads is skipped', async () => {
    const store = newStore();
    const slack = await httpReceiver(() => 200, closers);
    const [sink] = compileSinks({ [`webhook/slack-replicas-${kind}`]: { url: slack.url, format: 'slack' } });
    // each replica reads the alert: the sink's consumer group moved from one to the other before its commit
    const [one, two] = [newBus(), newBus()];
    for (const bus of [one, two]) {
      const sub = await runSink(bus, silentLogger, sink, { store });
      closers.push(() => sub.close());
    }
    await publish(one, opened);
    await until('the first replica to deliver', () => slack.got.length === 1);
    // and to write down what it delivered (after the receiver answered)
    await until('the record', async () => (await deliveredOf(store, `webhook/slack-replicas-${kind}`)) !== null);
    await publish(two, opened);
    await publish(two, refresh(opened, 1));
    await until(
      'the second replica to skip both',
      async () => (await unchanged(`webhook/slack-replicas-${kind}`)) === 2,
    );
    await publish(two, { ...refresh(opened, 2), state: 'acknowledged' });
    await until('the acknowledgement', () => slack.got.length === 2);
    expect(titles(slack.got)).toEqual(['HIGH open', 'HIGH acknowledged']);
  });

  it('two API replicas that read a new alert at the same moment, before either wrote it down, deliver it once', async () => {
    const store = newStore();
    const name = `webhook/slack-race-${kind}`;
    const { slack, one, two } = await twoReplicas(store, name);
    await Promise.all([publish(one, opened), publish(two, opened)]);
    await until(
      'one replica to leave it to the other',
      async () => (await metricSum('meshward_sink_skipped_total', { sink: name, reason: 'claimed' })) === 1,
    );
    await until('the other to deliver it and write it down', async () => (await deliveredOf(store, name)) !== null);
    expect(titles(slack.got)).toEqual(['HIGH open']);
    // the next change is one claim again: delivered once
    const acknowledged = { ...refresh(opened, 1), state: 'acknowledged' as const };
    await Promise.all([publish(one, acknowledged), publish(two, acknowledged)]);
    await until('the acknowledgement', () => slack.got.length === 2);
    await until(
      'the other replica to leave it',
      async () =>
        (await metricSum('meshward_sink_skipped_total', { sink: name, reason: 'claimed' })) +
          (await unchanged(name)) ===
        2,
    );
    expect(titles(slack.got)).toEqual(['HIGH open', 'HIGH acknowledged']);
    // reopened within the claims' TTL: it follows another record, so it is claimed anew
    await until(
      'the acknowledgement written down',
      async () => (await deliveredOf(store, name))?.includes('acknowledged') === true,
    );
    await publish(one, refresh(opened, 2));
    await until('the reopening', () => slack.got.length === 3);
    expect(titles(slack.got)).toEqual(['HIGH open', 'HIGH acknowledged', 'HIGH open']);
  });

  it('a batch that opens, acknowledges and reopens an alert delivers each change once, in order, ending open', async () => {
    const store = newStore();
    const claims = vi.spyOn(store, 'setIfAbsent');
    const name = `webhook/slack-batch-${kind}`;
    const slack = await httpReceiver(() => 200, closers);
    const [sink] = compileSinks({ [name]: { url: slack.url, format: 'slack' } });
    const bus = newBus();
    const sub = await runSink(bus, silentLogger, sink, { store });
    closers.push(() => sub.close());
    // one publish: one batch
    await publishAll(bus, reopenedInOneBatch);
    await until('the three changes', () => slack.got.length === 3);
    expect(titles(slack.got)).toEqual(['HIGH open', 'HIGH acknowledged', 'HIGH open']);
    expect(await metricSum('meshward_sink_skipped_total', { sink: name, reason: 'claimed' })).toBe(0);
    expect(claims.mock.calls.map((c) => c[0])).toEqual([
      `sink-claim:${name}:${opened.id}:none:open:high`,
      `sink-claim:${name}:${opened.id}:none+1:acknowledged:high`,
      `sink-claim:${name}:${opened.id}:none+2:open:high`,
    ]);
    await until(
      'the reopening written down',
      async () => JSON.parse((await deliveredOf(store, name)) ?? '{}').state === 'open',
    );
  });

  it('a batch of several alerts reads what the sink delivered of them in one store call', async () => {
    const store = newStore();
    const reads = vi.spyOn(store, 'hmget');
    const fieldReads = vi.spyOn(store, 'hget');
    const name = `webhook/slack-lookup-${kind}`;
    const slack = await httpReceiver(() => 200, closers);
    const [sink] = compileSinks({ [name]: { url: slack.url, format: 'slack' } });
    const bus = newBus();
    const sub = await runSink(bus, silentLogger, sink, { store });
    closers.push(() => sub.close());
    const three = ['alr_one', 'alr_two', 'alr_three'].map((id) => ({ ...opened, id }));
    await publishAll(bus, three);
    await until('the three alerts', () => slack.got.length === 3);
    await until(
      'the three written down',
      async () => Object.keys(await store.hgetall(`sink-delivered:${name}`)).length === 3,
    );
    // the refreshes of all three in one batch: one read, and each is skipped as unchanged
    await publishAll(
      bus,
      three.map((a) => refresh(a, 1)),
    );
    await until('the three refreshes skipped', async () => (await unchanged(name)) === 3);
    expect(slack.got).toHaveLength(3);
    expect(reads.mock.calls).toEqual([
      [`sink-delivered:${name}`, ['alr_one', 'alr_two', 'alr_three']],
      [`sink-delivered:${name}`, ['alr_one', 'alr_two', 'alr_three']],
    ]);
    expect(fieldReads).not.toHaveBeenCalled();
  });

  it('two API replicas that read that batch at the same moment deliver each of its changes once', async () => {
    const name = `webhook/slack-batch-race-${kind}`;
    const { slack, one, two } = await twoReplicas(newStore(), name);
    await Promise.all([publishAll(one, reopenedInOneBatch), publishAll(two, reopenedInOneBatch)]);
    // each change is delivered by one replica and left by the other, whichever claimed it first
    await until(
      'the other replica to leave each change',
      async () => (await metricSum('meshward_sink_skipped_total', { sink: name, reason: 'claimed' })) === 3,
    );
    await until('the three changes', () => slack.got.length === 3);
    expect(titles(slack.got).sort()).toEqual(['HIGH acknowledged', 'HIGH open', 'HIGH open']);
    expect(await unchanged(name)).toBe(0);
  });

  it('a change a sink gave up on is claimed no more: a later read of it delivers it', async () => {
    const store = newStore();
    const name = `webhook/slack-release-${kind}`;
    let status = 503;
    const slack = await httpReceiver(() => status, closers);
    const [sink] = compileSinks({ [name]: { url: slack.url, format: 'slack' } });
    const bus = newBus();
    const sub = await runSink(bus, silentLogger, sink, { store, attempts: 2, baseDelayMs: 1, maxDelayMs: 1 });
    closers.push(() => sub.close());
    await publish(bus, opened);
    await until(
      'the dead letter',
      async () => (await metricSum('meshward_sink_dead_letters_total', { sink: name })) === 1,
    );
    expect(slack.got).toHaveLength(2);
    expect(await store.get(`sink-claim:${name}:${opened.id}:none:open:high`)).toBeNull();
    status = 200;
    await publish(bus, opened);
    await until('the delivery', async () => (await deliveredOf(store, name)) !== null);
    expect(slack.got).toHaveLength(3);
    expect(await store.get(`sink-claim:${name}:${opened.id}:none:open:high`)).toBe('1');
  });

  it('forgets alerts resolved over a day ago, and the oldest delivered beyond its bound', async () => {
    let now = 10 * 24 * HOUR;
    const store = newStore();
    const record = new DeliveredAlerts(store, 'webhook/prune', silentLogger, () => now, { maxEntries: 3 });
    const at = (hoursAgo: number) => now - hoursAgo * HOUR;
    await record.remember('resolved-old', { state: 'resolved', severity: 'low', at: at(25) });
    await record.remember('resolved-new', { state: 'resolved', severity: 'low', at: at(23) });
    await record.remember('open-oldest', { state: 'open', severity: 'low', at: at(48) });
    await record.remember('open-old', { state: 'open', severity: 'low', at: at(30) });
    await record.remember('open-new', { state: 'open', severity: 'low', at: at(1) });
    await store.hset('sink-delivered:webhook/prune', 'garbage', '{not json');
    expect(await record.pruneIfDue()).toBe(3);
    expect(Object.keys(await store.hgetall('sink-delivered:webhook/prune')).sort()).toEqual([
      'open-new',
      'open-old',
      'resolved-new',
    ]);
    // at most once an hour
    await record.remember('resolved-older', { state: 'resolved', severity: 'low', at: at(40) });
    now += 59 * MINUTE;
    expect(await record.pruneIfDue()).toBe(0);
    now += 2 * MINUTE;
    expect(await record.pruneIfDue()).toBe(2); // resolved-older, and resolved-new is now over a day old
  });
});

describe('delivery options', () => {
  it('default to changes every 240 minutes for Slack and to all for every other sink', () => {
    const sinks = compileSinks({
      'webhook/slack': { url: 'https://hooks.slack.test/x', format: 'slack' },
      'webhook/slack-hourly': { url: 'https://hooks.slack.test/x', format: 'slack', repeat_minutes: 60 },
      'webhook/ocsf': { url: 'https://siem.test/x', format: 'ocsf' },
      'webhook/json-changes': { url: 'https://siem.test/x', deliver: 'changes', repeat_minutes: 0 },
      cef_syslog: { host: 'siem.test' },
      topic: {},
    });
    const all = { deliver: 'all', repeatMs: 240 * MINUTE, minSeverity: 'info' };
    expect(Object.fromEntries(sinks.map((s) => [s.name, s.delivery]))).toEqual({
      'webhook/slack': { ...all, deliver: 'changes' },
      'webhook/slack-hourly': { ...all, deliver: 'changes', repeatMs: HOUR },
      'webhook/ocsf': all,
      'webhook/json-changes': { ...all, deliver: 'changes', repeatMs: 0 },
      cef_syslog: all,
      topic: all,
    });
  });

  it('take min_severity on every sink type', () => {
    const sinks = compileSinks({
      'webhook/slack': { url: 'https://hooks.slack.test/x', format: 'slack', min_severity: 'medium' },
      cef_syslog: { host: 'siem.test', min_severity: 'high' },
      topic: { min_severity: 'critical' },
    });
    expect(sinks.map((s) => s.delivery.minSeverity)).toEqual(['medium', 'high', 'critical']);
  });

  it('refuses a bad value at start, naming the key', () => {
    const url = 'https://hooks.slack.test/x';
    expect(() => compileSinks({ 'webhook/x': { url, deliver: 'sometimes' } })).toThrow(/sinks\.webhook\/x\.deliver: /);
    expect(() => compileSinks({ 'cef_syslog/y': { host: 'h', repeat_minutes: -1 } })).toThrow(
      /sinks\.cef_syslog\/y\.repeat_minutes: /,
    );
    expect(() => compileSinks({ topic: { repeat_minutes: 1.5, deliver: 'changes' } })).toThrow(
      /sinks\.topic\.repeat_minutes: /,
    );
    expect(() => compileSinks({ 'webhook/x': { url, repeat_minutes: 60 } })).toThrow(
      'sinks.webhook/x.repeat_minutes: applies only with deliver: changes',
    );
    expect(() => compileSinks({ 'webhook/x': { url, format: 'slack', deliver: 'all', repeat_minutes: 60 } })).toThrow(
      'sinks.webhook/x.repeat_minutes: applies only with deliver: changes',
    );
    expect(() => compileSinks({ 'webhook/x': { url, repeat: 60 } })).toThrow(/sinks\.webhook\/x/);
    expect(() => compileSinks({ 'topic/z': { min_severity: 'urgent' } })).toThrow(/sinks\.topic\/z\.min_severity: /);
  });
});
