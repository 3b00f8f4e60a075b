import type { Detector } from '../../pipeline/detectors/detector.js';
import { parseMetricAnomalyConfig } from '../../pipeline/detectors/metric-anomaly/config.js';
import { metricAnomalyFactory } from '../../pipeline/detectors/metric-anomaly/factory.js';
import { checkConfig } from '../../pipeline/detectors/shared/detector-kit.js';
import { TRACKER_FACTORIES } from '../../pipeline/detectors/shared/trackers.js';

/**
 * Detector settings for the scenario evaluation. Learning periods are shortened to fit simulated runs of an hour or
 * two; thresholds stay at their defaults. data_locality has no meaningful default (it needs the deployment's data
 * map), so the simulated mesh's map is given here.
 */
export const TRACKER_SETTINGS: Record<string, Record<string, unknown>> = {
  param_profile: { learning_records: 200, learning_ms: 15 * 60_000 },
  token_mismatch: {},
  enumeration: {},
  credential_stuffing: {},
  new_caller: { learning_ms: 15 * 60_000 },
  plaintext_hop: {},
  fan_out: { min_traces: 30 },
  unauthenticated_access: { learning_ms: 15 * 60_000 },
  data_volume: {},
  data_locality: {
    endpoints: [
      { service: 'users', endpoint: 'GET /users/{id}', data_classes: ['personal'] },
      { service: 'users', endpoint: 'PATCH /users/{id}', data_classes: ['personal'] },
      { service: 'orders', endpoint: 'GET /orders/{id}', data_classes: ['personal', 'financial'] },
      { service: 'payments', endpoint: '*', data_classes: ['financial'] },
    ],
    rules: [
      { data_class: 'personal', from_regions: ['eu-*'], allowed_to: ['eu-*'] },
      { data_class: 'financial', from_regions: ['eu-*'], allowed_to: ['eu-*'] },
    ],
  },
};

/**
 * The replay is one shard holding the whole mesh (as a one-partition correlator would), so symptoms at other services
 * are folded into their root cause's alert too (root-cause/config.ts: across_services).
 */
export const SHARD_SETTINGS = { rootCause: { across_services: true } };

/** the spine's metric detector, scoring endpoints too (edge endpoints' traffic changes are invisible per service) */
export const METRIC_SETTINGS = { endpoint_level: true };

export function trackerDetectors(overrides: Record<string, Record<string, unknown>> = {}): Detector[] {
  return TRACKER_FACTORIES.map((f) =>
    f.create(checkConfig(f.type, f.configSchema, { ...TRACKER_SETTINGS[f.type], ...overrides[f.type] })),
  );
}

export function metricDetectors(): Detector[] {
  return [metricAnomalyFactory.create(parseMetricAnomalyConfig(METRIC_SETTINGS))];
}
