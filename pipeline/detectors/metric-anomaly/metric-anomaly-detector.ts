/**
 * The metric-anomaly detector: one streaming scorer per (series, metric), where a series is a service or one of its
 * endpoints and the metrics are request rate, error ratio and p95 latency of each closed window. A score at or above
 * the threshold becomes a signal (error_burst, latency_spike, traffic_drop, traffic_spike) when the change is also
 * practically significant (minimum counts and absolute changes from the config). Tracked series are capped (LRU).
 */
import type { Severity } from '../../core/alert.js';
import { mwError } from '../../core/errors.js';
import { counter } from '../../core/metrics.js';
import type { Detector, DetectorContext, WindowMetrics } from '../detector.js';
import type { MetricAnomalyConfig, MetricName } from './config.js';
import { type ScorerOptions, type ScorerState, StreamingScorer } from './streaming-scorer.js';

export const TYPE = 'metric_anomaly';

const evictions = counter(
  'meshward_metric_anomaly_evictions_total',
  'series evicted from the metric_anomaly detector (LRU cap)',
);
const skipped = counter(
  'meshward_metric_anomaly_skipped_windows_total',
  'windows the metric_anomaly detector could not use',
  ['reason'],
);
const signals = counter('meshward_metric_anomaly_signals_total', 'signals raised by the metric_anomaly detector', [
  'kind',
]);

interface Series {
  service: string;
  endpoint?: string;
  lastStart: number;
  scorers: Partial<Record<MetricName, StreamingScorer>>;
}

interface SeriesState {
  service: string;
  endpoint?: string;
  lastStart: number;
  scorers: Partial<Record<MetricName, ScorerState>>;
}

export interface MetricAnomalyState {
  v: 1;
  /** least recently updated first */
  series: SeriesState[];
}

const LABEL: Record<MetricName, string> = { rate: 'traffic', error_ratio: 'error ratio', p95: 'p95 latency' };

export class MetricAnomalyDetector implements Detector {
  readonly type = TYPE;
  private readonly series = new Map<string, Series>();
  private readonly scorerOptions: Partial<ScorerOptions>;
  private evicted = 0;

  constructor(private readonly config: MetricAnomalyConfig) {
    this.scorerOptions = {
      baseline_size: config.baseline_windows,
      history_size: config.history_windows,
      suppress_rows: config.suppress_windows,
      season_buckets: config.season_buckets,
      min_baseline: config.min_baseline_windows,
      record_half_life: Math.max(config.baseline_windows * 4, 500),
      record_half_life_max: Math.max(config.baseline_windows * 40, 20_000),
    };
  }

  onWindow(w: WindowMetrics, ctx: DetectorContext): void {
    if (w.endpoint !== undefined && !this.config.endpoint_level) return;
    if (!validWindow(w)) {
      skipped.inc({ reason: 'invalid' });
      return;
    }
    const key = w.endpoint === undefined ? w.service : `${w.service}\u0000${w.endpoint}`;
    let s = this.series.get(key);
    if (s) {
      if (w.start <= s.lastStart) {
        skipped.inc({ reason: 'out_of_order' });
        return;
      }
      this.series.delete(key);
    } else {
      s = { service: w.service, endpoint: w.endpoint, lastStart: Number.NEGATIVE_INFINITY, scorers: {} };
    }
    this.series.set(key, s);
    this.evictOverCap();
    s.lastStart = w.start;

    const busy = w.count >= this.config.min_requests_per_window;
    for (const metric of this.config.metrics) {
      // error ratio and latency of a nearly idle window say nothing; rate always counts (drops make windows idle)
      if (metric !== 'rate' && !busy) continue;
      let scorer = s.scorers[metric];
      if (!scorer) {
        scorer = new StreamingScorer(this.scorerOptions);
        s.scorers[metric] = scorer;
      }
      const observed = metric === 'rate' ? w.rate : metric === 'error_ratio' ? w.errorRatio : w.p95;
      const score = scorer.update(w.start, observed);
      if (score < this.config.threshold) continue;
      const d = scorer.detail;
      const kind = this.kindOf(metric, observed, d.expected, w);
      if (!kind) continue;
      signals.inc({ kind });
      ctx.emit({
        kind,
        severity: severityOf(metric, observed, d.expected, d.spread),
        service: w.service,
        ...(w.endpoint !== undefined ? { endpoint: w.endpoint } : {}),
        at: w.start,
        summary: `${LABEL[metric]} ${fmt(metric, observed)}, expected ${fmtRange(metric, d.expected, d.spread)}${
          metric === 'error_ratio' ? ` (${w.errors} of ${w.count} requests)` : ''
        }`,
        expected: fmtRange(metric, d.expected, d.spread),
        observed: fmt(metric, observed),
        recordIds: w.sampleIds.slice(0, 50),
        metrics: { expected: d.expected, observed, score, spread: d.spread, count: w.count, errors: w.errors },
        labels: { metric, view: d.view },
      });
    }
  }

  /** the signal kind, or undefined when the change is in a harmless direction or too small to matter */
  private kindOf(metric: MetricName, observed: number, expected: number, w: WindowMetrics): string | undefined {
    const c = this.config;
    if (!Number.isFinite(expected)) return undefined;
    if (metric === 'error_ratio') {
      if (w.errors < c.min_errors_per_window || observed - expected < c.min_error_ratio_increase) return undefined;
      return 'error_burst';
    }
    if (metric === 'p95') return observed - expected >= c.min_latency_increase_ms ? 'latency_spike' : undefined;
    const base = Math.max(Math.abs(expected), 1e-9);
    if (Math.abs(observed - expected) / base < c.min_rate_change) return undefined;
    return observed < expected ? 'traffic_drop' : 'traffic_spike';
  }

  private evictOverCap(): void {
    while (this.series.size > this.config.max_series) {
      const oldest = this.series.keys().next().value as string;
      this.series.delete(oldest);
      this.evicted++;
      evictions.inc();
    }
  }

  snapshot(): MetricAnomalyState {
    const series: SeriesState[] = [];
    for (const s of this.series.values()) {
      const scorers: Partial<Record<MetricName, ScorerState>> = {};
      for (const [m, sc] of Object.entries(s.scorers) as [MetricName, StreamingScorer][]) scorers[m] = sc.snapshot();
      series.push({
        service: s.service,
        ...(s.endpoint !== undefined ? { endpoint: s.endpoint } : {}),
        lastStart: s.lastStart,
        scorers,
      });
    }
    return { v: 1, series };
  }

  restore(state: unknown): void {
    const st = state as MetricAnomalyState;
    if (st?.v !== 1 || !Array.isArray(st.series)) throw mwError('BAD_REQUEST', 'metric_anomaly: not a v1 snapshot');
    const next = new Map<string, Series>();
    try {
      for (const s of st.series) {
        const scorers: Partial<Record<MetricName, StreamingScorer>> = {};
        for (const [m, sc] of Object.entries(s.scorers ?? {}) as [MetricName, ScorerState][]) {
          if (!this.config.metrics.includes(m)) continue;
          const scorer = new StreamingScorer(this.scorerOptions);
          scorer.restore(sc);
          scorers[m] = scorer;
        }
        const key = s.endpoint === undefined ? s.service : `${s.service}\u0000${s.endpoint}`;
        next.set(key, { service: s.service, endpoint: s.endpoint, lastStart: s.lastStart, scorers });
      }
    } catch (err) {
      throw mwError(
        'BAD_REQUEST',
        `metric_anomaly: snapshot does not fit this configuration (${(err as Error).message})`,
      );
    }
    this.series.clear();
    for (const [k, v] of next) this.series.set(k, v);
    this.evictOverCap();
  }

  stats(): Record<string, number> {
    return { series: this.series.size, evicted: this.evicted };
  }
}

function validWindow(w: WindowMetrics): boolean {
  return (
    typeof w.service === 'string' &&
    Number.isFinite(w.start) &&
    Number.isFinite(w.count) &&
    w.count >= 0 &&
    Number.isFinite(w.errors) &&
    Number.isFinite(w.rate) &&
    w.rate >= 0 &&
    Number.isFinite(w.errorRatio) &&
    w.errorRatio >= 0 &&
    w.errorRatio <= 1 &&
    Number.isFinite(w.p95) &&
    w.p95 >= 0 &&
    Array.isArray(w.sampleIds)
  );
}

const UNIT: Record<MetricName, string> = { rate: ' req/s', error_ratio: '%', p95: ' ms' };

/** the number alone, e.g. 840 (ms), 12.5 (%), 3.25 (req/s) */
function num(metric: MetricName, x: number): string {
  if (metric === 'p95') return String(Math.round(x));
  if (metric === 'error_ratio') return (x * 100).toFixed(x < 0.01 ? 2 : 1);
  return x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function fmt(metric: MetricName, x: number): string {
  return `${num(metric, x)}${UNIT[metric]}`;
}

/** e.g. "120 ± 40 ms" */
function fmtRange(metric: MetricName, expected: number, spread: number): string {
  return `${num(metric, expected)} ± ${num(metric, spread)}${UNIT[metric]}`;
}

/** severity by how many typical deviations the window is away from expected (and by absolute badness) */
function severityOf(metric: MetricName, observed: number, expected: number, spread: number): Severity {
  if (metric === 'error_ratio' && observed >= 0.5) return 'critical';
  if (metric === 'rate' && observed === 0 && expected > 0) return 'critical';
  const deviations = Math.abs(observed - expected) / Math.max(spread, Math.abs(expected) * 0.01, 1e-9);
  if (deviations >= 20) return 'high';
  if (deviations >= 8) return 'medium';
  return 'low';
}
