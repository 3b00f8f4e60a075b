import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../detectors/all.js';
import { readSensorTokensFile } from '../collector/sensor-auth.js';
import { runProcess } from './process-runner.js';
import { runCollector } from './roles.js';

class Exit extends Error {}

describe('a process that cannot start says why in one line with its code', () => {
  afterEach(() => vi.restoreAllMocks());

  const configWith = (policyFile: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'meshward-runner-'));
    const file = join(dir, 'meshward.yaml');
    writeFileSync(file, `log_level: silent\ndata_dir: ${join(dir, 'data')}\nactions: { policy_file: ${policyFile} }\n`);
    return { dir, file };
  };

  const run = async (
    config: string,
    actions: boolean,
    start: Parameters<typeof runProcess>[2] = vi.fn(async () => []),
    detectors = false,
  ) => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
      throw new Exit();
    });
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    await runProcess('test', { config, actions, detectors }, start).catch((err) => {
      if (!(err instanceof Exit)) throw err;
    });
    return { exit, start, stderr };
  };

  /** a collector's config file in `dir` with the given `receivers:` entries (YAML lines), and the collector role */
  const collectorConfig = (dir: string, receivers: string) => {
    const file = join(dir, 'meshward.yaml');
    writeFileSync(
      file,
      `log_level: silent\ndata_dir: ${join(dir, 'data')}\ncollector:\n  listen: 127.0.0.1:0\n  sensor_tokens: [{ id: envoy-1, token: envoy-sensor-token-0123 }]\nreceivers:\n${receivers}`,
    );
    return file;
  };
  const collector = async (deps: Parameters<typeof runCollector>[0]) => [await runCollector(deps)];

  it('a missing or invalid policy file: exit 2 with the code and the file, nothing started, no stack trace', async () => {
    const { dir, file } = configWith('/nonexistent/policy.yaml');
    const missing = await run(file, true);
    expect(missing.exit).toHaveBeenCalledWith(2);
    expect(missing.start).not.toHaveBeenCalled();
    expect(missing.stderr).toBe(
      "meshward: MW_ERR_POLICY_INVALID: policy file is invalid: cannot read /nonexistent/policy.yaml: ENOENT: no such file or directory, open '/nonexistent/policy.yaml'\n",
    );

    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'rules:\n  - name: r\n    match: {}\n    action: { type: deny, ttl: soon }\n');
    const bad = await run(configWith(policy).file, true);
    expect(bad.start).not.toHaveBeenCalled();
    expect(bad.stderr).toMatch(`MW_ERR_POLICY_INVALID: policy file is invalid: ${policy}: rules.0.action.ttl: `);
  });

  it('a detector list file that cannot be read: refused before anything starts where the detectors run, not elsewhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshward-runner-'));
    const file = join(dir, 'meshward.yaml');
    writeFileSync(
      file,
      `log_level: silent\ndata_dir: ${join(dir, 'data')}\ndetectors:\n  custom_rules:\n    list_files: { tor_exits: /nonexistent/tor.txt }\n    rules: [{ name: tor, when: 'inList(source.ip, lists.tor_exits)' }]\n`,
    );
    const correlator = await run(file, false, undefined, true);
    expect(correlator.exit).toHaveBeenCalledWith(2);
    expect(correlator.start).not.toHaveBeenCalled();
    expect(correlator.stderr).toBe(
      `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: ${file}: detectors.custom_rules.list_files.tor_exits: cannot read /nonexistent/tor.txt: ENOENT: no such file or directory, open '/nonexistent/tor.txt'\n`,
    );
    vi.restoreAllMocks();
    // a process that does not run the detectors (a collector, an API) starts without the file
    const other = await run(file, false, undefined, false);
    expect(other.start).toHaveBeenCalledTimes(1);
    expect(other.exit).not.toHaveBeenCalled();
  });

  it('an address in use: MW_ERR_CONFIG_INVALID naming the address, not a stack trace', async () => {
    const taken = await new Promise<Server>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => resolve(server));
    });
    const { port } = taken.address() as AddressInfo;
    const { file } = configWith('/unused.yaml');
    const listen = vi.fn(
      () =>
        new Promise<never>((_resolve, reject) => {
          createServer().once('error', reject).listen(port, '127.0.0.1');
        }),
    );
    const { exit, stderr } = await run(file, false, listen);
    taken.close();
    expect(listen).toHaveBeenCalled();
    expect(exit).toHaveBeenCalledWith(2);
    expect(stderr).toBe(
      `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`,
    );
  });

  it('a file the config names that cannot be read (sensor tokens, secrets): MW_ERR_CONFIG_INVALID naming it', async () => {
    const { file } = configWith('/unused.yaml');
    const read = vi.fn(async () => {
      readSensorTokensFile('/nonexistent/sensor-tokens');
      return [];
    });
    const { exit, stderr } = await run(file, false, read);
    expect(exit).toHaveBeenCalledWith(2);
    expect(stderr).toBe(
      "meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: collector.sensor_tokens_file: cannot read /nonexistent/sensor-tokens: ENOENT: no such file or directory, open '/nonexistent/sensor-tokens'\n",
    );
  });

  it("an IdP receiver's secret file that is empty or missing: named by its key as the config file writes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshward-runner-'));
    const empty = join(dir, 'token-hash-key');
    writeFileSync(empty, '\n');
    const collectorWith = (receivers: string) => collectorConfig(dir, receivers);

    const named = await run(
      collectorWith(`  idp/keycloak: { idp_name: keycloak, token_hash_key_file: ${empty} }\n`),
      false,
      collector,
    );
    expect(named.exit).toHaveBeenCalledWith(2);
    expect(named.stderr).toBe(
      `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: receivers.idp/keycloak.token_hash_key_file: ${empty} is empty\n`,
    );

    const missing = join(dir, 'no-such-webhook-token');
    const plain = await run(
      collectorWith(`  idp: { token_hash_key: ${'k'.repeat(16)}, webhook_token_file: ${missing} }\n`),
      false,
      collector,
    );
    expect(plain.exit).toHaveBeenCalledWith(2);
    expect(plain.stderr).toBe(
      `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: receivers.idp.webhook_token_file: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'\n`,
    );
  });

  it("a Kong http-log receiver's key file that is empty, missing or too short: named by its key as the config file writes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshward-runner-'));
    const collectorWith = (receivers: string) => collectorConfig(dir, receivers);
    const failure = async (receivers: string) => {
      const r = await run(collectorWith(receivers), false, collector);
      expect(r.exit).toHaveBeenCalledWith(2);
      return r.stderr;
    };

    const empty = join(dir, 'token-hash-key');
    writeFileSync(empty, '\n');
    expect(await failure(`  kong_http_log/edge: { token_hash_key_file: ${empty} }\n`)).toBe(
      `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: receivers.kong_http_log/edge.token_hash_key_file: ${empty} is empty\n`,
    );

    const missing = join(dir, 'no-such-token-hash-key');
    expect(await failure(`  kong_http_log: { token_hash_key_file: ${missing} }\n`)).toBe(
      `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: receivers.kong_http_log.token_hash_key_file: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'\n`,
    );

    const short = join(dir, 'short-token-hash-key');
    writeFileSync(short, 'fifteen-chars-k\n');
    expect(await failure(`  kong_http_log: { token_hash_key_file: ${short} }\n`)).toBe(
      `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: receivers.kong_http_log.token_hash_key_file: the value in ${short} must be at least 16 characters (a shared secret or key)\n`,
    );
  });
});
