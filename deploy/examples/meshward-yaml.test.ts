import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { closeAdapters, createAdapters } from '../../policy-actions/engine/adapter-registry.js';
import { loadPolicyFile } from '../../policy-actions/engine/policy.js';
import { actionSettings } from '../../pipeline/app/actions.js';
import { receiverConfigs, startReceivers } from '../../pipeline/app/receivers.js';
import { loadConfig, resolveConfig } from '../../pipeline/config/load.js';
import { silentLogger } from '../../pipeline/core/logger.js';
import { compileMapping, loadMappingFile } from '../../sensors/bus/mapping.js';
import '../../pipeline/detectors/all.js';
import { compileDetectors } from '../../pipeline/detectors/registry.js';
import { compileSinks } from '../../pipeline/sinks/sink-runner.js';
import { CapturingIngest } from '../../sensors/common/capturing-ingest.js';
import { tokenHash } from '../../sensors/common/token-hash.js';

const ROOT = join(import.meta.dirname, '../..');

/** every section of the example config the README shows goes through the validation the roles run at start */
describe('deploy/examples/meshward.yaml', () => {
  it('is a valid config down to each detector, receiver, adapter and sink', async () => {
    const config = loadConfig(join(ROOT, 'deploy/examples/meshward.yaml'), {});
    expect(config.bus.kafka?.compression).toBe('gzip');
    expect(compileDetectors(config.detectors).types).toHaveLength(13);
    expect(receiverConfigs(config.receivers).map((r) => r.type)).toEqual([
      'syslog',
      'kong_http_log',
      'idp',
      'otlp_traces',
      'bus',
    ]);
    const settings = actionSettings(config.actions ?? {});
    expect((await loadPolicyFile(settings.policy_file)).rules.length).toBeGreaterThan(0);
    // adapters read their secret files when created (fail fast): give them one
    const secret = join(mkdtempSync(join(tmpdir(), 'meshward-example-')), 'idp-client-secret');
    writeFileSync(secret, 'not-a-real-secret\n');
    const actions = structuredClone(config.actions ?? {}) as Record<string, Record<string, unknown>>;
    actions['idp/oauth_revocation'].client_secret_file = secret;
    const adapters = createAdapters(actions, { logger: silentLogger });
    expect(Object.keys(adapters).sort()).toEqual(['gateways/haproxy', 'idp/oauth_revocation']);
    await closeAdapters(adapters);
    expect(compileSinks(config.sinks).map((s) => [s.name, s.delivery.deliver])).toEqual([
      ['webhook/soc', 'all'],
      ['webhook/slack', 'changes'],
    ]);
  });

  it("its Kong, IdP and OTLP receivers start on the compose demo's token-hash-key file, and hash as Envoy and nginx do", async () => {
    const config = loadConfig(join(ROOT, 'deploy/examples/meshward.yaml'), {});
    const receivers = structuredClone(config.receivers ?? {}) as Record<string, Record<string, unknown>>;
    // syslog opens listeners of its own and bus needs the example's Kafka; their sections are validated above
    delete receivers.syslog;
    delete receivers.bus;
    expect(Object.keys(receivers)).toEqual(['kong_http_log', 'idp', 'otlp_traces']);
    // the key file every sensor shares (deploy/README.md): a DEMO comment line, then the key, as the Envoy and nginx
    // entrypoints read it
    const keyFile = join(ROOT, 'deploy/compose/demo-secrets/token-hash-key');
    for (const r of Object.values(receivers)) {
      expect(r.token_hash_key_file).toBe('/run/secrets/token-hash-key');
      r.token_hash_key_file = keyFile;
    }
    const app = Fastify();
    const ingest = new CapturingIngest();
    try {
      const running = await startReceivers(receivers, { app, ingest, logger: silentLogger });
      expect(running.describe).toHaveLength(3);
      const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
      const answer = await app.inject({
        method: 'POST',
        url: '/v1/kong/http-log',
        headers: { authorization: `Bearer ${(receivers.kong_http_log.tokens as string[])[0]}` },
        payload: {
          request: {
            method: 'GET',
            uri: '/orders/42',
            url: 'https://api.example.com/orders/42',
            size: 10,
            headers: { host: 'api.example.com', authorization: `Bearer ${token}` },
          },
          response: { status: 200, size: 20 },
          latencies: { request: 12 },
          started_at: 1_700_000_000_000,
          client_ip: '198.51.100.7',
        },
      });
      expect(answer.json()).toMatchObject({ accepted: 1 });
      const envoyKey = readFileSync(keyFile, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l && !l.startsWith('#')) as string;
      expect(ingest.records[0].user?.tokenHash).toBe(tokenHash(envoyKey, token));
      await running.close();
    } finally {
      await app.close();
    }
  });

  it('its bus receiver validates, with the mapping file beside the example', () => {
    const config = loadConfig(join(ROOT, 'deploy/examples/meshward.yaml'), {});
    const bus = config.receivers?.bus as Record<string, unknown>;
    // mapping_file is relative, so the config check reads it from the working directory, as policy_file and
    // catalog_files are read: the example is meant to run from the repository root, and vitest runs there too (pinned
    // here, so a run from elsewhere says so instead of failing on a missing file)
    expect(bus.mapping_file).toBe('deploy/examples/bus-mapping.yaml');
    expect(process.cwd()).toBe(ROOT);
    expect(receiverConfigs({ bus })).toMatchObject([
      {
        type: 'bus',
        config: { brokers: ['kafka-1:9092', 'kafka-2:9092'], group_id: 'meshward-bus-sensor', max_pending: 100_000 },
      },
    ]);
    // the topics it taps: each request topic, then the reply topics (a request/reply mapping and a one-way one)
    expect(compileMapping(loadMappingFile(bus.mapping_file as string)).topics).toEqual([
      'payments.authorize.requests',
      'inventory.commands',
      'customers.profile.requests',
      'orders.events',
      'payments.authorize.replies',
      'inventory.command-results',
      'customers.profile.replies',
    ]);
    // the check does read the file: the path taken from another directory is refused, naming the key
    expect(() => receiverConfigs({ bus: { ...bus, mapping_file: 'bus-mapping.yaml' } })).toThrow(
      /receivers\.bus: mapping_file: bus mapping file bus-mapping\.yaml: ENOENT/,
    );
  });

  it('names the bad key when a section is wrong', () => {
    const base = { api: { api_keys: [] } };
    expect(() =>
      compileDetectors(resolveConfig({ ...base, detectors: { enumeration: { min_distinct: 'x' } } }).detectors),
    ).toThrow(/detectors\.enumeration\.min_distinct: /);
    expect(() => receiverConfigs({ syslog: { listen_udp: 5 } })).toThrow(/receivers\.syslog\.listen_udp: /);
    expect(() => receiverConfigs({ carrier_pigeon: {} })).toThrow(/unknown receiver type/);
    expect(() => actionSettings({ policy_file: 'p.yaml', expiry_interval_ms: -1 })).toThrow(
      /actions\.expiry_interval_ms: /,
    );
    expect(() => actionSettings({})).toThrow(/policy_file/);
    expect(() => actionSettings({ policy_file: 'p.yaml', polcy_fle: 'q.yaml' })).toThrow(/actions\.polcy_fle: /);
    expect(() => createAdapters({ 'gateways/haproxy': { socket: 3 } }, { logger: silentLogger })).toThrow(
      /gateways\/haproxy/,
    );
  });
});
