import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertMessage, TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { writeSensorActivity } from '../collector/sensor-activity-store.js';
import { SensorQuietWatch } from '../collector/sensor-quiet-watch.js';
import { resolveConfig } from '../config/load.js';
import type { Alert } from '../core/alert.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { type RunningRole, runApi } from './roles.js';

const VIEWER = 'viewer-key-0123456789';
const ADMIN = 'admin-key-0123456789';
const MINUTE = 60_000;

/**
 * The API role as `meshward start` and `meshward api` run it: its watcher raises sensor_quiet for a sensor the
 * collectors last heard from 20 minutes ago, and the alert takes the alerts topic into the analysts' store like any other.
 */
describe('sensor_quiet through the API role', () => {
  const roles: RunningRole[] = [];
  afterAll(async () => {
    for (const r of roles.reverse()) await r.close();
  });

  it('lists the alert at GET /v1/alerts, and resolves it there once the sensor sends again', async () => {
    const store = new MemoryStore();
    const bus = new MemoryBus({ partitions: 1 });
    const lastRecord = Date.now() - 20 * MINUTE;
    await writeSensorActivity(store, [
      { kind: 'envoy_wasm', id: 'edge-7', records: 12, lastAt: lastRecord },
      // a tap on a rare topic, as quiet, under a threshold of its kind's: looked at before edge-7 (by kind), not raised
      { kind: 'bus', id: 'rare-topic-tap', records: 3, lastAt: lastRecord },
    ]);
    const config = resolveConfig({
      data_dir: join(mkdtempSync(join(tmpdir(), 'meshward-quiet-')), 'data'),
      api: {
        listen: '127.0.0.1:0',
        api_keys: [
          { name: 'vic', key: VIEWER, role: 'viewer' },
          { name: 'ada', key: ADMIN, role: 'admin' },
        ],
        sensor_quiet_after_minutes: 10,
        sensor_quiet_by_kind: { bus: 240 },
      },
    });
    const api = await runApi({ config, bus, store, logger: silentLogger });
    roles.push(api);
    const get = async (path: string, key = VIEWER) =>
      (await (await fetch(`${api.url}${path}`, { headers: { 'x-api-key': key } })).json()) as Record<string, unknown>;

    const listed = async () => (await get('/v1/alerts?kind=sensor_quiet')).items as Alert[];
    await expect.poll(async () => (await listed()).length, { timeout: 10_000, interval: 50 }).toBe(1);
    const [alert] = await listed();
    expect(alert).toMatchObject({
      expected: 'a record at least every 10 min',
      kind: 'sensor_quiet',
      state: 'open',
      severity: 'medium',
      service: 'meshward',
      subject: { type: 'sensor', value: 'envoy_wasm/edge-7' },
      firstSeen: lastRecord,
    });
    // the admin API's quiet is the same threshold, each sensor's own
    const sensors = await get('/v1/admin/sensors', ADMIN);
    expect(sensors).toMatchObject({
      quietAfterMinutes: 10,
      seen: [
        { id: 'rare-topic-tap', quiet: false, quietAfterMinutes: 240 },
        { id: 'edge-7', quiet: true, quietAfterMinutes: 10 },
      ],
    });

    // the sensor sends again; the next look (another replica's here, a minute on) resolves the alert
    await writeSensorActivity(store, [{ kind: 'envoy_wasm', id: 'edge-7', records: 1, lastAt: Date.now() }]);
    await new SensorQuietWatch({
      store,
      publish: (a) => bus.publish(TOPICS.alerts, [alertMessage(a)]),
      logger: silentLogger,
      quietAfterMs: 10 * MINUTE,
      quietAfterMsByKind: { bus: 240 * MINUTE },
      severity: 'medium',
      clock: () => Date.now() + MINUTE,
    }).check();
    await expect
      .poll(async () => ((await get(`/v1/alerts/${alert.id}`)).alert as Alert).state, { timeout: 10_000, interval: 50 })
      .toBe('resolved');
    expect(await listed()).toHaveLength(1);

    // a watcher that takes over a raise and a resolve another stopped in publishes both again: one alert, as it was
    const detail = async () => get(`/v1/alerts/${alert.id}`) as Promise<{ alert: Alert; notes: unknown[] }>;
    const before = await detail();
    expect(before.alert.state).toBe('resolved');
    // then another alert: once it is stored, the two before it on the topic's one partition are too
    const marker = { ...alert, id: 'marker-after-repeats', kind: 'error_burst' };
    await bus.publish(TOPICS.alerts, [alertMessage(alert), alertMessage(before.alert), alertMessage(marker)]);
    await expect
      .poll(async () => ((await get(`/v1/alerts/${marker.id}`)).alert as Alert | undefined)?.id, {
        timeout: 10_000,
        interval: 50,
      })
      .toBe(marker.id);
    expect(await detail()).toEqual(before);
    expect(await listed()).toHaveLength(1);
  });
});
