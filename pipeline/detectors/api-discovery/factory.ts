import type { DetectorFactory } from '../detector.js';
import { ApiDiscovery } from './api-discovery.js';
import { type ApiDiscoveryConfig, ApiDiscoveryConfigSchema, defaultApiDiscoveryConfig } from './config.js';

/** api_discovery: inventory from traffic, shadow_api / zombie_api signals with their association */
export const apiDiscoveryFactory: DetectorFactory<ApiDiscoveryConfig> = {
  type: 'api_discovery',
  configSchema: ApiDiscoveryConfigSchema,
  defaultConfig: defaultApiDiscoveryConfig,
  create: (config) => new ApiDiscovery({ ...defaultApiDiscoveryConfig, ...config }),
};

export const { type, configSchema, defaultConfig, create } = apiDiscoveryFactory;
