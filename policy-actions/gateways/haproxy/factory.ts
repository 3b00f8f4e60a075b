import type { AdapterFactory } from '../../adapter.js';
import { defaultHaproxyConfig, type HaproxyConfig, HaproxyConfigSchema } from './config.js';
import { HaproxyDenyAdapter } from './haproxy-deny.js';

export const haproxyFactory: AdapterFactory<HaproxyConfig> = {
  type: 'gateways/haproxy',
  configSchema: HaproxyConfigSchema,
  defaultConfig: defaultHaproxyConfig,
  create: (config, deps) => new HaproxyDenyAdapter(config, deps.logger),
};

export const { type, configSchema, defaultConfig, create } = haproxyFactory;
