import { describe, expect, it } from 'vitest';
import { apiCall } from '../../../test/harness/api-call.js';
import { onEachStore } from '../../../test/harness/mesh-stores.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Store } from '../../store/store.js';
import type { Detector, MeshScope } from '../detector.js';
import { CapturingContext } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { CredentialStuffingConfigSchema } from './config.js';
import { credentialStuffingFactory } from './factory.js';

const SEC = 1000;
/** the start of an aligned 10-minute window */
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const IP = '203.0.113.50';
const config = checkConfig('credential_stuffing', CredentialStuffingConfigSchema, {});

/** `n` failed logins from IP at `service`, each for another user (`prefix`0, `prefix`1, …) */
const failures = (service: string, n: number, from: number, prefix: string): ApiCallRecord[] =>
  Array.from({ length: n }, (_, i) =>
    apiCall({
      service,
      ts: from + i * SEC,
      method: 'POST',
      path: '/login',
      route: '/login',
      status: 401,
      source: { ip: IP },
      user: { sub: `${prefix}${i}` },
    }),
  );

/** one partition's shard of the calls topic: its credential_stuffing detector, joined to the mesh unless `alone` */
function shardAt(
  store: Store,
  partition: number,
  alone = false,
  d: Detector = credentialStuffingFactory.create(config),
) {
  const scope: MeshScope = { store, partition, group: 'g1' };
  if (!alone) d.joinMesh?.(scope);
  const ctx = Object.assign(new CapturingContext(), { resolveAfterMs: 600_000 });
  return {
    d,
    ctx,
    feed: (records: ApiCallRecord[]) => {
      for (const r of records) d.observe?.(r, ctx);
    },
    sync: () => d.syncMesh?.(ctx) ?? Promise.resolve(),
  };
}

function sharedScenarios(name: string, open: () => Promise<Store>) {
  describe(`credential stuffing across partitions (${name})`, () => {
    it("an address failing at two services' login endpoints, 8 users each: one alert for 16", async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      a.feed(failures('accounts', 8, T0, 'a'));
      b.feed(failures('billing', 8, T0 + 30 * SEC, 'b'));
      // below the threshold (15) on each partition: no alert at a record
      expect([...a.ctx.signals, ...b.ctx.signals]).toEqual([]);
      await a.sync();
      expect(a.ctx.signals).toEqual([]);
      await b.sync();
      // b's share took the total to 16: b claims the address's alert
      expect(b.ctx.signals).toHaveLength(1);
      expect(b.ctx.signals[0]).toMatchObject({
        kind: 'credential_stuffing',
        service: 'billing',
        subject: { type: 'ip', value: IP },
        since: T0 + 30 * SEC,
        metrics: { distinct_users: 16, partitions: 2, failures: 8 },
      });
      expect(b.ctx.signals[0].summary).toContain('16 distinct users failed to log in from 203.0.113.50');
      // more users at billing: 8 + 14 = 22, short of the next level (32); 20 more there: b alone reaches the
      // threshold (a share counts up to it, 15) and raises its own alert; the shared one is not signalled again
      b.feed(failures('billing', 6, T0 + 60 * SEC, 'c'));
      await a.sync();
      await b.sync();
      expect(b.ctx.signals).toHaveLength(1);
      b.feed(failures('billing', 20, T0 + 90 * SEC, 'd'));
      expect(b.ctx.signals.slice(0, 2).map((x) => x.summary)).toEqual([
        '16 distinct users failed to log in from 203.0.113.50 at services on 2 partitions within 10 min',
        '15 distinct users failed to log in from 203.0.113.50 in 1 min',
      ]);
      const local = b.ctx.signals.length;
      await a.sync();
      await b.sync();
      expect(a.ctx.signals).toEqual([]);
      // its own alert goes on (refreshed as the failures come); no shared one since
      expect(b.ctx.signals.slice(1).filter((x) => x.metrics.partitions !== undefined)).toEqual([]);
      expect(b.ctx.signals).toHaveLength(local);
      expect(a.d.stats?.()).toMatchObject({ shared_unwritten: 0, shared_signalling: 0 });
    });

    it('a partition that reaches the threshold alone raises its own alert, and no shared one is raised', async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      a.feed(failures('accounts', 15, T0, 'a'));
      b.feed(failures('billing', 3, T0, 'b'));
      expect(a.ctx.signals).toHaveLength(1);
      await a.sync();
      await b.sync();
      expect(a.ctx.signals).toHaveLength(1);
      expect(b.ctx.signals).toEqual([]);
    });

    it('without the mesh each partition sees 8 users and raises nothing', async () => {
      const store = await open();
      const a = shardAt(store, 0, true);
      const b = shardAt(store, 1, true);
      a.feed(failures('accounts', 8, T0, 'a'));
      b.feed(failures('billing', 8, T0 + 30 * SEC, 'b'));
      await a.sync();
      await b.sync();
      expect([...a.ctx.signals, ...b.ctx.signals]).toEqual([]);
    });

    it('a shard replaying from its checkpoint writes the same share again: nothing is counted twice', async () => {
      const store = await open();
      const a = shardAt(store, 0);
      a.feed(failures('accounts', 5, T0, 'a'));
      const checkpoint = JSON.parse(JSON.stringify(a.d.snapshot()));
      const later = failures('accounts', 3, T0 + 10 * SEC, 'x');
      a.feed(later);
      await a.sync();
      const again = shardAt(store, 0, false, credentialStuffingFactory.create(config));
      again.d.restore(checkpoint);
      again.feed(later);
      await again.sync();
      // 8 from partition 0 (not 5 + 8), so 6 more users at billing make 14: still nothing; a 7th makes 15
      const b = shardAt(store, 1);
      b.feed(failures('billing', 6, T0 + 20 * SEC, 'b'));
      await b.sync();
      expect(b.ctx.signals).toEqual([]);
      b.feed(failures('billing', 1, T0 + 40 * SEC, 'z'));
      await b.sync();
      expect(b.ctx.signals.map((s) => s.metrics.distinct_users)).toEqual([15]);
    });

    it("brute force: one user's failures at two services' login endpoints, 6 each: one alert for 12", async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      const alice = (service: string, n: number, from: number) =>
        failures(service, n, from, 'x').map((r) => ({ ...r, user: { sub: 'alice' } }));
      a.feed(alice('accounts', 6, T0));
      b.feed(alice('billing', 6, T0 + 30 * SEC));
      await a.sync();
      await b.sync();
      expect(a.ctx.signals).toEqual([]);
      expect(b.ctx.signals).toHaveLength(1);
      expect(b.ctx.signals[0]).toMatchObject({
        kind: 'brute_force',
        service: 'billing',
        subject: { type: 'user', value: 'alice' },
        since: T0 + 30 * SEC,
        metrics: { failures: 12, partitions: 2 },
      });
      expect(b.ctx.signals[0].summary).toBe(
        '12 failed logins for user alice at services on 2 partitions within 10 min',
      );
      // without the mesh: 6 and 6, nothing
      const c = shardAt(store, 2, true);
      const d = shardAt(store, 3, true);
      c.feed(alice('accounts', 6, T0 + 700 * SEC));
      d.feed(alice('billing', 6, T0 + 700 * SEC));
      expect([...c.ctx.signals, ...d.ctx.signals]).toEqual([]);
    });

    it("a window's last failures before the sync are written once the next window started; a late one changes nothing", async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      a.feed(failures('accounts', 8, T0 + 585 * SEC, 'a'));
      // the next window starts on partition 0 before its sync; then a late failure of the window before
      a.feed(failures('accounts', 1, T0 + 620 * SEC, 'n'));
      a.feed(failures('accounts', 1, T0 + 598 * SEC, 'late'));
      b.feed(failures('billing', 8, T0 + 580 * SEC, 'b'));
      expect(a.d.stats?.()).toMatchObject({ shared_unwritten: 2 });
      await a.sync();
      await b.sync();
      expect(b.ctx.signals.map((s) => [s.metrics.distinct_users, s.since])).toEqual([[16, T0 + 580 * SEC]]);
      expect(a.d.stats?.()).toMatchObject({ shared_unwritten: 0 });
    });

    it('counts in aligned windows: failures in the next window are not added to the last', async () => {
      const store = await open();
      const a = shardAt(store, 0);
      const b = shardAt(store, 1);
      a.feed(failures('accounts', 8, T0 + 590 * SEC, 'a'));
      b.feed(failures('billing', 8, T0 + 610 * SEC, 'b'));
      await a.sync();
      await b.sync();
      expect([...a.ctx.signals, ...b.ctx.signals]).toEqual([]);
    });
  });
}

onEachStore(sharedScenarios);
