import { afterEach, describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test/harness/capturing-logger.js';
import { metricSum } from '../../test/harness/metrics.js';
import { adminRoutes, QUIET_AFTER_MS, type SensorsAnswer } from '../api/admin-routes.js';
import { createApiServer } from '../api/api-server.js';
import { ApiAuthenticator } from '../api/auth.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type { ApiCallRecord } from '../core/record.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Store } from '../store/store.js';
import { createCollectorServer } from './collector-server.js';
import { createRecordIngest } from './record-ingest.js';
import { FORGET_SENSOR_AFTER_MS, SensorActivity } from './sensor-activity.js';
import { SensorAuth } from './sensor-auth.js';

const TOKEN = 'sensor-token-0123456789';
const ADMIN = 'admin-key-0123456789';

const record = (i: number, sensor: { kind: string; id: string }, ts: number): ApiCallRecord => ({
  id: `rec-${sensor.id}-${i}`,
  ts,
  durationMs: 5,
  sensor,
  service: 'orders',
  method: 'GET',
  host: 'orders.svc',
  path: `/v1/orders/${i}`,
  status: 200,
  reqBytes: 1,
  respBytes: 1,
  source: { ip: '10.1.1.1' },
});

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** the real collector over a socket and the real API, on one store, both on `clock` */
async function setup(
  opts: {
    store?: Store;
    maxSensors?: number;
    logger?: Logger;
    flushIntervalMs?: number;
    quietAfterMs?: number;
    quietAfterMsByKind?: Record<string, number>;
  } = {},
) {
  let now = Date.now();
  const clock = () => now;
  const store = opts.store ?? new MemoryStore();
  const bus = new MemoryBus({ partitions: 1 });
  const logger = opts.logger ?? silentLogger;
  // flushed by hand (the timer is long unless a test says), so each step is deterministic
  const activity = new SensorActivity({
    store,
    logger,
    maxSensors: opts.maxSensors,
    flushIntervalMs: opts.flushIntervalMs ?? 3_600_000,
    clock,
  });
  const collector = createCollectorServer({
    ingest: createRecordIngest({ bus, logger, clock, activity }),
    auth: new SensorAuth([{ id: 'gw1', token: TOKEN }]),
    logger,
    busHealthy: () => true,
  });
  const collectorUrl = await collector.listen({ host: '127.0.0.1', port: 0 });
  const api = await createApiServer({
    auth: new ApiAuthenticator([{ name: 'admin-user', key: ADMIN, role: 'admin' }]),
    logger: silentLogger,
    health: () => ({ bus: true }),
    plugins: [
      adminRoutes({
        sensorIds: () => ['gw1', 'gw-unused'],
        store,
        clock,
        quietAfterMs: opts.quietAfterMs,
        quietAfterMsByKind: opts.quietAfterMsByKind,
      }),
    ],
  });
  const apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });
  closers.push(
    () => collector.close(),
    () => api.close(),
    () => activity.close(),
    () => bus.close(),
  );
  const post = async (sensor: { kind: string; id: string }, n: number) => {
    const res = await fetch(`${collectorUrl}/v1/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: n }, (_, i) => record(i, sensor, now - 1000))),
    });
    return { status: res.status, body: (await res.json()) as { accepted: number } };
  };
  const sensors = async () => {
    const res = await fetch(`${apiUrl}/v1/admin/sensors`, { headers: { 'x-api-key': ADMIN } });
    expect(res.status).toBe(200);
    return (await res.json()) as SensorsAnswer;
  };
  return {
    store,
    activity,
    post,
    sensors,
    clock,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const series = (name: string, kind: string, sensor: string) => metricSum(name, { kind, sensor });

describe('sensor activity', () => {
  it('counts the records of each sensor with its last receipt time, and the API lists each with its count once flushed', async () => {
    const s = await setup();
    const envoy = { kind: 'envoy_wasm', id: 'edge-1' };
    const nginx = { kind: 'nginx', id: 'ingress-a' };
    const t0 = s.clock();
    expect((await s.post(envoy, 3)).body.accepted).toBe(3);
    s.advance(2_000);
    expect((await s.post(nginx, 2)).body.accepted).toBe(2);
    expect((await s.post(envoy, 1)).body.accepted).toBe(1);

    expect(await series('meshward_sensor_records_total', 'envoy_wasm', 'edge-1')).toBe(4);
    expect(await series('meshward_sensor_records_total', 'nginx', 'ingress-a')).toBe(2);
    expect(await series('meshward_sensor_last_record_timestamp_seconds', 'envoy_wasm', 'edge-1')).toBe(
      (t0 + 2_000) / 1000,
    );
    expect(await series('meshward_sensor_last_record_timestamp_seconds', 'nginx', 'ingress-a')).toBe(
      (t0 + 2_000) / 1000,
    );

    // nothing reaches the store before a flush: not a write per record
    expect((await s.sensors()).seen).toEqual([]);
    await s.activity.flush();
    expect(await s.sensors()).toEqual({
      // the token the batches were posted with is seen, although its records carry sensor ids of their own
      items: [{ id: 'gw1', lastSeen: t0 + 2_000 }, { id: 'gw-unused' }],
      seen: [
        {
          kind: 'envoy_wasm',
          id: 'edge-1',
          lastSeen: t0 + 2_000,
          records: 4,
          quiet: false,
          quietAfterMinutes: 15,
          alert: true,
        },
        {
          kind: 'nginx',
          id: 'ingress-a',
          lastSeen: t0 + 2_000,
          records: 2,
          quiet: false,
          quietAfterMinutes: 15,
          alert: true,
        },
      ],
      quietAfterMinutes: 15,
    });

    // a second flush adds only what came since; close flushes what is left
    await s.post(nginx, 5);
    await s.activity.flush();
    await s.post(nginx, 1);
    await s.activity.close();
    expect((await s.sensors()).seen.map((x) => x.records)).toEqual([4, 8]);
  });

  it('a collector flushing an older receipt after another flushed a newer one does not move lastSeen back', async () => {
    const s = await setup();
    const envoy = { kind: 'envoy_wasm', id: 'edge-1' };
    const t0 = s.clock();
    // a second collector on the same store took a record of the same sensor (and token) a second earlier
    const other = new SensorActivity({ store: s.store, logger: silentLogger, flushIntervalMs: 3_600_000 });
    closers.push(() => other.close());
    other.accepted(envoy.kind, envoy.id, 1, t0 - 2_000);
    other.tokenUsed('gw1', t0 - 2_000);
    await s.post(envoy, 2);
    await s.activity.flush();
    await other.flush();
    expect(await s.sensors()).toEqual({
      items: [{ id: 'gw1', lastSeen: t0 }, { id: 'gw-unused' }],
      seen: [
        {
          kind: 'envoy_wasm',
          id: 'edge-1',
          lastSeen: t0,
          records: 3,
          quiet: false,
          quietAfterMinutes: 15,
          alert: true,
        },
      ],
      quietAfterMinutes: 15,
    });
  });

  it('flushes on its own every flush interval', async () => {
    const s = await setup({ flushIntervalMs: 50 });
    await s.post({ kind: 'envoy_wasm', id: 'timed' }, 2);
    await expect
      .poll(async () => (await s.sensors()).seen.map((x) => [x.id, x.records]), { timeout: 2_000, interval: 20 })
      .toEqual([['timed', 2]]);
  });

  it.each([
    ['the default', undefined, QUIET_AFTER_MS],
    ['api.sensor_quiet_after_minutes', 3 * 60_000, 3 * 60_000],
  ])('says a sensor is quiet once its last record is older than %s threshold', async (_, quietAfterMs, threshold) => {
    const s = await setup({ quietAfterMs });
    const bus = { kind: 'bus', id: 'orders-tap' };
    const idp = { kind: 'idp', id: 'okta' };
    await s.post(bus, 1);
    await s.post(idp, 1);
    await s.activity.flush();
    s.advance(threshold);
    // exactly the threshold is not yet quiet
    expect((await s.sensors()).quietAfterMinutes).toBe(threshold / 60_000);
    expect((await s.sensors()).seen.map((x) => [x.id, x.quiet])).toEqual([
      ['orders-tap', false],
      ['okta', false],
    ]);
    s.advance(1);
    await s.post(idp, 1);
    await s.activity.flush();
    const seen = (await s.sensors()).seen;
    expect(seen.map((x) => [x.id, x.quiet, x.records])).toEqual([
      ['orders-tap', true, 1],
      ['okta', false, 2],
    ]);
    expect(seen[1].lastSeen - seen[0].lastSeen).toBe(threshold + 1);
  });

  it("says each sensor quiet after its kind's threshold (api.sensor_quiet_by_kind), the default for the others and for a kind at 0", async () => {
    const s = await setup({ quietAfterMsByKind: { idp: 240 * 60_000, bus: 0 } });
    const idp = { kind: 'idp', id: 'okta' };
    const nginx = { kind: 'nginx', id: 'ingress-a' };
    const bus = { kind: 'bus', id: 'rare-topic-tap' };
    for (const sensor of [idp, nginx, bus]) await s.post(sensor, 1);
    await s.activity.flush();
    s.advance(30 * 60_000);
    const quietAt30 = await s.sensors();
    expect(quietAt30.quietAfterMinutes).toBe(15);
    expect(quietAt30.seen.map((x) => [x.kind, x.quiet, x.quietAfterMinutes, x.alert])).toEqual([
      ['bus', true, 15, false],
      ['idp', false, 240, true],
      ['nginx', true, 15, true],
    ]);
    s.advance(210 * 60_000 + 1);
    expect((await s.sensors()).seen.map((x) => [x.kind, x.quiet])).toEqual([
      ['bus', true],
      ['idp', true],
      ['nginx', true],
    ]);
  });

  it('with the alert off (api.sensor_quiet_after_minutes 0) says quiet after the default, and no alert but for a kind of its own', async () => {
    const s = await setup({ quietAfterMs: 0, quietAfterMsByKind: { idp: 60 * 60_000 } });
    for (const sensor of [
      { kind: 'nginx', id: 'ingress-a' },
      { kind: 'idp', id: 'okta' },
    ])
      await s.post(sensor, 1);
    await s.activity.flush();
    s.advance(20 * 60_000);
    const answer = await s.sensors();
    expect(answer.quietAfterMinutes).toBe(15);
    expect(answer.seen.map((x) => [x.kind, x.quiet, x.quietAfterMinutes, x.alert])).toEqual([
      ['idp', false, 60, true],
      ['nginx', true, 15, false],
    ]);
  });

  it('forgets a sensor quiet for more than 30 days at the next hourly look of a flush, and keeps those that send', async () => {
    const s = await setup();
    const gone = { kind: 'envoy_wasm', id: 'decommissioned-1' };
    const live = { kind: 'nginx', id: 'ingress-a' };
    await s.post(gone, 2);
    await s.post(live, 1);
    await s.activity.flush();
    s.advance(FORGET_SENSOR_AFTER_MS - 3600_000);
    await s.post(live, 1);
    await s.activity.flush(); // looked at (an hour since the last look): quiet for 30 days less an hour, kept
    s.advance(3600_000 + 1);
    await s.post(live, 1);
    expect((await s.sensors()).seen.map((x) => x.id)).toEqual(['decommissioned-1', 'ingress-a']);
    await s.activity.flush();
    // quiet for 30 days and 1 ms: both its entries are gone; the live one keeps its count
    expect((await s.sensors()).seen.map((x) => [x.id, x.records])).toEqual([['ingress-a', 3]]);
    expect(await s.store.hgetall('sensors:records')).toEqual({ '["nginx","ingress-a"]': '3' });
  });

  it('counts the sensors past the bound under _other, and the records that overflowed', async () => {
    const s = await setup({ maxSensors: 3 });
    const overflowBefore = await metricSum('meshward_sensor_overflow_records_total');
    const otherBefore = await series('meshward_sensor_records_total', '_other', '_other');
    for (let i = 0; i < 5; i++) await s.post({ kind: 'fastify', id: `bound-${i}` }, i + 1);
    // a sensor already tracked keeps its series
    await s.post({ kind: 'fastify', id: 'bound-0' }, 1);

    for (let i = 0; i < 3; i++)
      expect(await series('meshward_sensor_records_total', 'fastify', `bound-${i}`)).toBe(i + 1 + (i === 0 ? 1 : 0));
    expect(await series('meshward_sensor_records_total', 'fastify', 'bound-3')).toBe(0);
    expect(await series('meshward_sensor_records_total', 'fastify', 'bound-4')).toBe(0);
    expect((await series('meshward_sensor_records_total', '_other', '_other')) - otherBefore).toBe(4 + 5);
    expect((await metricSum('meshward_sensor_overflow_records_total')) - overflowBefore).toBe(4 + 5);

    await s.activity.flush();
    expect((await s.sensors()).seen.map((x) => [x.kind, x.id, x.records])).toEqual([
      ['_other', '_other', 9],
      ['fastify', 'bound-0', 2],
      ['fastify', 'bound-1', 2],
      ['fastify', 'bound-2', 3],
    ]);
  });

  it('a store that fails on flush fails no ingest: logged once, counted, and the counts are written at the next flush that works', async () => {
    const inner = new MemoryStore();
    let failing = true;
    const refuse = (): never => {
      throw new Error('store down');
    };
    // hincr rejects, hsetMax throws before returning a promise: both kinds of failure
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        if (failing && prop === 'hincr') return async () => refuse();
        if (failing && prop === 'hsetMax') return refuse;
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const { lines, logger } = capturingLogger();
    const s = await setup({ store, logger });
    const sensor = { kind: 'kong', id: 'kong-eu' };
    const failuresBefore = await metricSum('meshward_sensor_activity_flush_failures_total');

    expect(await s.post(sensor, 2)).toEqual({ status: 200, body: expect.objectContaining({ accepted: 2 }) });
    await s.activity.flush();
    expect(await s.post(sensor, 1)).toEqual({ status: 200, body: expect.objectContaining({ accepted: 1 }) });
    await s.activity.flush();
    expect(await series('meshward_sensor_records_total', 'kong', 'kong-eu')).toBe(3);
    expect((await metricSum('meshward_sensor_activity_flush_failures_total')) - failuresBefore).toBe(2);
    const warned = lines.filter((l) => String(l.msg).startsWith('sensor activity not written'));
    expect(warned).toHaveLength(1);
    expect(await inner.hgetall('sensors:records')).toEqual({});

    failing = false;
    await s.activity.flush();
    expect((await s.sensors()).seen).toEqual([
      {
        kind: 'kong',
        id: 'kong-eu',
        lastSeen: expect.any(Number),
        records: 3,
        quiet: false,
        quietAfterMinutes: 15,
        alert: true,
      },
    ]);
  });
});
