import { describe, expect, it } from 'vitest';
import { metricSum } from '../../../test/harness/metrics.js';
import type { ApiCallRecord } from '../../core/record.js';
import { Shard } from '../../correlator/shard.js';
import type { CatalogEntry } from '../../inventory/catalog/catalog-entry.js';
import '../all.js';
import { compileDetectors } from '../registry.js';
import { ApiDiscovery } from './api-discovery.js';
import { defaultApiDiscoveryConfig } from './config.js';
import { discoveryHarness, ORDERS_API, orderCall } from './testdata/orders-calls.js';

const CATALOG: CatalogEntry[] = [ORDERS_API];

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let n = 0;
/** a call to orders at `at` (event time) */
const call = (path: string, at: number): ApiCallRecord => orderCall(`r${++n}`, at, 'GET', path);
/** the catalogued endpoint (GET /orders/{id}) called once an hour from `from` to before `to`: time passes */
const hourly = (from: number, to: number): ApiCallRecord[] => {
  const out: ApiCallRecord[] = [];
  for (let at = from; at < to; at += HOUR) out.push(call('/orders/7', at));
  return out;
};

/** forget after one day; a shadow endpoint after 2 calls; alerts resolved after 10 minutes */
const harness = () => {
  const t = discoveryHarness(CATALOG, 'shadow_api', { min_calls: 2, forget_endpoints_after_days: 1 }, 10 * MINUTE);
  return { ...t, feed: (rs: ApiCallRecord[]) => t.feed(...rs) };
};
const exportEntry = (d: ApiDiscovery) => d.inventory.get('orders', 'GET', '/orders/export');

describe('api_discovery forgets endpoints traffic no longer reaches (forget_endpoints_after_days)', () => {
  it('forgets an endpoint not called for the period, not before, and deletes its document', async () => {
    const t = harness();
    t.feed([call('/orders/export', T0), call('/orders/export', T0 + MINUTE), call('/orders/1', T0 + MINUTE)]);
    const id = exportEntry(t.d)!.id;
    expect(t.d.documents().map((d) => d.id)).toContain(id);
    // the last call was at T0 + 1 min: a day after it, it is still listed
    t.feed(hourly(T0 + HOUR, T0 + MINUTE + DAY + 1));
    expect(exportEntry(t.d)?.firstSeen).toBe(T0);
    expect(t.d.documents().filter((d) => d.deleted)).toEqual([]);
    const before = await metricSum('meshward_inventory_forgotten_total');
    // the next hourly look (event time) forgets it; the catalogued endpoint, called all along, stays
    t.feed(hourly(T0 + MINUTE + DAY + 1, T0 + DAY + 2 * HOUR));
    expect(exportEntry(t.d)).toBeUndefined();
    expect(t.d.inventory.get('orders', 'GET', '/orders/{id}')?.count).toBeGreaterThan(20);
    expect(t.d.documents().filter((d) => d.deleted)).toEqual([
      { collection: 'api_inventory', id, value: null, deleted: true },
    ]);
    expect((await metricSum('meshward_inventory_forgotten_total')) - before).toBe(1);
    expect(t.d.stats()).toMatchObject({ endpoints: 1, shadow: 0, catalogued: 1 });
  });

  it('an endpoint called again after the period is a new entry, whether or not a look came first', () => {
    const t = harness();
    t.feed([call('/orders/export', T0), call('/orders/export', T0 + MINUTE)]);
    // a look 10 minutes before the period ends, then the endpoint itself 1 minute after it: no look is due
    t.feed([call('/orders/7', T0 + MINUTE + DAY - 10 * MINUTE), call('/orders/export', T0 + 2 * MINUTE + DAY)]);
    expect(exportEntry(t.d)).toMatchObject({ firstSeen: T0 + 2 * MINUTE + DAY, count: 1, state: 'shadow' });
    // its document is rewritten, not deleted
    const docs = t.d.documents();
    expect(docs.filter((d) => d.deleted)).toEqual([]);
    expect(docs.find((d) => d.id === exportEntry(t.d)!.id)?.value).toMatchObject({ count: 1 });
  });

  it('a shadow endpoint that comes back is signalled afresh after min_calls: a new alert, its old one resolved', () => {
    const shard = new Shard(
      [
        new ApiDiscovery(
          { ...defaultApiDiscoveryConfig, min_calls: 2, forget_endpoints_after_days: 1 },
          { catalog: CATALOG },
        ),
      ],
      { resolveAfterMs: 10 * MINUTE },
    );
    const alerts = new Map<
      string,
      { kind: string; state: string; firstSeen: number; labels?: Record<string, string> }
    >();
    const run = (rs: ApiCallRecord[]) => {
      for (const r of rs) shard.process(r);
      for (const a of shard.drain().alerts) alerts.set(a.id, a);
    };
    const back = T0 + 3 * DAY;
    run([call('/orders/export', T0), call('/orders/export', T0 + MINUTE)]);
    run(hourly(T0 + HOUR, back));
    // back after two days of silence: its first call is a new endpoint's, not yet min_calls
    run([call('/orders/export', back)]);
    expect([...alerts.values()].map((a) => [a.kind, a.state])).toEqual([['shadow_api', 'resolved']]);
    run([call('/orders/export', back + MINUTE)]);
    const shadow = [...alerts.values()].filter((a) => a.kind === 'shadow_api');
    expect(shadow.map((a) => [a.state, a.firstSeen])).toEqual([
      ['resolved', T0 + MINUTE],
      ['open', back + MINUTE],
    ]);
    // signalled as a first finding: with the fresh entry's first call, and its association
    expect(shadow[1].labels?.first_seen).toBe(new Date(back).toISOString());
    expect(shadow[1].labels?.category).toBeDefined();
  });

  it('a reviewed endpoint that comes back keeps its review, and is not signalled', () => {
    const t = harness();
    t.feed([call('/orders/export', T0), call('/orders/export', T0 + MINUTE)]);
    const id = exportEntry(t.d)!.id;
    t.d.onFeedback(id, { labels: { category: 'reporting' }, by: 'ana', at: T0 + 2 * MINUTE });
    t.feed(hourly(T0 + HOUR, T0 + 3 * DAY));
    expect(exportEntry(t.d)).toBeUndefined();
    const signalled = t.found().length;
    t.feed([call('/orders/export', T0 + 3 * DAY), call('/orders/export', T0 + 3 * DAY + MINUTE)]);
    expect(exportEntry(t.d)).toMatchObject({ id, state: 'reviewed', firstSeen: T0 + 3 * DAY, count: 2 });
    expect(exportEntry(t.d)?.labels.category?.value).toBe('reporting');
    expect(t.found()).toHaveLength(signalled);
  });

  it('a restored detector forgets at the same records as one that never stopped', () => {
    // /orders/export is last called at T0 + 1 min: its period ends between the hourly looks at T0 + 1 day and + 1 day
    // 90 min, and the checkpoint is taken between them
    const records = [
      call('/orders/export', T0),
      call('/orders/export', T0 + MINUTE),
      ...hourly(T0 + HOUR, T0 + DAY + 30 * MINUTE),
      call('/orders/8', T0 + DAY + 45 * MINUTE),
      ...hourly(T0 + DAY + 90 * MINUTE, T0 + DAY + 4 * HOUR),
    ];
    const split = records.findIndex((r) => r.ts > T0 + DAY);
    const sizes = (d: ApiDiscovery, rs: ApiCallRecord[], t: ReturnType<typeof harness>) =>
      rs.map((r) => {
        t.feed([r]);
        return d.inventory.size;
      });
    const whole = harness();
    const wholeSizes = sizes(whole.d, records, whole);
    const first = harness();
    sizes(first.d, records.slice(0, split), first);
    const second = harness();
    second.d.restore(JSON.parse(JSON.stringify(first.d.snapshot())));
    expect(sizes(second.d, records.slice(split), second)).toEqual(wholeSizes.slice(split));
    // forgotten at the look of T0 + 1 day 90 min, not at the restored shard's first record (45 min)
    expect(wholeSizes.slice(split - 1, split + 2)).toEqual([2, 2, 1]);
    expect(JSON.stringify(second.d.inventory.list())).toBe(JSON.stringify(whole.d.inventory.list()));
  });

  it('0 keeps every endpoint; a negative or fractional number of days stops the start', () => {
    const t = discoveryHarness(CATALOG, 'shadow_api', { forget_endpoints_after_days: 0 });
    t.feed(call('/orders/export', T0), ...hourly(T0 + HOUR, T0 + 400 * DAY));
    expect(t.d.inventory.size).toBe(2);
    expect(defaultApiDiscoveryConfig.forget_endpoints_after_days).toBe(90);
    for (const days of [-1, 1.5, 'ninety'])
      expect(() => compileDetectors({ api_discovery: { forget_endpoints_after_days: days } })).toThrow(
        expect.objectContaining({
          code: 'MW_ERR_CONFIG_INVALID',
          message: expect.stringContaining('detectors.api_discovery.forget_endpoints_after_days'),
        }),
      );
  });
});
