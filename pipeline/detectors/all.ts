/** Registers every built-in detector. Import once (the CLI and the benchmarks do) before compileDetectors(). */
import { registerDetector } from './registry.js';
import type { DetectorFactory } from './detector.js';

const BUILT_IN: DetectorFactory<unknown>[] = [];

for (const f of BUILT_IN) registerDetector(f);
