import { describe, expect, it } from 'vitest';
import { metricSum } from '../../test/harness/metrics.js';
import type { WindowMetrics } from '../detectors/detector.js';
import { MemoryStore } from '../store/memory-store.js';
import { MetricsWriter, SERVICES_KEY, endpointsKey, seriesKey } from './metrics-writer.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

const window = (service: string, start: number, endpoint?: string): WindowMetrics => ({
  service,
  ...(endpoint ? { endpoint } : {}),
  start,
  widthMs: 60_000,
  count: 10,
  errors: 0,
  rate: 10 / 60,
  errorRatio: 0,
  p50: 5,
  p95: 9,
  p99: 12,
  sampleIds: [],
});

describe('MetricsWriter', () => {
  it('deletes the series and summary rows that had no window for the retention, once an hour of event time', async () => {
    const store = new MemoryStore();
    const writer = new MetricsWriter(store, 24 * HOUR);
    await writer.write([
      window('orders', T0),
      window('orders', T0, 'GET /users/alice'),
      window('orders', T0, 'GET /users/{param}'),
      window('legacy', T0),
    ]);
    // a day and an hour later only orders' folded endpoint is still called
    const later = T0 + 25 * HOUR;
    const before = await metricSum('meshward_metric_series_expired_total');
    await writer.write([window('orders', later), window('orders', later, 'GET /users/{param}')]);
    expect(Object.keys(await store.hgetall(SERVICES_KEY))).toEqual(['orders']);
    expect(Object.keys(await store.hgetall(endpointsKey('orders')))).toEqual(['GET /users/{param}']);
    expect(await store.zrange(seriesKey('orders', 'GET /users/alice'), 0, Number.POSITIVE_INFINITY)).toEqual([]);
    expect(await store.zrange(seriesKey('legacy'), 0, Number.POSITIVE_INFINITY)).toEqual([]);
    // the live series keeps its window (the one past the retention is trimmed, as before)
    expect(await store.zrange(seriesKey('orders', 'GET /users/{param}'), 0, Number.POSITIVE_INFINITY)).toHaveLength(1);
    expect((await metricSum('meshward_metric_series_expired_total')) - before).toBe(2);
  });

  it('keeps a quiet series while it is within the retention', async () => {
    const store = new MemoryStore();
    const writer = new MetricsWriter(store, 24 * HOUR);
    await writer.write([window('orders', T0), window('batch', T0)]);
    await writer.write([window('orders', T0 + 23 * HOUR)]);
    expect(Object.keys(await store.hgetall(SERVICES_KEY)).sort()).toEqual(['batch', 'orders']);
  });

  it('stores a window without calls with no error ratio and no latency (null), not as 0 % and 0 ms', async () => {
    const store = new MemoryStore();
    const writer = new MetricsWriter(store);
    const quiet = { count: 0, errors: 0, rate: 0, errorRatio: 0, p50: 0, p95: 0, p99: 0 };
    await writer.write([
      window('orders', T0, 'GET /refunds'),
      { ...window('orders', T0 + 60_000, 'GET /refunds'), ...quiet },
    ]);
    const none = { count: 0, errorRatio: null, p50: null, p95: null, p99: null };
    expect(JSON.parse((await store.hget(endpointsKey('orders'), 'GET /refunds')) ?? '')).toMatchObject(none);
    const series = await store.zrange(seriesKey('orders', 'GET /refunds'), 0, Number.POSITIVE_INFINITY);
    expect(series.map((m) => JSON.parse(m))).toMatchObject([{ count: 10, errorRatio: 0, p95: 9 }, none]);
  });
});
