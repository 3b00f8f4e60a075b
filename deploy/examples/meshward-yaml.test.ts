import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAdapters, createAdapters } from '../../policy-actions/engine/adapter-registry.js';
import { loadPolicyFile } from '../../policy-actions/engine/policy.js';
import { actionSettings } from '../../pipeline/app/actions.js';
import { receiverConfigs } from '../../pipeline/app/receivers.js';
import { loadConfig, resolveConfig } from '../../pipeline/config/load.js';
import { silentLogger } from '../../pipeline/core/logger.js';
import '../../pipeline/detectors/all.js';
import { compileDetectors } from '../../pipeline/detectors/registry.js';
import { compileSinks } from '../../pipeline/sinks/sink-runner.js';

const ROOT = join(import.meta.dirname, '../..');

/** every section of the example config the README shows goes through the validation the roles run at start */
describe('deploy/examples/meshward.yaml', () => {
  it('is a valid config down to each detector, receiver, adapter and sink', async () => {
    const config = loadConfig(join(ROOT, 'deploy/examples/meshward.yaml'), {});
    expect(config.bus.kafka?.compression).toBe('gzip');
    expect(compileDetectors(config.detectors).types).toHaveLength(11);
    expect(receiverConfigs(config.receivers).map((r) => r.type)).toEqual(['syslog', 'kong_http_log', 'idp']);
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
    expect(compileSinks(config.sinks)).toHaveLength(1);
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
