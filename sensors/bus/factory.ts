import { BusSensor, type BusSensorDeps } from './bus-sensor.js';
import { type BusSensorConfig, BusSensorConfigSchema, defaultBusSensorConfig } from './config.js';
import { compileMapping, loadMappingFile } from './mapping.js';

/** a catalogue error's own words, without the "configuration is invalid: " its message starts with */
const detailOf = (err: unknown) => (err as Error).message.replace(/^configuration is invalid: /, '');

/** message-bus sensor: Kafka request/reply topics → ApiCallRecords */
export const busSensorFactory = {
  type: 'bus',
  configSchema: BusSensorConfigSchema,
  defaultConfig: defaultBusSensorConfig,
  /**
   * the cross-field check of a schema-valid config, checked before anything starts: a mapping is given (inline or
   * a readable, valid file) and compiles (no topic mapped twice, no topic both request and reply)
   */
  configProblem(config: BusSensorConfig): string | undefined {
    if (config.mapping) {
      try {
        compileMapping(config.mapping);
      } catch (err) {
        return `mapping: ${detailOf(err)}`;
      }
      return undefined;
    }
    if (!config.mapping_file) return 'mapping_file or mapping is required (which topics to tap)';
    try {
      compileMapping(loadMappingFile(config.mapping_file));
    } catch (err) {
      return `mapping_file: ${detailOf(err)}`;
    }
    return undefined;
  },
  create(config: BusSensorConfig, deps: BusSensorDeps = {}): BusSensor {
    return new BusSensor(config, deps);
  },
};
