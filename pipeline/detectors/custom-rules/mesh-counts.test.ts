import { describe, expect, it } from 'vitest';
import { apiCall } from '../../../test/harness/api-call.js';
import { flakyStore, onEachStore } from '../../../test/harness/mesh-stores.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Store } from '../../store/store.js';
import type { Detector, MeshScope } from '../detector.js';
import { CapturingContext } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { CustomRulesConfigSchema } from './config.js';
import { customRulesFactory } from './factory.js';
import { sharedCountKey } from './shared-count.js';

const SEC = 1000;
/** the start of an aligned minute */
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
/** a failed login at `service` from 203.0.113.7 */
const call = (service: string, ts: number, o: Partial<ApiCallRecord> = {}): ApiCallRecord =>
  apiCall({
    service,
    ts,
    method: 'POST',
    path: '/login',
    route: '/login',
    status: 401,
    source: { ip: '203.0.113.7' },
    ...o,
  });

/** failed logins per address, at any service: a group that spans services (and partitions) */
const FAILED_LOGINS = {
  name: 'failed-logins',
  severity: 'high',
  when: 'status == 401',
  group_by: ['source.ip'],
  threshold: 5,
  window_seconds: 60,
};
/** the same per service: each group is one service's, so one partition's */
const PER_SERVICE = { ...FAILED_LOGINS, name: 'failed-logins-per-service', group_by: ['service', 'source.ip'] };

const detector = (extra: Record<string, unknown> = {}, rules: unknown[] = [FAILED_LOGINS]) =>
  customRulesFactory.create(
    customRulesFactory.prepare!(checkConfig('custom_rules', CustomRulesConfigSchema, { rules, ...extra })),
  );

/** one partition's shard: its detector joined to the mesh, and the signals it raised */
function shardAt(store: Store, partition: number, d: Detector = detector()) {
  const scope: MeshScope = { store, partition, group: 'g1' };
  d.joinMesh?.(scope);
  const ctx = new CapturingContext();
  return {
    d,
    ctx,
    feed: (records: ApiCallRecord[]) => {
      for (const r of records) d.observe?.(r, ctx);
    },
    sync: () => d.syncMesh?.(ctx) ?? Promise.resolve(),
  };
}

const logins = (service: string, count: number, from: number, o: Partial<ApiCallRecord> = {}) =>
  Array.from({ length: count }, (_, i) => call(service, from + i * SEC, o));

/** the scenarios below, against a store: the in-memory one, and Redis */
function meshScenarios(name: string, open: () => Promise<Store>) {
  describe(`custom rules counted across partitions (${name})`, () => {
    it('counts an address failing at two services on two partitions as one group, and one shard signals it', async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      a.feed(logins('accounts', 3, T0));
      b.feed(logins('billing', 3, T0 + 10 * SEC));
      // counted across partitions, nothing is signalled at a record: each shard's 3 is below the threshold
      expect([...a.ctx.signals, ...b.ctx.signals]).toEqual([]);
      await a.sync();
      expect(a.ctx.signals).toEqual([]);
      await b.sync();
      // b's share took the total to 6: b claims the alert
      expect(b.ctx.signals).toHaveLength(1);
      const s = b.ctx.signals[0];
      expect(s).toMatchObject({
        kind: 'custom_rule',
        service: 'billing',
        subject: { type: 'ip', value: '203.0.113.7' },
        since: T0 + 10 * SEC,
        metrics: { requests: 6, threshold: 5, window_s: 60, partitions: 2 },
        labels: { rule: 'failed-logins', group: 'source.ip=203.0.113.7' },
      });
      expect(s.summary).toContain('6 matching calls in 1 min across 2 partitions');
      expect(s.observed).toContain('3 of them here');
      // a's later matches raise the total to 12: a does not signal (b does), b reads the total at its next sync
      a.feed(logins('accounts', 6, T0 + 20 * SEC));
      await a.sync();
      expect(a.ctx.signals).toEqual([]);
      await b.sync();
      expect(b.ctx.signals.map((x) => x.metrics.requests)).toEqual([6, 12]);
      expect(a.d.stats?.()).toMatchObject({ shared_pending: 0, shared_signalling: 0 });
      expect(b.d.stats?.()).toMatchObject({ shared_pending: 0, shared_signalling: 1 });
    });

    it('without the mesh (count_across_partitions false) each shard counts its own share and misses the address', async () => {
      const store = await open();
      const a = shardAt(store, 0, detector({ count_across_partitions: false }));
      const b = shardAt(store, 1, detector({ count_across_partitions: false }));
      a.feed(logins('accounts', 3, T0));
      b.feed(logins('billing', 3, T0 + 10 * SEC));
      await a.sync();
      await b.sync();
      expect([...a.ctx.signals, ...b.ctx.signals]).toEqual([]);
      expect(a.d.stats?.()).not.toHaveProperty('shared_pending');
    });

    it('a rule grouped by service stays in its partition and signals at the record', async () => {
      const store = await open();
      const a = shardAt(store, 0, detector({}, [PER_SERVICE]));
      a.feed(logins('accounts', 5, T0));
      expect(a.ctx.signals).toHaveLength(1);
      expect(a.ctx.signals[0].metrics).toEqual({ requests: 5, threshold: 5, window_s: 60 });
      expect(a.d.stats?.()).not.toHaveProperty('shared_pending');
    });

    it('a shard replaying from its checkpoint writes the same share again: nothing is counted twice', async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      a.feed(logins('accounts', 2, T0));
      // as the correlator stores it
      const checkpoint = JSON.parse(JSON.stringify(a.d.snapshot()));
      const later = logins('accounts', 2, T0 + 5 * SEC);
      a.feed(later);
      await a.sync();
      // a crashes; its partition's next owner restores the checkpoint and replays the records after it
      const again = shardAt(store, 0, detector());
      again.d.restore(checkpoint);
      again.feed(later);
      await again.sync();
      b.feed(logins('billing', 1, T0 + 30 * SEC));
      await b.sync();
      // 2 + 2 at partition 0 (written twice), 1 at partition 1: 5, not 7
      const key = sharedCountKey(
        { store, partition: 0, group: 'g1' },
        'failed-logins',
        Math.floor(T0 / 60_000),
        'failed-logins\u0000203.0.113.7',
      );
      expect(JSON.parse((await store.get(key)) ?? '{}')).toEqual({ 0: 4, 1: 1 });
      expect(b.ctx.signals.map((x) => x.metrics.requests)).toEqual([5]);
    });

    it('windows are aligned: a match in the next minute opens a new count, and the last share of the old one is still written', async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      b.feed(logins('billing', 2, T0 + 50 * SEC));
      await b.sync();
      // a's 3 matches of the first minute are not yet synced when its next match (the next minute) arrives
      a.feed(logins('accounts', 3, T0 + 40 * SEC));
      a.feed(logins('accounts', 1, T0 + 61 * SEC));
      await a.sync();
      // the first minute's total reached 5 at a's final share; a claims it
      expect(a.ctx.signals.map((x) => x.metrics.requests)).toEqual([5]);
      expect(a.ctx.signals[0].since).toBe(T0 + 40 * SEC);
      const minute = Math.floor(T0 / 60_000);
      const scope = { store, partition: 0, group: 'g1' };
      const key = (w: number) => sharedCountKey(scope, 'failed-logins', w, 'failed-logins\u0000203.0.113.7');
      expect(JSON.parse((await store.get(key(minute))) ?? '{}')).toEqual({ 0: 3, 1: 2 });
      expect(JSON.parse((await store.get(key(minute + 1))) ?? '{}')).toEqual({ 0: 1 });
    });

    it('a group evicted by max_groups before its share was written still has it written', async () => {
      const store = await open();
      const a = shardAt(store, 0, detector({ max_groups: 1 }));
      a.feed(logins('accounts', 3, T0));
      a.feed(logins('accounts', 1, T0 + 5 * SEC, { source: { ip: '198.51.100.1' } }));
      expect(a.d.stats?.()).toMatchObject({ groups: 1, groups_evicted: 1, shared_pending: 2 });
      await a.sync();
      const b = shardAt(store, 1);
      b.feed(logins('billing', 2, T0 + 9 * SEC));
      await b.sync();
      expect(b.ctx.signals.map((x) => x.metrics.requests)).toEqual([5]);
    });

    it('a checkpoint keeps the shares not yet written; a restored shard writes them', async () => {
      const store = await open();
      const a = shardAt(store, 0);
      a.feed(logins('accounts', 4, T0));
      a.feed(logins('accounts', 1, T0 + 70 * SEC));
      const restored = shardAt(store, 0, detector());
      restored.d.restore(JSON.parse(JSON.stringify(a.d.snapshot())));
      expect(restored.d.stats?.()).toMatchObject({ shared_pending: 2 });
      await restored.sync();
      // the first minute's share (4) and the second's (1)
      expect(restored.d.stats?.()).toMatchObject({ shared_pending: 0, shared_writes: 2 });
      const b = shardAt(store, 1);
      b.feed(logins('billing', 1, T0 + 59 * SEC));
      await b.sync();
      expect(b.ctx.signals.map((x) => x.metrics.requests)).toEqual([5]);
    });
  });
}

onEachStore(meshScenarios);

describe('custom rules counted across partitions, when the store fails', () => {
  it('a failed sync throws and keeps its shares; the next one writes them and signals', async () => {
    let down = true;
    const flaky = flakyStore(() => down);
    const a = shardAt(flaky, 0);
    a.feed(logins('accounts', 5, T0));
    await expect(a.sync()).rejects.toThrow('store down');
    expect(a.d.stats?.()).toMatchObject({ shared_pending: 1, shared_writes: 0 });
    down = false;
    await a.sync();
    expect(a.ctx.signals.map((x) => x.metrics.requests)).toEqual([5]);
    expect(a.d.stats?.()).toMatchObject({ shared_pending: 0, shared_writes: 1 });
  });
});
