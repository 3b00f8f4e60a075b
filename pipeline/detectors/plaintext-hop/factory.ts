import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type PlaintextHopConfig, PlaintextHopConfigSchema } from './config.js';
import { PlaintextHopDetector } from './plaintext-hop.js';

export const plaintextHopFactory: DetectorFactory<PlaintextHopConfig> = {
  type: 'plaintext_hop',
  configSchema: PlaintextHopConfigSchema,
  defaultConfig: defaultsOf(PlaintextHopConfigSchema),
  create: (config) => new PlaintextHopDetector(config),
};
