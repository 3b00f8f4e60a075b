/** Registers every built-in detector. Import once (the CLI and the benchmarks do) before compileDetectors(). */
import { apiDiscoveryFactory } from './api-discovery/factory.js';
import { customRulesFactory } from './custom-rules/factory.js';
import type { DetectorFactory } from './detector.js';
import { metricAnomalyFactory } from './metric-anomaly/factory.js';
import { registerDetector } from './registry.js';
import { TRACKER_FACTORIES } from './shared/trackers.js';

const BUILT_IN = [
  metricAnomalyFactory,
  ...TRACKER_FACTORIES,
  apiDiscoveryFactory,
  customRulesFactory,
] as DetectorFactory<unknown>[];

for (const f of BUILT_IN) registerDetector(f);
