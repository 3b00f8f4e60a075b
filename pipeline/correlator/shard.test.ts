import { describe, expect, it } from 'vitest';
import { metricSum } from '../../test/harness/metrics.js';
import type { Detector } from '../detectors/detector.js';
import { ApiDiscovery } from '../detectors/api-discovery/api-discovery.js';
import { apiDiscoveryFactory } from '../detectors/api-discovery/factory.js';
import { enumerationFactory } from '../detectors/enumeration/factory.js';
import { replay } from './replay.js';
import { Shard } from './shard.js';
import { sampleRecord } from '../../sensors/common/test-records.js';
import { steadyTraffic } from './testdata/records.js';
import { thresholdDetector } from './testdata/test-detectors.js';
import { VAULT_CATALOG as catalog } from '../detectors/api-discovery/testdata/vault-catalog.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

describe('Shard', () => {
  it('closes service and endpoint windows by event time with templated endpoints and quantiles', () => {
    const d = thresholdDetector();
    const shard = new Shard([d]);
    for (const r of steadyTraffic({ start: T0, minutes: 3, perMinute: 60, services: ['orders'] })) shard.process(r);
    // the third minute stays open (watermark minus lateness has not passed its end)
    const service = d.windows.filter((w) => w.endpoint === undefined);
    expect(service.map((w) => w.start)).toEqual([T0, T0 + 60_000]);
    expect(service[0]).toMatchObject({ count: 60, errors: 0, rate: 1 });
    expect(service[0].p50).toBeGreaterThan(19);
    expect(service[0].p99).toBeLessThan(28);
    const endpoints = new Set(d.windows.filter((w) => w.endpoint).map((w) => w.endpoint));
    expect([...endpoints]).toEqual(['GET /v1/items/{id}']);
  });

  it('a detector that throws on a record or a window loses that input alone; the others, and the shard, go on', async () => {
    const d = thresholdDetector(0.3);
    const broken: Detector = {
      type: 'test_broken',
      observe: (r) => {
        if (r.id.endsWith('7')) throw new Error('a bug on this record');
      },
      onWindow: () => {
        throw new Error('a bug on every window');
      },
      snapshot: () => null,
      restore: () => {},
    };
    const told: string[] = [];
    const shard = new Shard([broken, d], {
      onDetectorError: (type, err) => told.push(`${type}: ${(err as Error).message}`),
    });
    const errors = (input: string) => metricSum('meshward_detector_errors_total', { detector: 'test_broken', input });
    const before = { record: await errors('record'), window: await errors('window') };
    const records = steadyTraffic({ start: T0, minutes: 3, perMinute: 60, services: ['orders'] });
    for (const r of records) shard.process(r);
    // the threshold detector behind it saw every window, as without the broken one
    expect(d.windows.filter((w) => w.endpoint === undefined).map((w) => w.start)).toEqual([T0, T0 + 60_000]);
    const thrownOn = records.filter((r) => r.id.endsWith('7')).length;
    expect(thrownOn).toBeGreaterThan(0);
    expect(await errors('record')).toBe(before.record + thrownOn);
    expect(await errors('window')).toBe(before.window + d.windows.length);
    expect(told).toContain('test_broken: a bug on this record');
    expect(told).toContain('test_broken: a bug on every window');
  });

  it('emits zero windows for a series that went quiet while others continue', () => {
    const d = thresholdDetector();
    const shard = new Shard([d], { endpointSeries: false });
    const a = steadyTraffic({ start: T0, minutes: 2, perMinute: 10, services: ['quiet'] });
    const b = steadyTraffic({ start: T0, minutes: 6, perMinute: 10, services: ['busy'] });
    for (const r of [...a, ...b].sort((x, y) => x.ts - y.ts)) shard.process(r);
    const quiet = d.windows.filter((w) => w.service === 'quiet');
    expect(quiet.map((w) => w.count)).toEqual([10, 10, 0, 0, 0]);
  });

  it('advanceTo moves event time without a record: zero windows for the quiet service, its quiet alert resolved', () => {
    // orders fails its first three minutes, then its traffic stops altogether (the whole partition goes quiet)
    const records = steadyTraffic({
      start: T0,
      minutes: 5,
      perMinute: 20,
      services: ['orders'],
      failing: (_s, m) => m < 3,
    });
    const last = records[records.length - 1].ts;
    const make = () => {
      const d = thresholdDetector();
      return { d, shard: new Shard([d], { endpointSeries: false, resolveAfterMs: 5 * 60_000 }) };
    };
    const idle = make();
    for (const r of records) idle.shard.process(r);
    const before = idle.shard.drain();
    expect(before.alerts).toMatchObject([{ kind: 'error_burst', service: 'orders', state: 'open' }]);
    expect(idle.d.windows.map((w) => w.count)).toEqual([20, 20, 20, 20]);
    // a time not past the watermark changes nothing
    idle.shard.advanceTo(last - 1000);
    expect(idle.shard.eventTime()).toBe(last);
    expect(idle.shard.drain()).toEqual({ alerts: [], windows: [] });

    idle.shard.advanceTo(T0 + 15 * 60_000);
    expect(idle.shard.eventTime()).toBe(T0 + 15 * 60_000);
    const after = idle.shard.drain();
    // the last minute of traffic, then zero windows up to the new boundary (15 min less lateness)
    expect(idle.d.windows.map((w) => w.count)).toEqual([20, 20, 20, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(after.windows.map((w) => w.start)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (4 + i) * 60_000));
    expect(after.alerts).toMatchObject([{ id: before.alerts[0].id, state: 'resolved' }]);

    // exactly what a record of that timestamp (another service's) does to the quiet service
    const recorded = make();
    for (const r of records) recorded.shard.process(r);
    recorded.shard.drain();
    recorded.shard.process(sampleRecord(1, { ts: T0 + 15 * 60_000, service: 'probe' }));
    const byRecord = recorded.shard.drain();
    expect(byRecord.alerts).toEqual(after.alerts);
    expect(byRecord.windows.filter((w) => w.service === 'orders')).toEqual(after.windows);
  });

  it('advanceTo raises a generic signal held for its subject once the hold has passed, with no record after it', () => {
    let emitted = false;
    const generic: Detector = {
      type: 'test_generic',
      observe(r, ctx) {
        if (emitted) return;
        emitted = true;
        ctx.emit({
          kind: 'excessive_calls',
          severity: 'medium',
          service: r.service,
          endpoint: ctx.endpointOf(r),
          subject: { type: 'user', value: 'u1' },
          at: r.ts,
          summary: 'u1 made 400 calls',
          recordIds: [r.id],
          metrics: { requests: 400, threshold: 30 },
        });
      },
      snapshot: () => null,
      restore: () => {},
    };
    const shard = new Shard([generic]);
    const r = sampleRecord(1, { ts: T0 + 10_000, service: 'orders' });
    shard.process(r);
    // held subject_hold_seconds (30 s) for a more specific alert of its subject
    shard.advanceTo(T0 + 39_000);
    expect(shard.drain().alerts).toEqual([]);
    shard.advanceTo(T0 + 40_000);
    expect(shard.drain().alerts).toMatchObject([
      { kind: 'excessive_calls', service: 'orders', subject: { value: 'u1' }, firstSeen: T0 + 10_000, state: 'open' },
    ]);
  });

  it('groups repeated firing into one alert, resolves it when quiet, and replays deterministically', async () => {
    const records = steadyTraffic({
      start: T0,
      minutes: 40,
      perMinute: 20,
      services: ['orders', 'users'],
      failing: (s, m) => s === 'orders' && m >= 5 && m < 9,
    });
    const run = () => replay(records, { detectors: [thresholdDetector()], resolveAfterMs: 5 * 60_000 });
    const first = await run();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      kind: 'error_burst',
      service: 'orders',
      count: 4,
      state: 'resolved',
      firstSeen: T0 + 6 * 60_000,
    });
    expect(first[0].evidence.recordIds.length).toBeGreaterThan(0);
    const second = await run();
    expect(second).toEqual(first);
  });

  it('continues identically from a snapshot taken mid-stream', () => {
    const records = steadyTraffic({
      start: T0,
      minutes: 30,
      perMinute: 10,
      services: ['a', 'b'],
      failing: (_s, m) => m % 7 === 3,
    });
    const straight = new Shard([thresholdDetector()]);
    for (const r of records) straight.process(r);
    const half = Math.floor(records.length / 2);
    const before = new Shard([thresholdDetector()]);
    for (const r of records.slice(0, half)) before.process(r);
    const beforeOut = before.drain();
    const restored = new Shard([thresholdDetector()]);
    restored.restore(JSON.parse(JSON.stringify(before.snapshot())));
    for (const r of records.slice(half)) restored.process(r);
    const a = straight.drain();
    const b = restored.drain();
    const byId = new Map([...beforeOut.alerts, ...b.alerts].map((x) => [x.id, x]));
    expect([...byId.values()].sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      [...a.alerts].sort((x, y) => x.id.localeCompare(y.id)),
    );
    expect(straight.snapshot()).toEqual(restored.snapshot());
  });

  it("the inventory's route is the endpoint id: enumeration of a catalogued or learnt word parameter is seen", () => {
    const words = (
      'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec ' +
      'romeo sierra tango'
    ).split(' ');
    // no route of its own: the shard asks the inventory
    const calls = words.map((w, i) =>
      sampleRecord(i, {
        ts: T0 + i * 1000,
        service: 'vault',
        host: 'vault.svc',
        path: `/keys/${w}`,
        route: undefined,
        status: 404,
        source: { ip: '203.0.113.9' },
        user: { sub: 'mallory' },
      }),
    );
    const run = (catalog_routes: boolean, route_max_distinct = 200, route_min_novel = 0) => {
      const shard = new Shard([
        new ApiDiscovery(
          { ...apiDiscoveryFactory.defaultConfig, catalog_routes, route_max_distinct, route_min_novel },
          { catalog },
        ),
        enumerationFactory.create({ ...enumerationFactory.defaultConfig, min_distinct: 10 }),
      ]);
      for (const r of calls) shard.process(r);
      return shard.drain().alerts.filter((a) => a.kind === 'enumeration');
    };
    const seen = run(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ service: 'vault', endpoint: 'GET /keys/{keyName}' });
    // by value shape alone every word is an endpoint of its own, without a parameter to enumerate
    expect(run(false)).toEqual([]);
    // uncatalogued, the inventory's learnt fold (after 5 words) becomes the endpoint id too: the next 15 are counted
    const learnt = run(false, 5);
    expect(learnt).toHaveLength(1);
    expect(learnt[0]).toMatchObject({ service: 'vault', endpoint: 'GET /keys/{param}' });
    // the same by novelty: the first 5 calls brought 5 new words
    expect(run(false, 200, 5)).toMatchObject([{ service: 'vault', endpoint: 'GET /keys/{param}' }]);
    // a handover before the fold (3 words counted): the restored shard folds at the same call, the alert is the same
    const shard = () =>
      new Shard([
        new ApiDiscovery({
          ...apiDiscoveryFactory.defaultConfig,
          catalog_routes: false,
          route_max_distinct: 5,
          route_min_novel: 0,
        }),
        enumerationFactory.create({ ...enumerationFactory.defaultConfig, min_distinct: 10 }),
      ]);
    const before = shard();
    for (const r of calls.slice(0, 3)) before.process(r);
    const after = shard();
    after.restore(JSON.parse(JSON.stringify(before.snapshot())));
    for (const r of calls.slice(3)) after.process(r);
    expect(after.drain().alerts.filter((a) => a.kind === 'enumeration')).toEqual(learnt);
  });
});
