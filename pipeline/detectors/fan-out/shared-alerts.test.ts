import { describe, expect, it } from 'vitest';
import { apiCall } from '../../../test/harness/api-call.js';
import { flakyStore, onEachStore } from '../../../test/harness/mesh-stores.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Store } from '../../store/store.js';
import type { Detector, MeshScope } from '../detector.js';
import { CapturingContext } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { FanOutConfigSchema } from './config.js';
import { fanOutFactory } from './factory.js';
import { episodeKey } from './shared-alerts.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const RESOLVE_MS = 600_000;
const config = checkConfig('fan_out', FanOutConfigSchema, { min_traces: 5, min_calls: 10 });

/** a trace of mallory's GET /api/x at the front end with `calls` backend calls, 10 ms apart, from `ts` */
function trace(id: string, ts: number, calls: number): ApiCallRecord[] {
  const root = apiCall({
    id: `${id}-0`,
    ts,
    service: 'frontend',
    method: 'GET',
    path: '/api/x',
    route: '/api/x',
    source: { ip: '198.51.100.9' },
    user: { sub: 'mallory' },
    trace: { traceId: id, spanId: 'r' },
  });
  const backend = Array.from({ length: calls }, (_, i) =>
    apiCall({
      id: `${id}-${i + 1}`,
      ts: ts + (i + 1) * 10,
      service: 'orders',
      method: 'GET',
      path: `/orders/${i}`,
      route: '/orders/{id}',
      source: { ip: '10.0.0.1', service: 'frontend' },
      trace: { traceId: id, spanId: `s${i}`, parentSpanId: 'r' },
    }),
  );
  return [root, ...backend];
}

/** a trace stream partition's shard: its fan_out detector, joined to the mesh unless `alone`, with a baseline of 2 */
function shardAt(store: Store, partition: number, alone = false, d: Detector = fanOutFactory.create(config)) {
  const scope: MeshScope = { store, partition, group: 'g1.trace' };
  if (!alone) d.joinMesh?.(scope);
  const ctx = Object.assign(new CapturingContext(), { resolveAfterMs: RESOLVE_MS });
  const feed = (records: ApiCallRecord[]) => {
    for (const r of records) d.observe?.(r, ctx);
  };
  return {
    d,
    ctx,
    feed,
    sync: () => d.syncMesh?.(ctx) ?? Promise.resolve(),
    /** five ordinary traces, closed by the time of the first amplified one */
    warm: () => {
      for (let i = 0; i < 5; i++) feed(trace(`n${partition}-${i}`, T0 + i * 1000, 2));
    },
  };
}

const AT = T0 + 60_000;

function sharedScenarios(name: string, open: () => Promise<Store>) {
  describe(`fan_out alerts across trace stream partitions (${name})`, () => {
    it("one alert for one front end's amplified requests on two partitions, with both partitions' calls", async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      a.warm();
      b.warm();
      a.feed(trace('big-a', AT, 30));
      b.feed(trace('big-b', AT + 5_000, 40));
      // across partitions nothing is signalled at a record: the first to claim the episode signals at its sync
      expect([...a.ctx.signals, ...b.ctx.signals]).toEqual([]);
      await a.sync();
      await b.sync();
      expect(b.ctx.signals).toEqual([]);
      expect(a.ctx.signals).toHaveLength(1);
      expect(a.ctx.signals[0]).toMatchObject({
        kind: 'fan_out',
        service: 'frontend',
        subject: { value: 'mallory' },
        since: AT,
        at: AT + 300,
        metrics: { requests: 1, backend_calls: 30 },
      });
      // a reads b's part at its next sync: the alert says both, at b's last call
      await a.sync();
      expect(a.ctx.signals).toHaveLength(2);
      expect(a.ctx.signals[1]).toMatchObject({
        since: AT,
        at: AT + 5_400,
        metrics: { requests: 2, backend_calls: 70, max_backend_calls: 40, partitions: 2 },
      });
      expect(a.ctx.signals[1].observed).toContain('2 traces (big-a, big-b)');
      // nothing changed: no signal
      await a.sync();
      await b.sync();
      expect(a.ctx.signals).toHaveLength(2);
      expect(b.ctx.signals).toEqual([]);
      expect(a.d.stats?.()).toMatchObject({ shared_unwritten: 0, shared_signalling: 1 });
      expect(b.d.stats?.()).toMatchObject({ shared_unwritten: 0, shared_signalling: 0 });
    });

    it('without the mesh each partition raises its own alert: twins', async () => {
      const store = await open();
      const a = shardAt(store, 0, true);
      const b = shardAt(store, 1, true);
      a.warm();
      b.warm();
      a.feed(trace('big-a', AT, 30));
      b.feed(trace('big-b', AT + 5_000, 40));
      expect(a.ctx.signals.length).toBeGreaterThan(0);
      expect(b.ctx.signals.length).toBeGreaterThan(0);
      expect(a.d.stats?.()).not.toHaveProperty('shared_writes');
    });

    it('a shard replaying from its checkpoint writes the same part again: nothing is counted twice', async () => {
      const store = await open();
      const a = shardAt(store, 0);
      a.warm();
      a.feed(trace('big-a', AT, 30));
      const checkpoint = JSON.parse(JSON.stringify(a.d.snapshot()));
      const later = trace('big-a2', AT + 1_000, 20);
      a.feed(later);
      await a.sync();
      expect(a.ctx.signals.at(-1)?.metrics).toMatchObject({ requests: 2, backend_calls: 50 });
      // a crashes; its partition's next owner restores the checkpoint (the part not written yet) and replays
      const again = shardAt(store, 0, false, fanOutFactory.create(config));
      again.d.restore(checkpoint);
      again.feed(later);
      await again.sync();
      const b = shardAt(store, 1);
      b.warm();
      b.feed(trace('big-b', AT + 2_000, 15));
      await b.sync();
      await again.sync();
      // the same partition 0, still the one that signals; 30 + 20 + 15, not 30 + 20 + 30 + 20 + 15
      expect(b.ctx.signals).toEqual([]);
      expect(again.ctx.signals.at(-1)?.metrics).toMatchObject({ requests: 3, backend_calls: 65, partitions: 2 });
      expect(again.ctx.signals.at(-1)?.since).toBe(AT);
    });

    it('after the resolve window without calls, the next amplified request opens a new episode', async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      a.warm();
      b.warm();
      a.feed(trace('big-a', AT, 30));
      await a.sync();
      const later = AT + RESOLVE_MS + 60_000;
      // b's baseline is ten minutes old but still there; its request comes after the first alert went quiet
      b.feed(trace('big-b', later, 25));
      await b.sync();
      expect(b.ctx.signals).toHaveLength(1);
      expect(b.ctx.signals[0]).toMatchObject({ since: later, metrics: { requests: 1, backend_calls: 25 } });
      await a.sync();
      expect(a.ctx.signals).toHaveLength(1);
      expect(a.d.stats?.()).toMatchObject({ shared_signalling: 0 });
      expect(
        JSON.parse((await store.get(episodeKey({ store, partition: 0, group: 'g1.trace' }, keyOfMallory))) ?? '{}'),
      ).toMatchObject({ p: 1, since: later });
    });
  });
}

/** the detector's key of mallory's alert at GET /api/x (service, endpoint, subject) */
const keyOfMallory = 'frontend\u0000GET /api/x\u0000user:mallory';

onEachStore(sharedScenarios);

describe('fan_out alerts across partitions, when the store fails', () => {
  it('a failed sync throws and keeps the part; the next one writes it and signals', async () => {
    let down = true;
    const flaky = flakyStore(() => down);
    const a = shardAt(flaky, 0);
    a.warm();
    a.feed(trace('big-a', AT, 30));
    await expect(a.sync()).rejects.toThrow('store down');
    expect(a.d.stats?.()).toMatchObject({ shared_unwritten: 1, shared_writes: 0 });
    down = false;
    await a.sync();
    expect(a.ctx.signals.map((s) => s.metrics.backend_calls)).toEqual([30]);
    expect(a.d.stats?.()).toMatchObject({ shared_unwritten: 0, shared_writes: 1 });
  });
});
