import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { capturingLogger } from '../../test/harness/capturing-logger.js';
import { metricSum } from '../../test/harness/metrics.js';
import { type RedisServer, startRedis } from '../../test/harness/redis.js';
import type { Alert } from '../core/alert.js';
import { stableId } from '../core/ids.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { createRedisStore, type RedisStore } from '../store/redis-store.js';
import type { Store } from '../store/store.js';
import { FORGET_SENSOR_AFTER_MS } from './sensor-activity.js';
import { forgetSensorsQuietSince, writeSensorActivity } from './sensor-activity-store.js';
import { STEP_LEASE_MS } from './sensor-quiet-episodes.js';
import { SensorQuietWatch, type SensorQuietWatchOptions, startSensorQuietWatch } from './sensor-quiet-watch.js';

const MINUTE = 60_000;
const QUIET_AFTER = 15 * MINUTE;
const T0 = Date.parse('2026-03-01T10:00:00Z');
const NGINX = { kind: 'nginx', id: 'ingress-a' };

/** what the collectors flush: the sensor's last record at `lastAt` */
const sent = (store: Store, sensor: { kind: string; id: string }, lastAt: number, records = 1) =>
  writeSensorActivity(store, [{ ...sensor, records, lastAt }]);

/** watchers (API replicas, or one restarted) on one store and one clock, publishing to one alerts topic */
function replicas(store: Store) {
  let now = T0;
  const published: Alert[] = [];
  const watcher = (
    publish = async (a: Alert) => void published.push(a),
    over: Store = store,
    thresholds: Partial<Pick<SensorQuietWatchOptions, 'quietAfterMs' | 'quietAfterMsByKind'>> = {},
  ) =>
    new SensorQuietWatch({
      store: over,
      publish,
      logger: silentLogger,
      quietAfterMs: QUIET_AFTER,
      ...thresholds,
      severity: 'medium',
      clock: () => now,
    });
  return {
    published,
    watcher,
    at: (t: number) => {
      now = t;
    },
  };
}

/** what startSensorQuietWatch's look at start (severity high) published, once stopped: stop waits for the look */
async function lookAtStart(
  store: Store,
  opts: Pick<SensorQuietWatchOptions, 'quietAfterMs' | 'quietAfterMsByKind'>,
): Promise<Alert[]> {
  const published: Alert[] = [];
  const stop = startSensorQuietWatch({
    store,
    publish: async (a) => void published.push(a),
    logger: silentLogger,
    severity: 'high',
    ...opts,
  });
  await stop();
  return published;
}

const episodeId = (sensor: { kind: string; id: string }, since: number) =>
  stableId('alert', 'sensor_quiet', sensor.kind, sensor.id, since);

/** a call the process died in: it never returns; `there` resolves once it is made */
function diesIn<A extends unknown[]>(before: (...args: A) => void = () => {}) {
  let reached = () => {};
  const there = new Promise<void>((r) => {
    reached = r;
  });
  const call = (...args: A): Promise<never> => {
    before(...args);
    reached();
    return new Promise<never>(() => {});
  };
  return { call, there };
}

/** the store as a process sees it that dies in its first write to the quiet episodes (hset) */
function diesRecording(store: Store) {
  const dies = diesIn();
  const seen = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'hset')
        return (key: string, ...rest: [string, string]) =>
          key.endsWith('sensors:quiet_episodes') ? dies.call() : target.hset(key, ...rest);
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store: seen, there: dies.there };
}

/** a call that stalls until let go: `there` resolves once it is made; `go()` then makes it, `go(err)` fails it */
function stallsIn<A extends unknown[], R>(make: (...args: A) => Promise<R>) {
  let reached = () => {};
  const there = new Promise<void>((r) => {
    reached = r;
  });
  let letGo: (err?: Error) => void = () => {};
  const call = (...args: A): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      letGo = (err) => (err ? reject(err) : resolve(make(...args)));
      reached();
    });
  return { call, there, go: (err?: Error) => letGo(err) };
}

/** the store as a process sees it that stalls in its first write to the quiet episodes (hset) until let go */
function stallsRecording(store: Store) {
  const stall = stallsIn((key: string, field: string, value: string) => store.hset(key, field, value));
  let stalled = false;
  const seen = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'hset')
        return (key: string, field: string, value: string) => {
          if (stalled || !key.endsWith('sensors:quiet_episodes')) return target.hset(key, field, value);
          stalled = true;
          return stall.call(key, field, value);
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store: seen, there: stall.there, go: stall.go };
}

function episodes(makeStore: () => Promise<Store>) {
  it('raises one alert once the sensor is quiet for longer than the threshold, whichever replica looks, and again none after a restart', async () => {
    const store = await makeStore();
    const r = replicas(store);
    const [a, b] = [r.watcher(), r.watcher()];
    const raisedBefore = await metricSum('meshward_sensor_quiet_alerts_total', { change: 'raised' });
    await sent(store, NGINX, T0, 42);

    r.at(T0 + QUIET_AFTER); // exactly the threshold: not yet quiet
    await Promise.all([a.check(), b.check()]);
    expect(r.published).toEqual([]);

    r.at(T0 + QUIET_AFTER + 1);
    await Promise.all([a.check(), b.check()]);
    expect(r.published).toEqual([
      {
        v: 1,
        id: episodeId(NGINX, T0),
        kind: 'sensor_quiet',
        severity: 'medium',
        state: 'open',
        service: 'meshward',
        subject: { type: 'sensor', value: 'nginx/ingress-a' },
        firstSeen: T0,
        lastSeen: T0 + QUIET_AFTER + 1,
        count: 1,
        summary: 'nginx sensor ingress-a sent no record for 15 min: its traffic is not watched',
        expected: 'a record at least every 15 min',
        observed: 'none since 2026-03-01T10:00:00.000Z',
        evidence: { recordIds: [], metrics: { quiet_s: 900, records: 42 } },
        updatedAt: T0 + QUIET_AFTER + 1,
      },
    ]);
    expect((await metricSum('meshward_sensor_quiet_alerts_total', { change: 'raised' })) - raisedBefore).toBe(1);

    // still quiet an hour later, on both replicas and on a third started since
    r.at(T0 + 75 * MINUTE);
    await Promise.all([a.check(), b.check(), r.watcher().check()]);
    expect(r.published).toHaveLength(1);
  });

  it('resolves the alert once the sensor sends again, once; quiet again, another alert with its own id', async () => {
    const store = await makeStore();
    const r = replicas(store);
    const [a, b] = [r.watcher(), r.watcher()];
    await sent(store, NGINX, T0);
    r.at(T0 + 20 * MINUTE);
    await a.check();
    const raised = r.published[0];

    await sent(store, NGINX, T0 + 30 * MINUTE);
    r.at(T0 + 31 * MINUTE);
    await Promise.all([a.check(), b.check()]);
    await r.watcher().check();
    expect(r.published.slice(1)).toEqual([
      {
        ...raised,
        state: 'resolved',
        lastSeen: T0 + 30 * MINUTE,
        summary: 'nginx sensor ingress-a sends again after 30 min without a record',
        observed: 'none from 2026-03-01T10:00:00.000Z to 2026-03-01T10:30:00.000Z',
        labels: { resolved_because: 'sends_again' },
        updatedAt: T0 + 31 * MINUTE,
      },
    ]);

    // quiet again from its last record at 10:30
    r.at(T0 + 46 * MINUTE);
    await Promise.all([a.check(), b.check()]);
    expect(r.published.slice(2).map((x) => [x.id, x.state, x.firstSeen])).toEqual([
      [episodeId(NGINX, T0 + 30 * MINUTE), 'open', T0 + 30 * MINUTE],
    ]);
    expect(r.published[2].id).not.toBe(raised.id);
  });

  it('between two looks a sensor that sent and went quiet again: the first episode is resolved and the second raised', async () => {
    const store = await makeStore();
    const r = replicas(store);
    const w = r.watcher();
    await sent(store, NGINX, T0);
    r.at(T0 + 20 * MINUTE);
    await w.check();
    await sent(store, NGINX, T0 + 21 * MINUTE);
    r.at(T0 + 40 * MINUTE);
    await w.check();
    expect(r.published.map((x) => [x.id, x.state])).toEqual([
      [episodeId(NGINX, T0), 'open'],
      [episodeId(NGINX, T0), 'resolved'],
      [episodeId(NGINX, T0 + 21 * MINUTE), 'open'],
    ]);
  });

  it('raises nothing for a sensor quiet for the 30 days after which it is forgotten, and resolves its open alert, once', async () => {
    const store = await makeStore();
    const r = replicas(store);
    const old = { kind: 'syslog', id: 'fw-retired' };
    await sent(store, old, T0 - FORGET_SENSOR_AFTER_MS - 1);
    await sent(store, NGINX, T0);
    r.at(T0 + 20 * MINUTE);
    await r.watcher().check();
    expect(r.published.map((x) => x.subject?.value)).toEqual(['nginx/ingress-a']);

    // 30 days on, the collectors forget it: its alert is resolved, and nothing more is raised for it
    const later = T0 + FORGET_SENSOR_AFTER_MS + 1;
    r.at(later);
    await forgetSensorsQuietSince(store, T0 + 1);
    await Promise.all([r.watcher().check(), r.watcher().check()]);
    await r.watcher().check();
    expect(r.published.slice(1)).toEqual([
      {
        ...r.published[0],
        state: 'resolved',
        lastSeen: later,
        summary: 'nginx sensor ingress-a forgotten after 30 d without a record: no longer watched',
        observed: 'none since 2026-03-01T10:00:00.000Z',
        labels: { resolved_because: 'forgotten' },
        updatedAt: later,
      },
    ]);
    expect(await store.hgetall('sensors:quiet_episodes')).toEqual({});
  });

  it('with watchedSince (collector and API in one process, restarted after its own downtime), counts the silence from then', async () => {
    const store = await makeStore();
    let now = T0 + 60 * MINUTE;
    const published: Alert[] = [];
    const w = new SensorQuietWatch({
      store,
      publish: async (a) => void published.push(a),
      logger: silentLogger,
      quietAfterMs: QUIET_AFTER,
      severity: 'medium',
      watchedSince: now,
      clock: () => now,
    });
    await sent(store, NGINX, T0); // heard an hour before this start, while meshward was down since
    await w.check();
    now += QUIET_AFTER;
    await w.check();
    expect(published).toEqual([]);
    now += 1; // a threshold without a record since this start: its own silence
    await w.check();
    expect(published.map((a) => [a.id, a.summary])).toEqual([
      [episodeId(NGINX, T0), 'nginx sensor ingress-a sent no record for 1 h 15 min: its traffic is not watched'],
    ]);
  });

  it('a watcher that dies while raising (claimed; recorded; published, not marked): past its lease the next look publishes it, and it is resolved once', async () => {
    for (const step of ['claimed', 'recorded', 'published'] as const) {
      const store = await makeStore();
      const r = replicas(store);
      await sent(store, NGINX, T0);
      r.at(T0 + 20 * MINUTE);
      const publishing = diesIn((a: Alert) => {
        if (step === 'published') r.published.push(a);
      });
      const recording = diesRecording(store);
      void (step === 'claimed' ? r.watcher(undefined, recording.store) : r.watcher(publishing.call)).check();
      await (step === 'claimed' ? recording.there : publishing.there);
      const before = step === 'published' ? 1 : 0;

      // it might still be publishing: the others leave the episode to it
      await Promise.all([r.watcher().check(), r.watcher().check()]);
      expect(r.published, step).toHaveLength(before);
      const takenOver = await metricSum('meshward_sensor_quiet_steps_taken_over_total', { step: 'raising' });
      r.at(T0 + 20 * MINUTE + STEP_LEASE_MS + 1);
      await Promise.all([r.watcher().check(), r.watcher().check()]);
      await r.watcher().check();
      expect(
        r.published.map((x) => [x.id, x.state]),
        step,
      ).toEqual(Array(before + 1).fill([episodeId(NGINX, T0), 'open']));
      // the change recorded, published again as it was
      if (step === 'published') expect(r.published[1]).toEqual(r.published[0]);
      expect(
        (await metricSum('meshward_sensor_quiet_steps_taken_over_total', { step: 'raising' })) - takenOver,
        step,
      ).toBe(1);

      await sent(store, NGINX, T0 + 25 * MINUTE);
      r.at(T0 + 26 * MINUTE + STEP_LEASE_MS);
      await Promise.all([r.watcher().check(), r.watcher().check()]);
      expect(
        r.published.slice(before + 1).map((x) => [x.id, x.state, x.labels]),
        step,
      ).toEqual([[episodeId(NGINX, T0), 'resolved', { resolved_because: 'sends_again' }]]);
      expect(await store.hgetall('sensors:quiet_episodes'), step).toEqual({});
    }
  });

  it('a watcher that dies while resolving (publishing; published, not marked): past its lease the next look publishes the resolve', async () => {
    for (const sentFirst of [false, true]) {
      const store = await makeStore();
      const r = replicas(store);
      await sent(store, NGINX, T0);
      r.at(T0 + 20 * MINUTE);
      await r.watcher().check();
      await sent(store, NGINX, T0 + 25 * MINUTE);
      r.at(T0 + 26 * MINUTE);
      const resolving = diesIn((a: Alert) => {
        if (sentFirst) r.published.push(a);
      });
      void r.watcher(resolving.call).check();
      await resolving.there;
      const before = sentFirst ? 2 : 1;

      await Promise.all([r.watcher().check(), r.watcher().check()]);
      expect(r.published, `sent first: ${sentFirst}`).toHaveLength(before);
      r.at(T0 + 27 * MINUTE + STEP_LEASE_MS);
      await Promise.all([r.watcher().check(), r.watcher().check()]);
      await r.watcher().check();
      const resolved = r.published.slice(1);
      expect(
        resolved.map((x) => [x.id, x.state, x.lastSeen, x.updatedAt]),
        `sent first: ${sentFirst}`,
      ).toEqual(Array(before).fill([episodeId(NGINX, T0), 'resolved', T0 + 25 * MINUTE, T0 + 26 * MINUTE]));
      expect(await store.hgetall('sensors:quiet_episodes')).toEqual({});
    }
  });

  it('a watcher that stalls past its lease in a raise another finished and resolved since leaves the claim resolved: the episode is not resolved again', async () => {
    const store = await makeStore();
    const r = replicas(store);
    const id = episodeId(NGINX, T0);
    await sent(store, NGINX, T0);
    r.at(T0 + 20 * MINUTE);
    const recording = stallsRecording(store);
    const stalled = r.watcher(undefined, recording.store).check();
    await recording.there;
    // past its lease another raises the episode, and resolves it once the sensor sends again
    r.at(T0 + 21 * MINUTE + STEP_LEASE_MS);
    const b = r.watcher();
    await b.check();
    await sent(store, NGINX, T0 + 25 * MINUTE);
    r.at(T0 + 26 * MINUTE + STEP_LEASE_MS);
    await b.check();
    expect(r.published.map((x) => [x.id, x.state])).toEqual([
      [id, 'open'],
      [id, 'resolved'],
    ]);

    // the first goes on: records and publishes its raise (late: a repeated open reopens no alert resolved), then
    // finds its step no longer its own and leaves the claim as the other set it
    recording.go();
    expect(await stalled).toBe(0);
    await b.check();
    await r.watcher().check();
    expect(r.published.slice(2).map((x) => [x.id, x.state])).toEqual([[id, 'open']]);
    expect(await store.get(`sensor-quiet:${id}`)).toBe('resolved');
    expect(await store.hgetall('sensors:quiet_episodes')).toEqual({});
  });

  it('a look that read a sensor quiet just before another resolved its alert (sends again) raises no new alert for that silence', async () => {
    const store = await makeStore();
    const r = replicas(store);
    await sent(store, NGINX, T0);
    r.at(T0 + 20 * MINUTE);
    await r.watcher().check();
    // between this look's read of the sensors and of the episodes, the sensor sends and another look resolves
    const late = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'hgetall')
          return async (key: string) => {
            if (key.endsWith('sensors:quiet_episodes')) {
              await sent(store, NGINX, T0 + 25 * MINUTE);
              await r.watcher().check();
            }
            return target.hgetall(key);
          };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    r.at(T0 + 26 * MINUTE);
    await r.watcher(undefined, late).check();
    await r.watcher().check();
    expect(r.published.map((x) => [x.id, x.state])).toEqual([
      [episodeId(NGINX, T0), 'open'],
      [episodeId(NGINX, T0), 'resolved'],
    ]);
  });

  it('a watcher whose publish fails after stalling past its lease leaves the step another took over and finished: no raise again', async () => {
    const store = await makeStore();
    const r = replicas(store);
    await sent(store, NGINX, T0);
    r.at(T0 + 20 * MINUTE);
    const publishing = stallsIn(async (a: Alert) => void r.published.push(a));
    const stalled = r.watcher(publishing.call).check();
    await publishing.there;
    r.at(T0 + 21 * MINUTE + STEP_LEASE_MS);
    const b = r.watcher();
    await b.check();
    publishing.go(new Error('bus away'));
    expect(await stalled).toBeUndefined();
    await b.check();
    await r.watcher().check();
    expect(r.published.map((x) => [x.id, x.state])).toEqual([[episodeId(NGINX, T0), 'open']]);
    expect(await store.get(`sensor-quiet:${episodeId(NGINX, T0)}`)).toBe('open');
  });

  it('a step claimed by a watcher whose clock was ahead by more than a lease (then set right) is taken over at once, not once that time comes', async () => {
    const store = await makeStore();
    const r = replicas(store);
    await sent(store, NGINX, T0);
    // a clock a week ahead: the watcher claims the raise at that time and dies recording it
    r.at(T0 + 7 * 86_400_000);
    const recording = diesRecording(store);
    void r.watcher(undefined, recording.store).check();
    await recording.there;
    r.at(T0 + 20 * MINUTE);
    await Promise.all([r.watcher().check(), r.watcher().check()]);
    await r.watcher().check();
    expect(r.published.map((x) => [x.id, x.state])).toEqual([[episodeId(NGINX, T0), 'open']]);
  });

  it('an episode an earlier version claimed (open) and then neither published nor recorded is raised, once', async () => {
    const store = await makeStore();
    const r = replicas(store);
    await sent(store, NGINX, T0);
    await store.set(`sensor-quiet:${episodeId(NGINX, T0)}`, 'open');
    r.at(T0 + 20 * MINUTE);
    await Promise.all([r.watcher().check(), r.watcher().check()]);
    await r.watcher().check();
    expect(r.published.map((x) => [x.id, x.state])).toEqual([[episodeId(NGINX, T0), 'open']]);
  });

  it("an open alert is resolved once its sensor's threshold is set to 0 (the watch turned off), by kind or for all, once", async () => {
    for (const off of [{ quietAfterMs: 0 }, { quietAfterMsByKind: { nginx: 0 } }]) {
      const store = await makeStore();
      const r = replicas(store);
      await sent(store, NGINX, T0);
      r.at(T0 + 20 * MINUTE);
      await r.watcher().check();
      // the API replicas restarted with the new config
      r.at(T0 + 45 * MINUTE);
      const [a, b] = [r.watcher(undefined, store, off), r.watcher(undefined, store, off)];
      await Promise.all([a.check(), b.check()]);
      await a.check();
      expect(r.published.slice(1), JSON.stringify(off)).toEqual([
        {
          ...r.published[0],
          state: 'resolved',
          lastSeen: T0 + 45 * MINUTE,
          summary:
            'nginx sensor ingress-a, quiet for 45 min, is no longer watched: its sensor_quiet threshold was set to 0',
          observed: 'none since 2026-03-01T10:00:00.000Z',
          labels: { resolved_because: 'watch_off' },
          updatedAt: T0 + 45 * MINUTE,
        },
      ]);
      expect(await store.hgetall('sensors:quiet_episodes')).toEqual({});
    }
  });

  it('a watch turned off and back on during one silence raises the sensor again, once, as a new alert each time', async () => {
    const store = await makeStore();
    const r = replicas(store);
    await sent(store, NGINX, T0);
    r.at(T0 + 20 * MINUTE);
    await r.watcher().check();
    const ids = [episodeId(NGINX, T0)];
    for (const [off, on] of [
      [45, 60],
      [70, 80],
    ]) {
      // the API replicas restarted with the threshold at 0 (resolved: watch_off), then back at 15
      r.at(T0 + off * MINUTE);
      await Promise.all([0, 1].map(() => r.watcher(undefined, store, { quietAfterMs: 0 }).check()));
      r.at(T0 + on * MINUTE);
      const [a, b] = [r.watcher(), r.watcher()];
      await Promise.all([a.check(), b.check()]);
      await a.check();
      const [resolved, raised, ...more] = r.published.slice(2 * ids.length - 1);
      expect([resolved.id, resolved.state, resolved.labels], `off at ${off} min`).toEqual([
        ids.at(-1),
        'resolved',
        { resolved_because: 'watch_off' },
      ]);
      expect(more, `on at ${on} min`).toEqual([]);
      expect(raised, `on at ${on} min`).toMatchObject({
        state: 'open',
        firstSeen: T0,
        lastSeen: T0 + on * MINUTE,
        summary: `nginx sensor ingress-a sent no record for ${on === 60 ? '1 h' : '1 h 20 min'}: its traffic is not watched`,
        expected: 'a record at least every 15 min',
      });
      expect(ids, `on at ${on} min`).not.toContain(raised.id);
      ids.push(raised.id);
    }

    // the sensor sends again: the alert open is resolved, once
    await sent(store, NGINX, T0 + 85 * MINUTE);
    r.at(T0 + 86 * MINUTE);
    await Promise.all([r.watcher().check(), r.watcher().check()]);
    expect(r.published.slice(5).map((x) => [x.id, x.state, x.labels])).toEqual([
      [ids[2], 'resolved', { resolved_because: 'sends_again' }],
    ]);
    expect(await store.hgetall('sensors:quiet_episodes')).toEqual({});
  });

  it('an open alert is resolved once its threshold is raised above the silence, by kind or for all, once; past the new threshold, a new alert', async () => {
    for (const raised of [{ quietAfterMs: 60 * MINUTE }, { quietAfterMsByKind: { nginx: 60 * MINUTE } }]) {
      const store = await makeStore();
      const r = replicas(store);
      await sent(store, NGINX, T0);
      r.at(T0 + 20 * MINUTE);
      await r.watcher().check();
      // the API replicas restarted with the threshold at 60 min: 30 min of silence is no longer quiet
      r.at(T0 + 30 * MINUTE);
      const [a, b] = [r.watcher(undefined, store, raised), r.watcher(undefined, store, raised)];
      await Promise.all([a.check(), b.check()]);
      await a.check();
      expect(r.published.slice(1), JSON.stringify(raised)).toEqual([
        {
          ...r.published[0],
          state: 'resolved',
          lastSeen: T0 + 30 * MINUTE,
          summary: 'nginx sensor ingress-a, quiet for 30 min, is within its sensor_quiet threshold, raised to 1 h',
          expected: 'a record at least every 1 h',
          observed: 'none since 2026-03-01T10:00:00.000Z',
          labels: { resolved_because: 'threshold_raised' },
          updatedAt: T0 + 30 * MINUTE,
        },
      ]);
      expect(await store.hgetall('sensors:quiet_episodes')).toEqual({});

      r.at(T0 + 60 * MINUTE);
      await Promise.all([a.check(), b.check()]);
      expect(r.published).toHaveLength(2);
      r.at(T0 + 60 * MINUTE + 1);
      await Promise.all([a.check(), b.check()]);
      await r.watcher(undefined, store, raised).check();
      expect(r.published.slice(2), JSON.stringify(raised)).toMatchObject([
        {
          state: 'open',
          firstSeen: T0,
          summary: 'nginx sensor ingress-a sent no record for 1 h: its traffic is not watched',
          expected: 'a record at least every 1 h',
        },
      ]);
      expect(r.published[2].id).not.toBe(r.published[0].id);
    }
  });

  it('an open alert stays open over a restart with watchedSince: the grace counts for a raise, not against a silence already raised', async () => {
    const store = await makeStore();
    const r = replicas(store);
    await sent(store, NGINX, T0);
    r.at(T0 + 20 * MINUTE);
    await r.watcher().check();
    const published: Alert[] = [];
    await new SensorQuietWatch({
      store,
      publish: async (a) => void published.push(a),
      logger: silentLogger,
      quietAfterMs: QUIET_AFTER,
      severity: 'medium',
      watchedSince: T0 + 30 * MINUTE,
      clock: () => T0 + 31 * MINUTE,
    }).check();
    expect(published).toEqual([]);
    expect(Object.keys(await store.hgetall('sensors:quiet_episodes'))).toHaveLength(1);
  });

  it('with every threshold at 0 the watch started looks until the alerts left open are resolved', async () => {
    const store = await makeStore();
    await sent(store, NGINX, Date.now() - 20 * MINUTE);
    expect((await lookAtStart(store, { quietAfterMs: QUIET_AFTER })).map((a) => a.state)).toEqual(['open']);
    expect((await lookAtStart(store, { quietAfterMs: 0 })).map((a) => [a.state, a.labels])).toEqual([
      ['resolved', { resolved_because: 'watch_off' }],
    ]);
  });

  it('a publish that fails raises nothing: the next look raises the episode, once', async () => {
    const store = await makeStore();
    const r = replicas(store);
    let refuse = true;
    const w = r.watcher(async (a) => {
      if (refuse) throw new Error('bus away');
      r.published.push(a);
    });
    await sent(store, NGINX, T0);
    r.at(T0 + 20 * MINUTE);
    await w.check();
    expect(r.published).toEqual([]);
    refuse = false;
    await w.check();
    await r.watcher().check();
    expect(r.published.map((x) => [x.id, x.state])).toEqual([[episodeId(NGINX, T0), 'open']]);
  });
}

describe('sensor_quiet watch', () => {
  describe('on the memory store', () => episodes(async () => new MemoryStore()));

  describe('on Redis', () => {
    let server: RedisServer;
    const stores: RedisStore[] = [];
    let n = 0;
    beforeAll(async () => {
      server = await startRedis();
    });
    afterAll(async () => {
      for (const s of stores) await s.close();
      await server?.stop();
    });
    episodes(async () => {
      const s = createRedisStore({ url: server.url, keyPrefix: `mw-quiet-${n++}:` });
      stores.push(s);
      return s;
    });
  });

  describe('a threshold per sensor kind (api.sensor_quiet_by_kind)', () => {
    const IDP = { kind: 'idp', id: 'okta-prod' };
    const TAP = { kind: 'bus', id: 'tap-rare-topic' };
    const watch = (store: Store, quietAfterMsByKind: Record<string, number>, quietAfterMs = QUIET_AFTER) => {
      let now = T0;
      const published: Alert[] = [];
      const w = new SensorQuietWatch({
        store,
        publish: async (a) => void published.push(a),
        logger: silentLogger,
        quietAfterMs,
        quietAfterMsByKind,
        severity: 'medium',
        clock: () => now,
      });
      const check = (t: number) => {
        now = t;
        return w.check();
      };
      return { published, check };
    };

    it("an idp sensor silent for 30 min under idp: 240 raises nothing while an nginx one does; past 4 h, the idp's alert says its threshold", async () => {
      const store = new MemoryStore();
      const w = watch(store, { idp: 240 * MINUTE });
      await sent(store, IDP, T0);
      await sent(store, NGINX, T0);
      await w.check(T0 + 30 * MINUTE);
      expect(w.published.map((a) => [a.subject?.value, a.expected])).toEqual([
        ['nginx/ingress-a', 'a record at least every 15 min'],
      ]);

      await w.check(T0 + 240 * MINUTE);
      expect(w.published).toHaveLength(1);
      await w.check(T0 + 240 * MINUTE + 1);
      expect(w.published.slice(1)).toMatchObject([
        {
          id: episodeId(IDP, T0),
          subject: { type: 'sensor', value: 'idp/okta-prod' },
          summary: 'idp sensor okta-prod sent no record for 4 h: its traffic is not watched',
          expected: 'a record at least every 4 h',
        },
      ]);
    });

    it('a kind at 0 never raises, however long its sensors are silent; a kind named with the default at 0 does', async () => {
      const store = new MemoryStore();
      const w = watch(store, { bus: 0, idp: 60 * MINUTE }, 0);
      await sent(store, TAP, T0);
      await sent(store, IDP, T0);
      await sent(store, NGINX, T0);
      for (const t of [T0 + 30 * MINUTE, T0 + 61 * MINUTE, T0 + 7 * 24 * 60 * MINUTE]) await w.check(t);
      expect(w.published.map((a) => a.subject?.value)).toEqual(['idp/okta-prod']);
    });

    it('with the default at 0 the watch still raises when a kind has a threshold; with every one at 0 it raises nothing', async () => {
      for (const [byKind, expected] of [
        [{ idp: 10 }, ['idp/okta-prod']],
        [{ idp: 0 }, []],
      ] as const) {
        const store = new MemoryStore();
        await sent(store, IDP, Date.now() - 20 * MINUTE);
        await sent(store, NGINX, Date.now() - 20 * MINUTE);
        const published = await lookAtStart(store, {
          quietAfterMs: 0,
          quietAfterMsByKind: { idp: byKind.idp * MINUTE },
        });
        expect(
          published.map((a) => a.subject?.value),
          JSON.stringify(byKind),
        ).toEqual(expected);
      }
    });

    it("a sensor whose kind is an object's property name (constructor) has the default threshold", async () => {
      const store = new MemoryStore();
      const w = watch(store, { idp: 240 * MINUTE });
      await sent(store, { kind: 'constructor', id: 'odd' }, T0);
      await w.check(T0 + 20 * MINUTE);
      expect(w.published.map((a) => [a.subject?.value, a.expected])).toEqual([
        ['constructor/odd', 'a record at least every 15 min'],
      ]);
    });
  });

  it('looks at start and then every interval; with a threshold of 0 it raises nothing', async () => {
    for (const [quietAfterMs, expected] of [
      [QUIET_AFTER, 1],
      [0, 0],
    ]) {
      const store = new MemoryStore();
      await sent(store, NGINX, Date.now() - 20 * MINUTE);
      const published = await lookAtStart(store, { quietAfterMs });
      expect(
        published.map((a) => [a.kind, a.severity]),
        `threshold ${quietAfterMs}`,
      ).toEqual(expected ? [['sensor_quiet', 'high']] : []);
    }
  });

  it('with every threshold at 0 it stops looking once no alert is left open; with one, it looks every interval', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      for (const [quietAfterMs, expected] of [
        [0, 1],
        [QUIET_AFTER, 6],
      ]) {
        const inner = new MemoryStore();
        let looks = 0;
        const store = new Proxy(inner, {
          get(target, prop, receiver) {
            if (prop === 'hgetall')
              return (key: string) => {
                if (key === 'sensors:quiet_episodes') looks++;
                return target.hgetall(key);
              };
            const v = Reflect.get(target, prop, receiver);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        });
        await sent(inner, NGINX, Date.now() - 20 * MINUTE);
        // one left open by a watcher before the threshold was set to 0
        if (quietAfterMs === 0) expect(await lookAtStart(inner, { quietAfterMs: QUIET_AFTER })).toHaveLength(1);
        const stop = startSensorQuietWatch(
          { store, publish: async () => {}, logger: silentLogger, severity: 'medium', quietAfterMs },
          MINUTE,
        );
        await vi.advanceTimersByTimeAsync(5 * MINUTE);
        await stop();
        // at 0: the look that resolves it, none after; else one at start and one a minute
        expect(looks, `threshold ${quietAfterMs}`).toBe(expected);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it('a raise taken over by a watcher that dies before recording it leaves a claim that still expires', async () => {
    let now = T0;
    const store = new MemoryStore({ clock: () => now });
    const r = replicas(store);
    await sent(store, NGINX, T0);
    // the first watcher claims the raise and dies recording it; past its lease the next takes it over and dies there too
    for (const at of [T0 + 20 * MINUTE, T0 + 21 * MINUTE + STEP_LEASE_MS]) {
      now = at;
      r.at(at);
      const recording = diesRecording(store);
      void r.watcher(undefined, recording.store).check();
      await recording.there;
    }
    const claim = `sensor-quiet:${episodeId(NGINX, T0)}`;
    expect(await store.get(claim)).toBe(`raising@${T0 + 21 * MINUTE + STEP_LEASE_MS}`);
    // the sensor sends again before any look: nothing follows that episode, never recorded
    await sent(store, NGINX, T0 + 25 * MINUTE);
    now = T0 + 26 * MINUTE;
    r.at(now);
    await r.watcher().check();
    expect(r.published).toEqual([]);
    now += FORGET_SENSOR_AFTER_MS + 2 * 86_400_000;
    expect(await store.get(claim)).toBeNull();
  });

  it('a store that fails is logged once per run of failures and counted, never thrown; the look after it works', async () => {
    const inner = new MemoryStore();
    let failing = true;
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        if (failing && prop === 'hgetall') return async () => Promise.reject(new Error('store down'));
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const { lines, logger } = capturingLogger();
    const published: Alert[] = [];
    const w = new SensorQuietWatch({
      store,
      publish: async (a) => void published.push(a),
      logger,
      quietAfterMs: QUIET_AFTER,
      severity: 'medium',
      clock: () => T0 + 20 * MINUTE,
    });
    await sent(inner, NGINX, T0);
    const before = await metricSum('meshward_sensor_quiet_watch_failures_total');
    await w.check();
    await w.check();
    expect((await metricSum('meshward_sensor_quiet_watch_failures_total')) - before).toBe(2);
    expect(lines.filter((l) => String(l.msg).startsWith('quiet sensors not checked'))).toHaveLength(1);
    expect(published).toEqual([]);

    failing = false;
    await w.check();
    expect(published.map((a) => a.subject?.value)).toEqual(['nginx/ingress-a']);
  });
});
