import { describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../core/record.js';
import { Shard } from '../../correlator/shard.js';
import type { CatalogEntry } from '../../inventory/catalog/catalog-entry.js';
import { ApiDiscovery } from './api-discovery.js';
import { defaultApiDiscoveryConfig } from './config.js';
import { discoveryHarness, ORDERS_API, orderCall } from './testdata/orders-calls.js';

/** orders' catalogue: GET /orders/{id} in force, GET /orders/{id}/legacy deprecated */
const CATALOG: CatalogEntry[] = [
  ORDERS_API,
  {
    id: 'orders-legacy',
    name: 'Orders (legacy)',
    service: 'orders',
    deprecated: true,
    endpoints: [{ method: 'GET', path: '/orders/{id}/legacy' }],
    labels: { category: 'ecommerce' },
  },
];

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

/** a call to orders at `minute` (event time) */
const call = (path: string, minute: number, n = 0): ApiCallRecord =>
  orderCall(`r${minute}-${n}-${path}`, T0 + minute * MINUTE + n, 'GET', path);

/** a shadow endpoint (/orders/export, after min_calls 2) and a zombie (/orders/1/legacy), called once a minute */
function calls(fromMinute: number, toMinute: number): ApiCallRecord[] {
  const out: ApiCallRecord[] = [];
  for (let m = fromMinute; m < toMinute; m++) out.push(call('/orders/export', m), call('/orders/1/legacy', m, 1));
  return out;
}

const harness = (resolveAfterMs?: number) => {
  const t = discoveryHarness(CATALOG, 'shadow_api', { min_calls: 2 }, resolveAfterMs);
  return { d: t.d, signals: t.signals, feed: (rs: ApiCallRecord[]) => t.feed(...rs) };
};
const minutesOf = (signals: { kind: string; at: number }[], kind: string) =>
  signals.filter((s) => s.kind === kind).map((s) => Math.floor((s.at - T0) / MINUTE));

describe('api_discovery: a shadow or zombie endpoint keeps its alert open while it is called', () => {
  it('signals again every half resolve window while called, not before; without a resolve window, once', () => {
    const t = harness(10 * MINUTE);
    t.feed(calls(0, 30));
    // the shadow endpoint reaches min_calls at its second call (minute 1), the zombie signals at its first
    expect(minutesOf(t.signals, 'shadow_api')).toEqual([1, 6, 11, 16, 21, 26]);
    expect(minutesOf(t.signals, 'zombie_api')).toEqual([0, 5, 10, 15, 20, 25]);
    // a refresh carries the calls so far and the labels the endpoint has
    const shadows = t.signals.filter((s) => s.kind === 'shadow_api');
    expect(shadows.map((s) => s.metrics.calls)).toEqual([2, 7, 12, 17, 22, 27]);
    expect(shadows.at(-1)?.labels?.category).toBe(shadows[0].labels?.category);

    const once = harness(undefined);
    once.feed(calls(0, 30));
    expect(minutesOf(once.signals, 'shadow_api')).toEqual([1]);
    expect(minutesOf(once.signals, 'zombie_api')).toEqual([0]);
  });

  it('a reviewed endpoint is signalled no more', () => {
    const t = harness(10 * MINUTE);
    t.feed(calls(0, 3));
    expect(t.d.review('orders', 'GET', '/orders/export', { category: 'ecommerce' })).toBeDefined();
    t.feed(calls(3, 20));
    expect(minutesOf(t.signals, 'shadow_api')).toEqual([1]);
    expect(minutesOf(t.signals, 'zombie_api')).toEqual([0, 5, 10, 15]);
  });

  it('a restored detector refreshes at the same call as one that never stopped (old checkpoints too)', () => {
    const whole = harness(10 * MINUTE);
    whole.feed(calls(0, 30));
    const first = harness(10 * MINUTE);
    first.feed(calls(0, 8));
    const second = harness(10 * MINUTE);
    second.d.restore(JSON.parse(JSON.stringify(first.d.snapshot())));
    second.feed(calls(8, 30));
    expect([...first.signals, ...second.signals].map((s) => `${s.kind} ${s.at}`)).toEqual(
      whole.signals.map((s) => `${s.kind} ${s.at}`),
    );
    // a checkpoint from before refreshes names the signalled endpoints alone: refreshed at their next call
    const old = first.d.snapshot() as { alerted: [string, number][] };
    const legacy = harness(10 * MINUTE);
    legacy.d.restore(JSON.parse(JSON.stringify({ ...old, alerted: old.alerted.map(([id]) => id) })));
    legacy.feed(calls(8, 9));
    expect(legacy.signals.map((s) => s.kind).sort()).toEqual(['shadow_api', 'zombie_api']);
  });

  it('in a shard: one alert per endpoint, open while called, resolved resolve_after_minutes after its last call', () => {
    const shard = new Shard([new ApiDiscovery({ ...defaultApiDiscoveryConfig, min_calls: 2 }, { catalog: CATALOG })], {
      resolveAfterMs: 10 * MINUTE,
    });
    const alerts = new Map<string, { kind: string; state: string; count: number }>();
    const run = (rs: ApiCallRecord[]) => {
      for (const r of rs) shard.process(r);
      for (const a of shard.drain().alerts) alerts.set(a.id, a);
    };
    run(calls(0, 45));
    const open = [...alerts.values()].filter((a) => a.kind === 'shadow_api' || a.kind === 'zombie_api');
    expect(open.map((a) => [a.kind, a.state]).sort()).toEqual([
      ['shadow_api', 'open'],
      ['zombie_api', 'open'],
    ]);
    expect(open.every((a) => a.count === 9)).toBe(true);
    // quiet for 20 minutes (another endpoint still called): both resolve; called again later, a new alert each
    const other = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => call(`/orders/${i + 2}`, from + i));
    run(other(45, 65));
    expect([...alerts.values()].filter((a) => a.kind.endsWith('_api')).map((a) => a.state)).toEqual([
      'resolved',
      'resolved',
    ]);
    run(calls(65, 66));
    const states = [...alerts.values()].filter((a) => a.kind === 'zombie_api').map((a) => a.state);
    expect(states).toEqual(['resolved', 'open']);
  });
});
