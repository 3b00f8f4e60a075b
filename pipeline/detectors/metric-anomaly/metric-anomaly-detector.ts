/**
 * The metric-anomaly detector: one streaming scorer per (series, metric), where a series is a service or one of its
 * endpoints and the metrics are request rate, error ratio and p95 latency of each closed window. A score at or above
 * the threshold becomes a signal (error_burst, latency_spike, traffic_drop, traffic_spike) when the change also
 * passes the practical-significance gates (practical-significance.ts). Tracked series are capped (LRU).
 *
 * A service's p95 mixes its endpoints: when a slow endpoint's share of the traffic crosses 5 %, the service's p95
 * jumps from the fast endpoints' tail to the slow endpoint's body without any request being slower than usual. So
 * with endpoint_level on, a service-level latency candidate is judged on its endpoints' windows of the same start
 * (how many of their requests were slower than the service's usual p95), once they have all arrived: when the first
 * window of a later start comes (the correlator closes every series of a start before any later one).
 *
 * The score flags the onset of a change only (onset suppression). So that an alert stays open while its condition
 * holds, a (series, metric) that signalled is then checked on each following window: when the window passes the same
 * gates in the same direction against the scorer's current expectation, it is signalled again (a continuation, which
 * refreshes the open alert); the first window that does not, or that is missing or too idle to judge, ends it.
 * The windows of a firing metric (its onset included) are kept out of its scorer's baseline, up to max_held_windows
 * in a row, so the expectation stays at the level before the incident: every window is scored held, and learnt once
 * it is known not to be signalled (or the run has been held for max_held_windows).
 */
import { mwError } from '../../core/errors.js';
import { counter } from '../../core/metrics.js';
import type { Detector, DetectorContext, WindowMetrics } from '../detector.js';
import type { MetricAnomalyConfig, MetricName } from './config.js';
import { shareSlowerThan } from './count-significance.js';
import { judge, type Usual, type Verdict } from './practical-significance.js';
import { fmt, fmtRange, LABEL, severityOf } from './signal-text.js';
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
const signals = counter(
  'meshward_metric_anomaly_signals_total',
  'onsets signalled by the metric_anomaly detector (a score at or above the threshold that passed the gates)',
  ['kind'],
);
const continuations = counter(
  'meshward_metric_anomaly_continuations_total',
  'signals repeated by the metric_anomaly detector because the condition of the previous window still held',
  ['kind'],
);

/** the last window's request count and latency quantiles (what a service-level latency candidate is judged on) */
interface LastWindow {
  count: number;
  p50: number;
  p95: number;
}

type Kind = Verdict['kind'];

/** a metric of a series whose last window was signalled: what, that window's start, windows held out so far */
interface Firing {
  kind: Kind;
  at: number;
  held: number;
}

interface Series {
  service: string;
  endpoint?: string;
  lastStart: number;
  scorers: Partial<Record<MetricName, StreamingScorer>>;
  /** errors and requests of past windows, decaying (half-life baseline_windows): the usual error ratio */
  errors: number;
  requests: number;
  last: LastWindow;
  /** metrics whose last window was signalled (every key set from the start: the object keeps its shape) */
  firing: Record<MetricName, Firing | undefined>;
}

interface SeriesState {
  service: string;
  endpoint?: string;
  lastStart: number;
  scorers: Partial<Record<MetricName, ScorerState>>;
  errors?: number;
  requests?: number;
  last?: LastWindow;
  /** absent in snapshots from before continuations: nothing is firing (held absent: none held yet) */
  firing?: Partial<Record<MetricName, Firing>>;
}

/** what the scorer said about a window */
interface Scored {
  expected: number;
  spread: number;
  score: number;
  view: string;
}

/** a service-level latency candidate waiting for its endpoints' windows */
interface PendingLatency {
  window: WindowMetrics;
  scored: Scored;
}

export interface MetricAnomalyState {
  v: 1;
  /** least recently updated first */
  series: SeriesState[];
  pending?: PendingLatency[];
}

const seriesKey = (service: string, endpoint: string | undefined): string =>
  endpoint === undefined ? service : `${service}\u0000${endpoint}`;

export class MetricAnomalyDetector implements Detector {
  readonly type = TYPE;
  private readonly series = new Map<string, Series>();
  private readonly scorerOptions: Partial<ScorerOptions>;
  private readonly countDecay: number;
  /** at most one per service and start, and only until a later start arrives */
  private pending: PendingLatency[] = [];
  private evicted = 0;

  constructor(private readonly config: MetricAnomalyConfig) {
    this.scorerOptions = {
      baseline_size: config.baseline_windows,
      history_size: config.history_windows,
      suppress_rows: config.suppress_windows,
      season_buckets: config.season_buckets,
      weekly: config.weekly,
      min_baseline: config.min_baseline_windows,
      record_half_life: Math.max(config.baseline_windows * 4, 500),
      record_half_life_max: Math.max(config.baseline_windows * 40, 20_000),
    };
    this.countDecay = 0.5 ** (1 / config.baseline_windows);
  }

  onWindow(w: WindowMetrics, ctx: DetectorContext): void {
    if (w.endpoint !== undefined && !this.config.endpoint_level) return;
    if (!validWindow(w)) {
      skipped.inc({ reason: 'invalid' });
      return;
    }
    if (this.pending.length > 0 && w.start > this.pending[0].window.start) this.judgePending(w.start, ctx);
    const key = seriesKey(w.service, w.endpoint);
    let s = this.series.get(key);
    if (s) {
      if (w.start <= s.lastStart) {
        skipped.inc({ reason: 'out_of_order' });
        return;
      }
      this.series.delete(key);
    } else {
      s = newSeries(w.service, w.endpoint, Number.NEGATIVE_INFINITY, {});
    }
    this.series.set(key, s);
    this.evictOverCap();
    s.lastStart = w.start;
    s.last = { count: w.count, p50: w.p50, p95: w.p95 };

    const busy = w.count >= this.config.min_requests_per_window;
    const hold = this.config.max_held_windows > 0;
    let errorsHeld = false;
    for (const metric of this.config.metrics) {
      // error ratio and latency of a nearly idle window say nothing (nor whether a condition still holds); rate always
      // counts (drops make windows idle)
      if (metric !== 'rate' && !busy) {
        s.firing[metric] = undefined;
        continue;
      }
      let scorer = s.scorers[metric];
      if (!scorer) {
        scorer = new StreamingScorer(this.scorerOptions);
        s.scorers[metric] = scorer;
      }
      const observed = observedOf(metric, w);
      const score = scorer.update(w.start, observed, hold);
      if (score < this.config.threshold && firingOf(s, metric, w) === undefined) {
        scorer.learnHeld();
        s.firing[metric] = undefined;
        continue;
      }
      // the scorer's expectation before it learnt this window, also below the threshold
      const d = scorer.detail;
      const scored: Scored = { expected: d.expected, spread: d.spread, score, view: d.view };
      if (metric === 'p95' && w.endpoint === undefined && this.config.endpoint_level) {
        // the window stays held until judged
        if (observed - d.expected >= this.config.min_latency_increase_ms) this.pending.push({ window: w, scored });
        else {
          scorer.learnHeld();
          s.firing.p95 = undefined;
        }
        continue;
      }
      const usual: Usual = { expected: d.expected, errorRatio: s.requests > 0 ? s.errors / s.requests : 0 };
      this.conclude(ctx, s, metric, w, scored, judge(this.config, metric, observed, w, usual));
      if (metric === 'error_ratio') errorsHeld = scorer.holding;
    }
    // the long-run error ratio keeps out the same windows as the error-ratio baseline
    if (!errorsHeld) {
      s.errors = s.errors * this.countDecay + w.errors;
      s.requests = s.requests * this.countDecay + w.count;
    }
  }

  /**
   * judges the service-level latency candidates of starts before `before`, on their endpoints' windows (one pass over
   * the series for all of them)
   */
  private judgePending(before: number, ctx: DetectorContext): void {
    const due = this.pending.filter((p) => p.window.start < before);
    this.pending = this.pending.filter((p) => p.window.start >= before);
    // per service, per window start: the endpoints' requests and how many of them were slower than expected
    const shares = new Map<string, Map<number, { expected: number; slower: number; requests: number }>>();
    for (const { window: w, scored } of due) {
      let byStart = shares.get(w.service);
      if (!byStart) {
        byStart = new Map();
        shares.set(w.service, byStart);
      }
      byStart.set(w.start, { expected: scored.expected, slower: 0, requests: 0 });
    }
    for (const e of this.series.values()) {
      if (e.endpoint === undefined) continue;
      const acc = shares.get(e.service)?.get(e.lastStart);
      if (!acc) continue;
      acc.slower += shareSlowerThan(acc.expected, e.last.p50, e.last.p95) * e.last.count;
      acc.requests += e.last.count;
    }
    for (const { window: w, scored } of due) {
      const { slower, requests } = shares.get(w.service)!.get(w.start)!;
      const usual: Usual = { expected: scored.expected, errorRatio: 0, ...(requests > 0 ? { slower } : {}) };
      const verdict = judge(this.config, 'p95', w.p95, w, usual);
      const s = this.series.get(seriesKey(w.service, undefined));
      if (s) this.conclude(ctx, s, 'p95', w, scored, verdict);
      else if (verdict && scored.score >= this.config.threshold) this.emit(ctx, 'p95', w, scored, verdict, 'onset');
    }
  }

  /**
   * signals a judged window that is an onset (scored at or above the threshold) or continues the series' firing
   * metric in the same direction, and keeps the metric firing; any other window ends the firing. The scorer learns the
   * window unless it was signalled within the first max_held_windows windows of the run.
   */
  private conclude(
    ctx: DetectorContext,
    s: Series,
    metric: MetricName,
    w: WindowMetrics,
    scored: Scored,
    verdict: Verdict | undefined,
  ): void {
    const onset = scored.score >= this.config.threshold;
    const firing = firingOf(s, metric, w);
    const scorer = s.scorers[metric];
    if (verdict && (onset || verdict.kind === firing)) {
      this.emit(ctx, metric, w, scored, verdict, onset ? 'onset' : 'continuation');
      // an onset while firing is the same run (a level that steps up again): the count goes on
      let held = firing !== undefined ? (s.firing[metric]?.held ?? 0) : 0;
      if (scorer?.holding && held < this.config.max_held_windows) held++;
      else scorer?.learnHeld();
      s.firing[metric] = { kind: verdict.kind, at: w.start, held };
    } else {
      scorer?.learnHeld();
      s.firing[metric] = undefined;
    }
  }

  private emit(
    ctx: DetectorContext,
    metric: MetricName,
    w: WindowMetrics,
    d: Scored,
    verdict: Verdict,
    phase: 'onset' | 'continuation',
  ): void {
    const observed = observedOf(metric, w);
    (phase === 'onset' ? signals : continuations).inc({ kind: verdict.kind });
    ctx.emit({
      kind: verdict.kind,
      severity: severityOf(metric, observed, d.expected, d.spread),
      service: w.service,
      ...(w.endpoint !== undefined ? { endpoint: w.endpoint } : {}),
      at: w.start,
      summary: `${LABEL[metric]} ${fmt(metric, observed)}, expected ${fmtRange(metric, d.expected, d.spread)} (${verdict.counts})`,
      expected: fmtRange(metric, d.expected, d.spread),
      observed: fmt(metric, observed),
      recordIds: w.sampleIds.slice(0, 50),
      metrics: {
        expected: d.expected,
        observed,
        score: d.score,
        spread: d.spread,
        count: w.count,
        errors: w.errors,
        count_z: round2(verdict.countZ),
      },
      labels: { metric, view: d.view, phase },
    });
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
        errors: s.errors,
        requests: s.requests,
        last: { ...s.last },
        firing: Object.fromEntries(Object.entries(s.firing).filter(([, f]) => f !== undefined)),
      });
    }
    return { v: 1, series, pending: structuredClone(this.pending) };
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
        const series = newSeries(s.service, s.endpoint, s.lastStart, scorers);
        // snapshots from before these were kept start them afresh
        if (Number.isFinite(s.errors) && Number.isFinite(s.requests)) {
          series.errors = s.errors as number;
          series.requests = s.requests as number;
        }
        if (s.last) series.last = { count: s.last.count, p50: s.last.p50, p95: s.last.p95 };
        for (const [m, f] of Object.entries(s.firing ?? {}) as [MetricName, Firing][]) {
          if (scorers[m] && typeof f?.kind === 'string' && Number.isFinite(f.at))
            series.firing[m] = { kind: f.kind, at: f.at, held: Number.isInteger(f.held) ? f.held : 0 };
        }
        next.set(seriesKey(s.service, s.endpoint), series);
      }
    } catch (err) {
      throw mwError(
        'BAD_REQUEST',
        `metric_anomaly: snapshot does not fit this configuration (${(err as Error).message})`,
      );
    }
    this.series.clear();
    for (const [k, v] of next) this.series.set(k, v);
    this.pending = Array.isArray(st.pending) ? structuredClone(st.pending) : [];
    this.evictOverCap();
  }

  stats(): Record<string, number> {
    return { series: this.series.size, evicted: this.evicted };
  }
}

function newSeries(
  service: string,
  endpoint: string | undefined,
  lastStart: number,
  scorers: Partial<Record<MetricName, StreamingScorer>>,
): Series {
  return {
    service,
    endpoint,
    lastStart,
    scorers,
    errors: 0,
    requests: 0,
    last: { count: 0, p50: 0, p95: 0 },
    firing: { rate: undefined, error_ratio: undefined, p95: undefined },
  };
}

/** the kind a metric of the series fires with, when its window just before `w` was signalled */
function firingOf(s: Series, metric: MetricName, w: WindowMetrics): Kind | undefined {
  const f = s.firing[metric];
  return f !== undefined && w.start - f.at <= w.widthMs ? f.kind : undefined;
}

const observedOf = (metric: MetricName, w: WindowMetrics): number =>
  metric === 'rate' ? w.rate : metric === 'error_ratio' ? w.errorRatio : w.p95;

const round2 = (x: number) => Math.round(x * 100) / 100;

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
