import type { AdapterFactory } from '../../adapter.js';
import { defaultIstioConfig, type IstioConfig, IstioConfigSchema } from './config.js';
import { IstioDenyAdapter } from './istio-deny.js';

export const istioFactory: AdapterFactory<IstioConfig> = {
  type: 'gateways/istio',
  configSchema: IstioConfigSchema,
  defaultConfig: defaultIstioConfig,
  create: (config, deps) => new IstioDenyAdapter(config, deps.logger),
};

export const { type, configSchema, defaultConfig, create } = istioFactory;
