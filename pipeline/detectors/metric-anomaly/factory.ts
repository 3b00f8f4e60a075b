import type { DetectorFactory } from '../detector.js';
import {
  defaultMetricAnomalyConfig,
  type MetricAnomalyConfig,
  MetricAnomalyConfigSchema,
  parseMetricAnomalyConfig,
} from './config.js';
import { MetricAnomalyDetector, TYPE } from './metric-anomaly-detector.js';

/** `metric_anomaly`: streaming anomaly scores on each service's (and optionally endpoint's) rate, errors and p95 */
export const metricAnomalyFactory: DetectorFactory<MetricAnomalyConfig> = {
  type: TYPE,
  configSchema: MetricAnomalyConfigSchema,
  defaultConfig: defaultMetricAnomalyConfig,
  create(config: MetricAnomalyConfig) {
    return new MetricAnomalyDetector(parseMetricAnomalyConfig(config));
  },
};

export const { type, configSchema, defaultConfig, create } = metricAnomalyFactory;
