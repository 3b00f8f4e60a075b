import type { AdapterFactory } from '../../adapter.js';
import { defaultKongConfig, type KongConfig, KongConfigSchema } from './config.js';
import { KongDenyAdapter } from './kong-deny.js';

export const kongFactory: AdapterFactory<KongConfig> = {
  type: 'gateways/kong',
  configSchema: KongConfigSchema,
  defaultConfig: defaultKongConfig,
  create: (config, deps) => new KongDenyAdapter(config, deps.logger),
};

export const { type, configSchema, defaultConfig, create } = kongFactory;
