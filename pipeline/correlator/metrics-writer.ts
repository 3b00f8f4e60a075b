import { counter } from '../core/metrics.js';
import type { WindowMetrics } from '../detectors/detector.js';
import type { Store } from '../store/store.js';

const expired = counter(
  'meshward_metric_series_expired_total',
  'service and endpoint series deleted, with their summary row, after no window for the retention (event time)',
);
const HOUR_MS = 3_600_000;

/** store keys of the RED time series the analyst API reads */
export const seriesKey = (service: string, endpoint?: string) =>
  endpoint ? `win:${service}|${endpoint}` : `win:${service}`;
export const SERVICES_KEY = 'services';
export const endpointsKey = (service: string) => `endpoints:${service}`;

export interface StoredWindow {
  start: number;
  count: number;
  errors: number;
  rate: number;
  /** errors / count; null for a window without calls (no data, not 0 %) */
  errorRatio: number | null;
  /** latency quantiles, ms; null for a window without calls (no data, not 0 ms) */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface SeriesSummary extends StoredWindow {
  service: string;
  endpoint?: string;
  lastWindow: number;
}

/**
 * A window (or summary row) as analysts see it: one without calls has no error ratio and no latency. The writer
 * stores them so; rows and windows an earlier version stored carry 0 for them, and are read through this too.
 */
export function withoutIdleFigures<T extends StoredWindow>(w: T): T {
  return w.count > 0 ? w : { ...w, errorRatio: null, p50: null, p95: null, p99: null };
}

/**
 * Persists closed windows so the analyst API (possibly another process) can chart them, and keeps one summary row
 * per service and endpoint. Old windows are trimmed past the retention; a series with no window for the retention
 * (an endpoint a learned fold merged away, one retired, a service gone) is deleted with its summary row, once an hour
 * of event time, so the API stops listing it.
 */
export class MetricsWriter {
  /** the latest window start written (event time) */
  private latest = Number.NEGATIVE_INFINITY;
  private sweptHour = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly retentionMs = 7 * 24 * HOUR_MS,
  ) {}

  async write(windows: WindowMetrics[]): Promise<void> {
    const ops: Promise<unknown>[] = [];
    for (const w of windows) {
      // a quiet window (the series had no call in it) has no error ratio and no latency: null, not 0
      const called = w.count > 0;
      const stored: StoredWindow = {
        start: w.start,
        count: w.count,
        errors: w.errors,
        rate: round(w.rate),
        errorRatio: called ? round(w.errorRatio) : null,
        p50: called ? w.p50 : null,
        p95: called ? w.p95 : null,
        p99: called ? w.p99 : null,
      };
      const key = seriesKey(w.service, w.endpoint);
      ops.push(this.store.zadd(key, w.start, JSON.stringify(stored)));
      const summary: SeriesSummary = {
        service: w.service,
        ...(w.endpoint ? { endpoint: w.endpoint } : {}),
        ...stored,
        lastWindow: w.start,
      };
      if (w.endpoint) ops.push(this.store.hset(endpointsKey(w.service), w.endpoint, JSON.stringify(summary)));
      else ops.push(this.store.hset(SERVICES_KEY, w.service, JSON.stringify(summary)));
      // trim once an hour of event time per series
      if (w.start % HOUR_MS === 0) ops.push(this.trim(key, w.start - this.retentionMs));
      this.latest = Math.max(this.latest, w.start);
    }
    await Promise.all(ops);
    const hour = Math.floor(this.latest / HOUR_MS);
    if (hour > this.sweptHour) {
      this.sweptHour = hour;
      await this.sweep(this.latest - this.retentionMs);
    }
  }

  /** delete the series, and their summary rows, whose last window started before `before` */
  private async sweep(before: number): Promise<void> {
    const services = await this.store.hgetall(SERVICES_KEY);
    for (const [service, raw] of Object.entries(services)) {
      const endpoints = await this.store.hgetall(endpointsKey(service));
      for (const [endpoint, row] of Object.entries(endpoints)) {
        if ((JSON.parse(row) as SeriesSummary).lastWindow >= before) continue;
        await this.store.hdel(endpointsKey(service), endpoint);
        await this.store.del(seriesKey(service, endpoint));
        expired.inc();
      }
      if ((JSON.parse(raw) as SeriesSummary).lastWindow >= before) continue;
      await this.store.hdel(SERVICES_KEY, service);
      await this.store.del(seriesKey(service));
      expired.inc();
    }
  }

  private async trim(key: string, before: number): Promise<void> {
    const old = await this.store.zrange(key, Number.NEGATIVE_INFINITY, before);
    await Promise.all(old.map((m) => this.store.zrem(key, m)));
  }
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;
