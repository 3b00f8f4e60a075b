import { type GatewaySensorConfig, GatewaySensorConfigSchema, defaultGatewaySensorConfig } from './config.js';
import { type MeshwardSensorOptions, meshwardSensor } from './plugin.js';

/**
 * The Fastify gateway sensor. It lives inside the gateway's own Fastify app, so `create` returns what to register:
 * `app.register(plugin, options)`.
 */
export const gatewaySensorFactory = {
  type: 'fastify',
  configSchema: GatewaySensorConfigSchema,
  defaultConfig: defaultGatewaySensorConfig,
  create(config: GatewaySensorConfig, deps: Omit<MeshwardSensorOptions, 'config'> = {}) {
    return { plugin: meshwardSensor, options: { ...deps, config } satisfies MeshwardSensorOptions };
  },
};
