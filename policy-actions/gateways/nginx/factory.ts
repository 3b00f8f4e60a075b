import type { AdapterFactory } from '../../adapter.js';
import { defaultNginxConfig, type NginxConfig, NginxConfigSchema } from './config.js';
import { NginxDenyAdapter } from './nginx-deny.js';

export const nginxFactory: AdapterFactory<NginxConfig> = {
  type: 'gateways/nginx',
  configSchema: NginxConfigSchema,
  defaultConfig: defaultNginxConfig,
  create: (config, deps) => new NginxDenyAdapter(config, deps.logger),
};

export const { type, configSchema, defaultConfig, create } = nginxFactory;
