/**
 * The gates a scored window passes before it becomes a signal: the change goes in a harmful direction, is large
 * enough to matter (absolute minimums from the config), and the counts behind it are beyond counting noise
 * (count-significance.ts).
 */
import type { WindowMetrics } from '../detector.js';
import type { MetricAnomalyConfig, MetricName } from './config.js';
import { countZ, shareSlowerThan } from './count-significance.js';

export interface Verdict {
  kind: 'error_burst' | 'latency_spike' | 'traffic_drop' | 'traffic_spike';
  /** standard deviations of counting noise between the window's count and the count expected by chance */
  countZ: number;
  /** the counts in words, for the summary */
  counts: string;
}

export interface Usual {
  /** the scorer's expected value of the metric */
  expected: number;
  /** the series' long-run error ratio (errors are often too rare for the scorer's median to see them) */
  errorRatio: number;
  /**
   * requests of the window slower than the expected p95, when known better than from the window's own quantiles
   * (a service's window mixes endpoints of different speeds: its endpoints' windows tell)
   */
  slower?: number;
}

/** the signal, or undefined when the change is harmless, too small to matter, or within counting noise */
export function judge(
  c: MetricAnomalyConfig,
  metric: MetricName,
  observed: number,
  w: WindowMetrics,
  usual: Usual,
): Verdict | undefined {
  const { expected } = usual;
  if (!Number.isFinite(expected)) return undefined;
  let verdict: Verdict;
  if (metric === 'error_ratio') {
    if (w.errors < c.min_errors_per_window || observed - expected < c.min_error_ratio_increase) return undefined;
    const ratio = Math.max(expected, usual.errorRatio);
    verdict = {
      kind: 'error_burst',
      countZ: countZ(w.errors, ratio * w.count),
      counts: `${w.errors} of ${w.count} requests`,
    };
  } else if (metric === 'p95') {
    if (observed - expected < c.min_latency_increase_ms) return undefined;
    const slower = usual.slower ?? shareSlowerThan(expected, w.p50, w.p95) * w.count;
    verdict = {
      kind: 'latency_spike',
      countZ: countZ(slower, 0.05 * w.count),
      counts: `about ${Math.round(slower)} of ${w.count} requests slower than the usual p95`,
    };
  } else {
    if (Math.abs(observed - expected) / Math.max(Math.abs(expected), 1e-9) < c.min_rate_change) return undefined;
    const expectedCount = expected * (w.widthMs / 1000);
    verdict = {
      kind: observed < expected ? 'traffic_drop' : 'traffic_spike',
      countZ: Math.abs(countZ(w.count, expectedCount)),
      counts: `${w.count} requests, ${Math.round(expectedCount)} expected`,
    };
  }
  return verdict.countZ >= c.min_count_z ? verdict : undefined;
}
