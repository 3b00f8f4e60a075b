import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { type KafkaMock, startKafkaMock } from '../../test/harness/kafka.js';
import { freePort } from '../../test/harness/ports.js';
import { type RedisServer, startRedis } from '../../test/harness/redis.js';
import { meshwardProgram } from '../cli/program.js';
import { MeshwardError } from '../core/errors.js';
import { failureLine } from '../core/failure-line.js';
import { checkConfig, formatConfigCheck } from './config-check.js';
import { checkConnections } from './connect-check.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAPPING = join(ROOT, 'sensors', 'bus', 'testdata', 'mapping.yaml');
const dir = mkdtempSync(join(tmpdir(), 'mw-config-check-'));
const SENSOR_TOKEN = 'edge-token-0123456789abcdef';
const API_KEY = 'admin-key-0123456789abcdef';
const SECRETS: Record<string, string> = {
  'sensor-tokens': `# sensor id, token\nedge-1 ${SENSOR_TOKEN}\nedge-2 ${SENSOR_TOKEN}-2\n`,
  'api-keys': `alice admin ${API_KEY}\nbob viewer ${API_KEY}-2\n`,
  'token-hash-key': 'token-hash-key-0123456789abcdef\n',
  'idp-client-secret': 'idp-client-secret-0123456789\n',
};

/** the example config of deploy/examples, its /run/secrets files written to a temp folder (`without`: left out) */
function exampleConfig(name: string, without?: string): string {
  const folder = mkdtempSync(join(dir, `${name}-`));
  for (const [file, text] of Object.entries(SECRETS)) if (file !== without) writeFileSync(join(folder, file), text);
  const text = readFileSync(join(ROOT, 'deploy/examples/meshward.yaml'), 'utf8').replaceAll('/run/secrets', folder);
  const path = join(folder, 'meshward.yaml');
  writeFileSync(path, text);
  return path;
}

function configFile(name: string, doc: object): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(doc));
  return path;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MeshwardError);
  return failureLine(err);
}

const tokensOnly = { collector: { sensor_tokens: [{ id: 'edge-1', token: SENSOR_TOKEN }] } };

describe('meshward check: a config checked as its process would check it, without starting anything', () => {
  it('reports every part of the example deployment and never prints a secret', async () => {
    const path = exampleConfig('ok');
    const check = await checkConfig({ config: path });
    const text = formatConfigCheck(check);
    expect(text.split('\n')[0]).toBe(`${path}: valid for start`);
    const line = (part: string) => check.parts.find((p) => p.part === part)?.detail;
    expect(line('bus')).toBe('kafka kafka-1:9092, kafka-2:9092');
    expect(line('store')).toBe('redis redis://redis:6379/0');
    expect(line('collector')).toBe('0.0.0.0:7071, 2 sensor token(s)');
    expect(line('receivers')).toMatch(/^syslog, kong_http_log, idp/);
    expect(line('correlator')).toMatch(
      /^13 detectors: metric_anomaly, .*; catalogue 1 file\(s\), \d+ entries; fan_out, token_mismatch on keyed streams$/,
    );
    expect(line('api')).toBe('0.0.0.0:7070, 2 API key(s)');
    expect(line('sinks')).toBe('webhook/soc, webhook/slack (changes, repeat 240 min, high and above)');
    expect(line('actions')).toMatch(
      /^policy deploy\/demo\/policy\.yaml: [1-9]\d* rule\(s\); adapters gateways\/haproxy, idp\/oauth_revocation$/,
    );
    // the sensor tokens, the API keys, the receivers' key (one file for both) and the IdP client secret
    expect(line('files')).toBe('4 secret file(s) read (never shown), 0 certificate bundle(s) readable');
    for (const secret of [SENSOR_TOKEN, API_KEY, 'token-hash-key-0123', 'idp-client-secret-0123'])
      expect(text).not.toContain(secret);
  });

  it('refuses a secret file the config names that cannot be read, naming the option and the file', async () => {
    const cases: [string, RegExp][] = [
      ['sensor-tokens', /collector\.sensor_tokens_file: cannot read .*sensor-tokens/],
      ['api-keys', /api\.api_keys_file: cannot read .*api-keys/],
      ['token-hash-key', /token_hash_key_file: cannot read .*token-hash-key/],
      ['idp-client-secret', /client_secret_file: cannot read .*idp-client-secret/],
    ];
    for (const [missing, why] of cases) {
      const line = await refusal(checkConfig({ config: exampleConfig(`no-${missing}`, missing) }));
      expect(line, missing).toMatch(/^meshward: MW_ERR_CONFIG_INVALID: /);
      expect(line, missing).toMatch(why);
    }
  });

  it('refuses a shared secret file shorter than 16 characters, as the receiver or sink would when created', async () => {
    const short = join(dir, 'short-secret');
    writeFileSync(short, 'too-short\n');
    const keys = { api_keys: [{ name: 'alice', role: 'admin', key: API_KEY }] };
    const cases: [string, object, string][] = [
      [
        'collector',
        { ...tokensOnly, receivers: { 'idp/okta': { token_hash_key_file: short } } },
        'receivers.idp/okta.token_hash_key_file',
      ],
      [
        'collector',
        {
          ...tokensOnly,
          receivers: { idp: { token_hash_key_file: join(dir, 'long-key'), webhook_token_file: short } },
        },
        'receivers.idp.webhook_token_file',
      ],
      [
        'api',
        { api: keys, sinks: { 'webhook/soc': { url: 'https://soc.example/h', secret_file: short } } },
        'sinks.webhook/soc.secret_file',
      ],
    ];
    writeFileSync(join(dir, 'long-key'), '# the receivers key\ntoken-hash-key-0123456789abcdef\n');
    for (const [i, [role, doc, option]] of cases.entries()) {
      const line = await refusal(checkConfig({ config: configFile(`short-${i}`, doc), role: role as 'api' }));
      expect(line).toBe(
        `meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: ${option}: the value in ${short} must be at least 16 characters (a shared secret or key)`,
      );
    }
    // a credential another system issues keeps that system's length
    const bearer = { api: keys, sinks: { 'webhook/soc': { url: 'https://soc.example/h', bearer_token_file: short } } };
    expect((await checkConfig({ config: configFile('short-bearer', bearer), role: 'api' })).role).toBe('api');
  });

  it('checks what the role needs: sensor tokens for a collector, an actions section for the actions role', async () => {
    const bare = configFile('bare', {});
    expect(await refusal(checkConfig({ config: bare }))).toContain(
      'collector.sensor_tokens: at least one sensor token is needed',
    );
    expect(await refusal(checkConfig({ config: bare, role: 'collector' }))).toContain('at least one sensor token');
    expect(await refusal(checkConfig({ config: bare, role: 'api' }))).toContain('api.api_keys: configure API keys');
    expect(await refusal(checkConfig({ config: bare, role: 'actions' }))).toContain('the actions role needs');
    const correlator = await checkConfig({ config: bare, role: 'correlator' });
    expect(correlator.parts.map((p) => p.part)).toEqual(['bus', 'store', 'correlator', 'files']);
  });

  it("reads only the files of the role's own sections (a pod mounts the secrets of its role)", async () => {
    const noTokens = exampleConfig('role-no-tokens', 'sensor-tokens');
    const correlator = await checkConfig({ config: noTokens, role: 'correlator' });
    expect(correlator.parts.find((p) => p.part === 'files')?.detail).toMatch(/^0 secret file/);
    const api = await checkConfig({ config: noTokens, role: 'api' });
    // the API keys and the IdP client secret of the actions adapters
    expect(api.parts.find((p) => p.part === 'files')?.detail).toMatch(/^2 secret file/);
    expect(await refusal(checkConfig({ config: noTokens, role: 'collector' }))).toContain('sensor_tokens_file');
    const noClientSecret = exampleConfig('role-no-client-secret', 'idp-client-secret');
    expect((await checkConfig({ config: noClientSecret, role: 'collector' })).role).toBe('collector');
    expect(await refusal(checkConfig({ config: noClientSecret, role: 'actions' }))).toContain('client_secret_file');
  });

  it("reads a bus receiver's SASL password file and CA bundle for the collector, naming the receiver's key", async () => {
    const password = join(dir, 'bus-tap-password');
    writeFileSync(password, 'bus-tap-password-0123456789\n');
    const ca = join(dir, 'bus-ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const withBus = (passwordFile: string) =>
      configFile(`bus-sasl-${passwordFile === password ? 'ok' : 'missing'}`, {
        ...tokensOnly,
        receivers: {
          'bus/orders': {
            brokers: ['kafka-tap:9093'],
            mapping_file: join(ROOT, 'sensors/bus/testdata/mapping.yaml'),
            ssl: true,
            ssl_ca_file: ca,
            sasl: { mechanism: 'scram-sha-512', username: 'meshward-tap', password_file: passwordFile },
          },
        },
      });
    const check = await checkConfig({ config: withBus(password), role: 'collector' });
    expect(check.parts.find((p) => p.part === 'files')?.detail).toBe(
      '1 secret file(s) read (never shown), 1 certificate bundle(s) readable',
    );
    expect(formatConfigCheck(check)).not.toContain('bus-tap-password-0123');
    const missing = join(dir, 'no-such-bus-password');
    expect(await refusal(checkConfig({ config: withBus(missing), role: 'collector' }))).toMatch(
      /^meshward: MW_ERR_CONFIG_INVALID: .*receivers\.bus\/orders\.sasl\.password_file: cannot read .*no-such-bus-password/,
    );
    // the correlator's pod does not mount the collector's secrets: its check does not read them
    expect((await checkConfig({ config: withBus(missing), role: 'correlator' })).role).toBe('correlator');
  });

  it('refuses a broken policy file, catalogue file, list file, CA bundle or data directory as start would', async () => {
    const badPolicy = join(dir, 'bad-policy.yaml');
    writeFileSync(badPolicy, 'rules:\n  - when: {}\n');
    const withPolicy = configFile('bad-policy', {
      ...tokensOnly,
      api: { api_keys: [{ name: 'alice', role: 'admin', key: API_KEY }] },
      actions: { policy_file: badPolicy },
    });
    expect(await refusal(checkConfig({ config: withPolicy }))).toMatch(/^meshward: MW_ERR_POLICY_INVALID: /);

    const badCatalog = join(dir, 'bad-catalog.jsonl');
    writeFileSync(badCatalog, '{"id": "x", "name": \n');
    const withCatalog = configFile('bad-catalog', {
      ...tokensOnly,
      detectors: { api_discovery: { catalog_files: [badCatalog] } },
    });
    expect(await refusal(checkConfig({ config: withCatalog, role: 'correlator' }))).toMatch(
      /^meshward: MW_ERR_CATALOG_INVALID: .*bad-catalog\.jsonl/,
    );

    const longEntry = join(dir, 'scanners-ua.txt');
    writeFileSync(longEntry, `# scanner user agents\nsqlmap\n${'x'.repeat(600)}\n`);
    const withList = configFile('bad-list', {
      ...tokensOnly,
      detectors: { custom_rules: { list_files: { scanners_ua: longEntry } } },
    });
    expect(await refusal(checkConfig({ config: withList, role: 'correlator' }))).toMatch(
      /^meshward: MW_ERR_CONFIG_INVALID: .*detectors\.custom_rules\.list_files\.scanners_ua: .*scanners-ua\.txt line 3: an entry longer than 512 characters/,
    );
    // a collector does not run the detectors: it does not read their list files
    expect((await checkConfig({ config: withList, role: 'collector' })).role).toBe('collector');

    const noCa = configFile('no-ca', {
      bus: { kind: 'kafka', kafka: { brokers: ['k:9092'], ssl: true, ssl_ca_file: join(dir, 'no-such-ca.pem') } },
    });
    expect(await refusal(checkConfig({ config: noCa, role: 'correlator' }))).toMatch(
      /^meshward: MW_ERR_CONFIG_INVALID: .*cannot read .*no-such-ca\.pem/,
    );

    const aFile = join(dir, 'a-file');
    writeFileSync(aFile, '');
    const underFile = configFile('under-file', { data_dir: join(aFile, 'data') });
    expect(await refusal(checkConfig({ config: underFile, role: 'correlator' }))).toContain(
      `data_dir: ${join(aFile, 'data')} cannot be created (${aFile} is not a directory)`,
    );
  });

  it('prints the report from the command line, or the problem in one line', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await meshwardProgram()
        .exitOverride()
        .parseAsync(['check', '-c', exampleConfig('cli')], { from: 'user' });
      const printed = out.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toContain(': valid for start\n  bus         kafka kafka-1:9092, kafka-2:9092\n');
      expect(printed).toContain('  connect     not tried (--connect reaches Kafka and Redis)\n');
    } finally {
      out.mockRestore();
    }
    const err = await meshwardProgram()
      .exitOverride()
      .parseAsync(['check', '-c', exampleConfig('cli-missing', 'api-keys'), '--role', 'api'], { from: 'user' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(failureLine(err)).toMatch(/^meshward: MW_ERR_CONFIG_INVALID: .*api\.api_keys_file: cannot read/);
  });
});

describe('meshward check --connect: reaches the Kafka brokers and the Redis server the config names', () => {
  let kafka: KafkaMock;
  let redis: RedisServer;
  beforeAll(async () => {
    kafka = await startKafkaMock({
      brokers: 1,
      topics: [
        { name: 'meshward.calls', partitions: 6 },
        { name: 'meshward.alerts', partitions: 2 },
        { name: 'orders.requests', partitions: 1 },
        { name: 'orders.replies', partitions: 1 },
      ],
    });
    redis = await startRedis();
  });
  afterAll(async () => {
    await kafka?.stop();
    await redis?.stop();
  });

  it('says which meshward topics exist with their partitions, and that Redis answers', async () => {
    const check = await checkConfig({
      config: configFile('reachable', {
        ...tokensOnly,
        bus: { kind: 'kafka', kafka: { brokers: kafka.bootstrap, idempotent: false } },
        store: { kind: 'redis', url: redis.url },
      }),
      role: 'correlator',
    });
    const [k, r] = await checkConnections(check, 10_000);
    expect(k).toEqual({
      part: 'kafka',
      detail: `reached ${kafka.bootstrap.join(', ')}; meshward.calls 6 partition(s), meshward.calls.dlq missing, meshward.calls.by-trace missing, meshward.calls.by-token missing, meshward.alerts 2 partition(s), meshward.decisions missing`,
    });
    expect(r.part).toBe('redis');
    expect(r.detail).toMatch(/^reached redis:\/\/127\.0\.0\.1:\d+.*; PING answered, Redis \d+\.\d+/);
  });

  it("reaches a collector's bus receivers with their own client options and says which tapped topics exist", async () => {
    const receiver = (brokers: string[]) => ({
      ...tokensOnly,
      receivers: { 'bus/orders': { brokers, mapping_file: MAPPING } },
    });
    const check = await checkConfig({ config: configFile('tapped', receiver(kafka.bootstrap)), role: 'collector' });
    const tapped = (check.receivers[0].compiled as { topics: string[] }).topics;
    expect(tapped).toHaveLength(5);
    const missing = tapped.filter((t) => t !== 'orders.requests' && t !== 'orders.replies');
    expect(await checkConnections(check, 10_000)).toEqual([
      {
        part: 'receivers.bus/orders',
        detail: `reached ${kafka.bootstrap.join(', ')}; 2 of 5 tapped topics present, missing: ${missing.join(', ')}`,
      },
    ]);
    // a correlator does not run the receivers: nothing of theirs is reached
    const correlator = await checkConfig({
      config: configFile('tapped-correlator', receiver(kafka.bootstrap)),
      role: 'correlator',
    });
    expect(await checkConnections(correlator, 10_000)).toEqual([
      { part: 'connect', detail: 'embedded bus and store: nothing to reach' },
    ]);
    const nobody = await freePort();
    const down = await checkConfig({
      config: configFile('tapped-down', receiver([`127.0.0.1:${nobody}`])),
      role: 'collector',
    });
    expect(await refusal(checkConnections(down, 1_500))).toMatch(
      new RegExp(
        `^meshward: MW_ERR_BUS_UNAVAILABLE: .*cannot reach receivers\\.bus/orders kafka 127\\.0\\.0\\.1:${nobody}: `,
      ),
    );
  });

  it('refuses brokers or a Redis server that do not answer, with the reason and no password', async () => {
    const nobody = await freePort();
    const check = await checkConfig({
      config: configFile('unreachable', {
        ...tokensOnly,
        bus: { kind: 'kafka', kafka: { brokers: [`127.0.0.1:${nobody}`], idempotent: false } },
        store: { kind: 'redis', url: `redis://:hunter2-redis-password@127.0.0.1:${nobody}/0` },
      }),
      role: 'correlator',
    });
    const bus = await refusal(checkConnections(check, 1_500));
    expect(bus).toMatch(
      new RegExp(`^meshward: MW_ERR_BUS_UNAVAILABLE: .*cannot reach kafka 127\\.0\\.0\\.1:${nobody}: `),
    );
    const redisOnly = { ...check, config: { ...check.config, bus: { ...check.config.bus, kind: 'memory' as const } } };
    const store = await refusal(checkConnections(redisOnly, 1_500));
    expect(store).toMatch(
      /^meshward: MW_ERR_STORE_UNAVAILABLE: .*cannot reach redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: /,
    );
    expect(store).toMatch(/ECONNREFUSED/);
    expect(store).not.toContain('hunter2');
  });
});
