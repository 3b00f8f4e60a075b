import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configProblems, defaultConfig, parseConfig } from './config.js';
import { envoyWasmSensorFactory } from './factory.js';
import { sensorModule } from './host/rig.js';
import { ProxyWasmHost } from './host/proxy-wasm-host.js';
import { sensorDir } from './host/wasm-build.js';

// The module's own config parser (assembly/plugin-config.ts) and the Node schema (config.ts) must agree, and the
// deployment files must carry a configuration both accept.

interface Case {
  name: string;
  valid: boolean;
  config?: unknown;
  raw?: string;
}

const cases = (
  parse(readFileSync(join(sensorDir(), 'testdata', 'plugin-configs.yaml'), 'utf8'), { merge: true }) as {
    cases: Case[];
  }
).cases;
const root = join(sensorDir(), '..', '..');
const ERROR = 4;

async function configureInModule(text: string) {
  const host = await ProxyWasmHost.create({ module: await sensorModule(), pluginConfig: text, clusters: {} });
  const { configured } = host.start();
  return { configured, host };
}

describe('envoy_wasm plugin configuration', () => {
  it.each(cases)('module and schema agree: $name', async (c) => {
    const text = c.raw ?? JSON.stringify(c.config);
    const { configured, host } = await configureInModule(text);
    expect(configured).toBe(c.valid);
    if (c.raw === undefined) expect(configProblems(c.config).length === 0).toBe(c.valid);
    if (!c.valid) {
      const errors = host.logs.filter((l) => l.level === ERROR);
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toMatch(/^meshward sensor: invalid plugin configuration: .+/);
      expect(host.metric('meshward_sensor.config_rejected')).toBe(1n);
      // the module says what to fix without echoing secrets
      expect(errors[0].message).not.toContain('tok-123');
    }
  });

  it('applies defaults and says what to fix', () => {
    const c = parseConfig({ sensor_token: 't', token_hash_key: 'k'.repeat(16) });
    expect(c).toMatchObject({ ...defaultConfig, sensor_token: 't' });
    expect(c.redact_params).toContain('access_token');
    expect(() =>
      parseConfig({ sensor_token: 't', token_hash_key: 'k'.repeat(16), batch_size: 10, max_buffer: 5 }),
    ).toThrow(/MW_ERR_CONFIG_INVALID|max_buffer must be at least batch_size/);
  });

  it('keeps the previous configuration when a reconfigure is refused', async () => {
    const { configured, host } = await configureInModule(
      JSON.stringify({ sensor_token: 'a', token_hash_key: 'k'.repeat(16) }),
    );
    expect(configured).toBe(true);
    expect(host.configure('{"sensor_token": 1}')).toBe(false);
    expect(host.tickPeriodMs).toBe(1000);
  });
});

describe('deployment files', () => {
  it('deploy/envoy/envoy.yaml runs the module as an HTTP wasm filter with an accepted configuration', () => {
    const doc = parse(readFileSync(join(root, 'deploy', 'envoy', 'envoy.yaml'), 'utf8'));
    const listener = doc.static_resources.listeners[0];
    const hcm = listener.filter_chains[0].filters[0];
    expect(hcm.name).toBe('envoy.filters.network.http_connection_manager');
    const filters = hcm.typed_config.http_filters;
    expect(filters.at(-1).name).toBe('envoy.filters.http.router');
    const wasm = filters.find((f: { name: string }) => f.name === 'envoy.filters.http.wasm');
    expect(wasm.typed_config['@type']).toBe('type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm');
    const cfg = wasm.typed_config.config;
    expect(cfg.vm_config.runtime).toBe('envoy.wasm.runtime.v8');
    expect(cfg.vm_config.code.local.filename).toMatch(/\.wasm$/);
    expect(cfg.configuration['@type']).toBe('type.googleapis.com/google.protobuf.StringValue');
    const plugin = JSON.parse(cfg.configuration.value);
    expect(configProblems(plugin)).toEqual([]);
    const clusters = doc.static_resources.clusters.map((c: { name: string }) => c.name);
    expect(clusters).toContain(plugin.collector_cluster);
    const route = hcm.typed_config.route_config.virtual_hosts[0].routes[0].route.cluster;
    expect(clusters).toContain(route);
  });

  it('deploy/envoy/envoy.yaml configuration is accepted by the module itself', async () => {
    const doc = parse(readFileSync(join(root, 'deploy', 'envoy', 'envoy.yaml'), 'utf8'));
    const hcm = doc.static_resources.listeners[0].filter_chains[0].filters[0];
    const wasm = hcm.typed_config.http_filters.find((f: { name: string }) => f.name === 'envoy.filters.http.wasm');
    const { configured } = await configureInModule(wasm.typed_config.config.configuration.value);
    expect(configured).toBe(true);
  });

  it('deploy/istio/wasm-plugin.yaml is a WasmPlugin whose pluginConfig the schema and the module accept', async () => {
    const doc = parse(readFileSync(join(root, 'deploy', 'istio', 'wasm-plugin.yaml'), 'utf8'));
    expect(doc.apiVersion).toBe('extensions.istio.io/v1alpha1');
    expect(doc.kind).toBe('WasmPlugin');
    expect(Object.keys(doc.spec.selector.matchLabels).length).toBeGreaterThan(0);
    expect(doc.spec.url).toMatch(/^(oci|file|https?):\/\//);
    expect(['AUTHN', 'AUTHZ', 'STATS', 'UNSPECIFIED_PHASE']).toContain(doc.spec.phase);
    expect(configProblems(doc.spec.pluginConfig)).toEqual([]);
    const { configured } = await configureInModule(JSON.stringify(doc.spec.pluginConfig));
    expect(configured).toBe(true);
  });
});

describe('envoy_wasm factory', () => {
  it('has the shape of a pluggable component and runs the module against a collector', async () => {
    expect(envoyWasmSensorFactory.type).toBe('envoy_wasm');
    expect(
      configProblems({ ...envoyWasmSensorFactory.defaultConfig, sensor_token: 't', token_hash_key: 'k'.repeat(16) }),
    ).toEqual([]);
    expect(() => envoyWasmSensorFactory.create({ sensor_token: 't' })).toThrow(/token_hash_key/);
    const { startCollectorStub } = await import('./host/collector-stub.js');
    const { sampleRequest } = await import('./host/sample-traffic.js');
    const collector = await startCollectorStub({ sensorToken: 'factory-token' });
    await sensorModule();
    const sensor = envoyWasmSensorFactory.create(
      { sensor_token: 'factory-token', token_hash_key: 'k'.repeat(16), batch_size: 2 },
      { collectorUrl: collector.url },
    );
    expect(JSON.parse(sensor.pluginConfigJson())).toMatchObject({ batch_size: 2, tick_ms: 1000 });
    await sensor.start();
    for (let i = 0; i < 3; i++) sensor.observe(sampleRequest(i));
    await sensor.shutdown();
    await sensor.shutdown();
    expect(collector.records.map((r) => r.id)).toEqual(['req-0', 'req-1', 'req-2']);
    await collector.close();
  });
});
