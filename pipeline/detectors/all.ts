/** Registers every built-in detector. Import once (the CLI and the benchmarks do) before compileDetectors(). */
import type { DetectorFactory } from './detector.js';
import { metricAnomalyFactory } from './metric-anomaly/factory.js';
import { registerDetector } from './registry.js';

const BUILT_IN = [metricAnomalyFactory] as DetectorFactory<unknown>[];

for (const f of BUILT_IN) registerDetector(f);
