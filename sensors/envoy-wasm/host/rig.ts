import { type CollectorStub, startCollectorStub } from './collector-stub.js';
import { type HttpCallRequest, ProxyWasmHost, type ProxyWasmHostOptions } from './proxy-wasm-host.js';
import { ensureSensorWasm } from './wasm-build.js';
import { Wasm, type WasmModule } from './wasm-api.js';

/** The sensor module in the Node host, shipping to a collector stub on loopback: the setup of the sensor's tests. */

export const RIG_SENSOR_TOKEN = 'sensor-token-abc123';
export const RIG_HASH_KEY = 'meshward-test-hash-key-0123456789';

let compiled: Promise<WasmModule> | undefined;

/** the sensor module, built on demand and compiled once per process */
export function sensorModule(): Promise<WasmModule> {
  compiled ??= Wasm.compile(ensureSensorWasm());
  return compiled;
}

export interface Rig {
  host: ProxyWasmHost;
  collector: CollectorStub | undefined;
  calls: HttpCallRequest[];
  configured: boolean;
  close(): Promise<void>;
}

export interface RigOptions {
  /** start no collector; the cluster maps to this URL instead (e.g. a closed port) */
  collectorUrl?: string;
  host?: Partial<ProxyWasmHostOptions>;
}

export async function startRig(config: Record<string, unknown> = {}, opts: RigOptions = {}): Promise<Rig> {
  const collector = opts.collectorUrl ? undefined : await startCollectorStub({ sensorToken: RIG_SENSOR_TOKEN });
  const calls: HttpCallRequest[] = [];
  const pluginConfig = {
    sensor_token: RIG_SENSOR_TOKEN,
    token_hash_key: RIG_HASH_KEY,
    sensor_id: 'envoy-test-1',
    ...config,
  };
  const host = await ProxyWasmHost.create({
    module: await sensorModule(),
    pluginConfig: JSON.stringify(pluginConfig),
    clusters: { meshward_collector: opts.collectorUrl ?? collector!.url },
    onHttpCall: (c) => calls.push(c),
    ...opts.host,
  });
  const { configured } = host.start();
  return {
    host,
    collector,
    calls,
    configured,
    close: async () => {
      await host.shutdown();
      await collector?.close();
    },
  };
}
