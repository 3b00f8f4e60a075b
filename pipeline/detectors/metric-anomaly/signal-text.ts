/** How a metric signal reads to an analyst: numbers with units, expected ranges, severity. */
import type { Severity } from '../../core/alert.js';
import type { MetricName } from './config.js';

export const LABEL: Record<MetricName, string> = { rate: 'traffic', error_ratio: 'error ratio', p95: 'p95 latency' };

const UNIT: Record<MetricName, string> = { rate: ' req/s', error_ratio: '%', p95: ' ms' };

/** the number alone, e.g. 840 (ms), 12.5 (%), 3.25 (req/s) */
function num(metric: MetricName, x: number): string {
  if (metric === 'p95') return String(Math.round(x));
  if (metric === 'error_ratio') return (x * 100).toFixed(x < 0.01 ? 2 : 1);
  return x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function fmt(metric: MetricName, x: number): string {
  return `${num(metric, x)}${UNIT[metric]}`;
}

/** e.g. "120 ± 40 ms" */
export function fmtRange(metric: MetricName, expected: number, spread: number): string {
  return `${num(metric, expected)} ± ${num(metric, spread)}${UNIT[metric]}`;
}

/** severity by how many typical deviations the window is away from expected (and by absolute badness) */
export function severityOf(metric: MetricName, observed: number, expected: number, spread: number): Severity {
  if (metric === 'error_ratio' && observed >= 0.5) return 'critical';
  if (metric === 'rate' && observed === 0 && expected > 0) return 'critical';
  const deviations = Math.abs(observed - expected) / Math.max(spread, Math.abs(expected) * 0.01, 1e-9);
  if (deviations >= 20) return 'high';
  if (deviations >= 8) return 'medium';
  return 'low';
}
