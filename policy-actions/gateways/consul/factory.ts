import type { AdapterFactory } from '../../adapter.js';
import { type ConsulConfig, ConsulConfigSchema, defaultConsulConfig } from './config.js';
import { ConsulDenyAdapter } from './consul-deny.js';

export const consulFactory: AdapterFactory<ConsulConfig> = {
  type: 'gateways/consul',
  configSchema: ConsulConfigSchema,
  defaultConfig: defaultConsulConfig,
  create: (config, deps) => new ConsulDenyAdapter(config, deps.logger),
};

export const { type, configSchema, defaultConfig, create } = consulFactory;
