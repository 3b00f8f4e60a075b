import { readFileSync } from 'node:fs';
import { mwError } from '../../pipeline/core/errors.js';
import type { Logger } from '../../pipeline/core/logger.js';
import { defaultConfig, type EnvoyWasmConfig, EnvoyWasmConfigSchema, parseConfig } from './config.js';
import { ProxyWasmHost, type SimulatedRequest } from './host/proxy-wasm-host.js';
import { sensorWasmPath } from './host/wasm-build.js';

/**
 * The envoy_wasm sensor runs inside Envoy, not in a meshward process. `create` gives what meshward can do with it:
 * the plugin configuration to deploy (`pluginConfigJson`) and, for demos and simulations, the same module running
 * in the Node proxy-wasm host (`start` / `observe` / `shutdown`), shipping to a collector URL.
 */
export interface EnvoyWasmSensor {
  readonly type: 'envoy_wasm';
  readonly config: EnvoyWasmConfig;
  /** the JSON for Envoy `configuration` / Istio `pluginConfig` */
  pluginConfigJson(): string;
  /** loads the module (build it first: `npm run build:wasm`) and configures it */
  start(): Promise<void>;
  /** one finished request, as the proxy would report it */
  observe(request: SimulatedRequest): void;
  /** flushes, waits for calls in flight; safe twice */
  shutdown(): Promise<void>;
}

export interface EnvoyWasmDeps {
  logger?: Logger;
  /** base URL the collector cluster maps to, e.g. http://127.0.0.1:7071 */
  collectorUrl?: string;
  wasmPath?: string;
}

const LOG_METHODS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export const envoyWasmSensorFactory = {
  type: 'envoy_wasm',
  configSchema: EnvoyWasmConfigSchema,
  defaultConfig,
  create(input: unknown, deps: EnvoyWasmDeps = {}): EnvoyWasmSensor {
    const config = parseConfig(input);
    let host: ProxyWasmHost | undefined;
    let stopped = false;
    return {
      type: 'envoy_wasm',
      config,
      pluginConfigJson: () => JSON.stringify(config),
      async start() {
        if (host) return;
        host = await ProxyWasmHost.create({
          module: readFileSync(deps.wasmPath ?? sensorWasmPath()),
          pluginConfig: JSON.stringify(config),
          clusters: deps.collectorUrl ? { [config.collector_cluster]: deps.collectorUrl } : {},
          onLog: (level, message) => deps.logger?.[LOG_METHODS[Math.min(level, 5)]]({ sensor: 'envoy_wasm' }, message),
        });
        const { configured } = host.start();
        if (!configured) throw mwConfigRejected(host);
        host.startTicker();
      },
      observe(request) {
        if (!host || stopped) return;
        host.request(request);
      },
      async shutdown() {
        if (!host || stopped) return;
        stopped = true;
        await host.shutdown();
      },
    };
  },
};

function mwConfigRejected(host: ProxyWasmHost): Error {
  const last = host.logs.at(-1)?.message ?? 'no reason logged';
  return mwError('CONFIG_INVALID', `envoy_wasm module refused its configuration: ${last}`);
}

export default envoyWasmSensorFactory;
