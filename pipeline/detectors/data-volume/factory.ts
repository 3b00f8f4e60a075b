import type { DetectorFactory } from '../detector.js';
import { defaultsOf } from '../shared/detector-kit.js';
import { type DataVolumeConfig, DataVolumeConfigSchema } from './config.js';
import { DataVolumeDetector } from './data-volume.js';

export const dataVolumeFactory: DetectorFactory<DataVolumeConfig> = {
  type: 'data_volume',
  configSchema: DataVolumeConfigSchema,
  defaultConfig: defaultsOf(DataVolumeConfigSchema),
  create: (config) => new DataVolumeDetector(config),
};
