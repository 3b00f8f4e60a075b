import { BusSensor, type BusSensorDeps } from './bus-sensor.js';
import { type BusSensorConfig, BusSensorConfigSchema, defaultBusSensorConfig } from './config.js';
import { type CompiledMapping, compileMapping, loadMappingFile } from './mapping.js';

/** a catalogue error's own words, without the "configuration is invalid: " its message starts with */
const detailOf = (err: unknown) => (err as Error).message.replace(/^configuration is invalid: /, '');

/** message-bus sensor: Kafka request/reply topics → ApiCallRecords */
export const busSensorFactory = {
  type: 'bus',
  configSchema: BusSensorConfigSchema,
  defaultConfig: defaultBusSensorConfig,
  /**
   * the cross-field check of a schema-valid config, done once before anything starts: the mapping (inline, or the
   * file read) compiled (no topic mapped twice, no topic both request and reply), or what is wrong with it. Hand the
   * compiled mapping to create() (`deps.mapping`): the sensor then taps what was checked, and the file is read once
   */
  compile(config: BusSensorConfig): { compiled: CompiledMapping } | { problem: string } {
    if (config.mapping) {
      try {
        return { compiled: compileMapping(config.mapping) };
      } catch (err) {
        return { problem: `mapping: ${detailOf(err)}` };
      }
    }
    if (!config.mapping_file) return { problem: 'mapping_file or mapping is required (which topics to tap)' };
    try {
      return { compiled: compileMapping(loadMappingFile(config.mapping_file)) };
    } catch (err) {
      return { problem: `mapping_file: ${detailOf(err)}` };
    }
  },
  create(config: BusSensorConfig, deps: BusSensorDeps = {}): BusSensor {
    return new BusSensor(config, deps);
  },
};
