import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { checkSection } from '../../config/section.js';
import { mwError } from '../../core/errors.js';

export const MetricName = Type.Union([Type.Literal('rate'), Type.Literal('error_ratio'), Type.Literal('p95')]);
export type MetricName = Static<typeof MetricName>;

export const MetricAnomalyConfigSchema = Type.Object(
  {
    threshold: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.6,
      description:
        'score at or above which a window is anomalous; 0.5 means "as unusual as the most unusual window lately", 0.6 means 1.5 times that',
    }),
    min_baseline_windows: Type.Integer({
      minimum: 1,
      default: 60,
      description: 'windows a series must have seen before it may alert (the confidence gate)',
    }),
    max_series: Type.Integer({
      minimum: 1,
      default: 2000,
      description: 'series (service or service+endpoint) tracked at once; the least recently updated is evicted',
    }),
    min_requests_per_window: Type.Integer({
      minimum: 0,
      default: 20,
      description: 'windows with fewer requests do not score error ratio or latency (too few to mean anything)',
    }),
    min_errors_per_window: Type.Integer({
      minimum: 0,
      default: 5,
      description: 'an error_burst needs at least this many errors in the window',
    }),
    min_error_ratio_increase: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.02,
      description: 'an error_burst needs the error ratio this far above expected (absolute, 0.02 = 2 points)',
    }),
    min_latency_increase_ms: Type.Number({
      minimum: 0,
      default: 50,
      description: 'a latency_spike needs p95 this many ms above expected',
    }),
    min_rate_change: Type.Number({
      minimum: 0,
      default: 0.3,
      description: 'a traffic_drop or traffic_spike needs the rate to differ from expected by this fraction',
    }),
    min_count_z: Type.Number({
      minimum: 0,
      default: 4.5,
      description:
        'a signal needs the count behind it beyond counting noise by this many standard deviations (the exact Poisson tail as a normal deviate): requests against the expected rate, errors against the usual error ratio, requests slower than the usual p95 against the 5 % that always are; 0 turns the check off',
    }),
    metrics: Type.Array(MetricName, {
      minItems: 1,
      uniqueItems: true,
      default: ['rate', 'error_ratio', 'p95'],
      description: 'metrics scored per series',
    }),
    endpoint_level: Type.Boolean({
      default: false,
      description: 'also score each endpoint (METHOD /route) besides the service as a whole',
    }),
    baseline_windows: Type.Integer({
      minimum: 8,
      maximum: 10_000,
      default: 240,
      description: 'windows in the rolling median baseline; a sustained shift is the new normal after half of these',
    }),
    history_windows: Type.Integer({
      minimum: 32,
      maximum: 10_000,
      default: 240,
      description: 'past windows searched for similar shapes (the kNN view); cost per window grows with it',
    }),
    suppress_windows: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 60,
      description: 'after a score, later scores of the same series must beat it for this many windows to count again',
    }),
    season_buckets: Type.Integer({
      minimum: 1,
      maximum: 1440,
      default: 24,
      description: 'time-of-day buckets of the daily profile',
    }),
    max_held_windows: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 60,
      description:
        'windows of a signalled (firing) metric are kept out of its baseline, so an incident is judged against the level before it, for at most this many windows in a row; then they are learnt again and a level that lasts becomes the new normal; 0 learns every window',
    }),
    weekly: Type.Boolean({
      default: true,
      description:
        'scale the daily profile by a learnt factor per day of the week (lower weekend traffic is then expected), once every weekday has been seen twice',
    }),
  },
  { additionalProperties: false },
);

export type MetricAnomalyConfig = Static<typeof MetricAnomalyConfigSchema>;

export const defaultMetricAnomalyConfig: MetricAnomalyConfig = Value.Create(MetricAnomalyConfigSchema);

/** defaults filled in, validated; throws CONFIG_INVALID saying what to fix */
export function parseMetricAnomalyConfig(input: unknown = {}): MetricAnomalyConfig {
  const c = checkSection(MetricAnomalyConfigSchema, input, 'metric_anomaly');
  if (c.suppress_windows > c.baseline_windows * 4) {
    throw mwError('CONFIG_INVALID', 'metric_anomaly: suppress_windows must be at most 4 x baseline_windows');
  }
  return c;
}
