import { BusSensor, type BusSensorDeps } from './bus-sensor.js';
import { type BusSensorConfig, BusSensorConfigSchema, defaultBusSensorConfig } from './config.js';

/** message-bus sensor: Kafka request/reply topics → ApiCallRecords */
export const busSensorFactory = {
  type: 'bus',
  configSchema: BusSensorConfigSchema,
  defaultConfig: defaultBusSensorConfig,
  create(config: BusSensorConfig, deps: BusSensorDeps = {}): BusSensor {
    return new BusSensor(config, deps);
  },
};
