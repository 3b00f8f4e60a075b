import type { Logger } from '../../../pipeline/core/logger.js';
import type { AdapterFactory } from '../../adapter.js';
import { CaepSetAdapter } from './caep-set.js';
import { type CaepSetConfig, CaepSetConfigSchema, defaultCaepSetConfig } from './config.js';

export const caepSetFactory = {
  type: 'idp/caep_set',
  configSchema: CaepSetConfigSchema,
  defaultConfig: defaultCaepSetConfig,
  create(config: CaepSetConfig, deps: { logger: Logger; clock?: () => number }) {
    return new CaepSetAdapter(config, deps);
  },
} satisfies AdapterFactory<CaepSetConfig>;
