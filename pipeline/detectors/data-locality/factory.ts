import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type DataLocalityConfig, DataLocalityConfigSchema } from './config.js';
import { DataLocalityDetector } from './data-locality.js';

export const dataLocalityFactory: DetectorFactory<DataLocalityConfig> = {
  type: 'data_locality',
  configSchema: DataLocalityConfigSchema,
  defaultConfig: defaultsOf(DataLocalityConfigSchema),
  create: (config) => new DataLocalityDetector(config),
};
