import { registry } from '../../pipeline/core/metrics.js';

/** the sum of a metric's series whose labels include `labels` (0 when the metric does not exist yet) */
export async function metricSum(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

/** an Object.prototype fingerprint: compare before and after to catch prototype pollution */
export const protoSnapshot = (): string => Object.getOwnPropertyNames(Object.prototype).sort().join(',');
