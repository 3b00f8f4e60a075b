import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type Compose, checkCompose, readCompose } from './compose-checks.js';
import { cliCommands, packageDir, readRepoFile, registeredCommandGroups, repoPath, tempDir } from './deploy-helpers.js';

/**
 * docker-compose.yml, checked without Docker: against the Compose Specification schema (the copy the dclint package
 * ships, when installed) and against the code it runs (see compose-checks.ts). Each cross-check is shown to fail on
 * a mutated copy.
 */

const COMPOSE = readRepoFile('docker-compose.yml');
const fresh = (): Compose => readCompose(COMPOSE);
/** `actions` is the subcommand of the policy engine, added in parallel with this deployment */
const PENDING = ['actions'];

const dclintDir = packageDir('dclint');

interface DCLinterClass {
  new (config: {
    rules: Record<string, unknown>;
    quiet: boolean;
    debug: boolean;
    exclude: string[];
  }): {
    lintFiles(paths: string[], recursive: boolean): { messages: { line: number; rule: string; message: string }[] }[];
  };
}

function composeSchemaErrors(doc: unknown): string[] {
  const schema = JSON.parse(readFileSync(join(dclintDir as string, 'schemas/compose.schema.json'), 'utf8'));
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  const validate = ajv.compile(schema);
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

describe('docker-compose.yml against the Compose Specification', () => {
  it('validates against the compose-spec JSON schema', () => {
    expect(composeSchemaErrors(fresh())).toEqual([]);
    const bad = fresh();
    (bad.services.collector as Record<string, unknown>).ports = '7071:7071';
    (bad.services.api as Record<string, unknown>).restart_policy = 'always';
    const errors = composeSchemaErrors(bad);
    expect(errors.join('\n')).toMatch(/\/services\/collector\/ports must be array/);
    expect(errors.join('\n')).toMatch(/must NOT have additional properties/);
  });

  it('passes dclint (schema, explicit image tags, unique and quoted ports, bound interfaces)', async () => {
    // imported by name at run time, so the type check does not need the optional package
    const specifier = 'dclint';
    const { DCLinter } = (await import(specifier)) as { DCLinter: DCLinterClass };
    // the rules about correctness and safety; the ordering and style rules are off (the file reads top-down)
    const rules = {
      'no-duplicate-container-names': 2,
      'no-duplicate-exported-ports': 2,
      'no-unbound-port-interfaces': 2,
      'no-version-field': 2,
      'require-quotes-in-ports': [2, { quoteType: 'double' }],
      'service-image-require-explicit-tag': 2,
      'require-project-name-field': 2,
      'no-build-and-image': 0,
      'no-quotes-in-volumes': 0,
      'service-container-name-regex': 0,
      'service-dependencies-alphabetical-order': 0,
      'service-keys-order': 0,
      'service-ports-alphabetical-order': 0,
      'services-alphabetical-order': 0,
      'top-level-properties-order': 0,
    } as const;
    const lint = (file: string) =>
      new DCLinter({ rules, quiet: true, debug: false, exclude: [] }).lintFiles([file], false);
    const [result] = lint(repoPath('docker-compose.yml'));
    expect(result.messages.map((m) => `${m.line}: ${m.rule}: ${m.message}`)).toEqual([]);

    const dir = tempDir();
    const mutated = COMPOSE.replace('image: redis:7.4.2-alpine', 'image: redis').replace(
      '"127.0.0.1:8081:8080"',
      '"127.0.0.1:8080:8080"',
    );
    writeFileSync(join(dir, 'docker-compose.yml'), mutated);
    const rulesHit = lint(join(dir, 'docker-compose.yml'))[0].messages.map((m) => m.rule);
    expect(rulesHit).toEqual(
      expect.arrayContaining(['service-image-require-explicit-tag', 'no-duplicate-exported-ports']),
    );
  });
});

describe('docker-compose.yml against the code it runs', () => {
  it('the CLI is the one program.ts builds for main.ts (the checks parse commands with the same registrations)', () => {
    expect(registeredCommandGroups().sort()).toEqual([
      'registerAnalystCommands',
      'registerOfflineCommands',
      'registerRulesCommands',
      'registerServiceCommands',
    ]);
    expect(cliCommands()).toEqual(expect.arrayContaining(['collector', 'correlator', 'api']));
  });

  it('holds together: commands, configs, ports, health checks, mounts, secrets, addresses', async () => {
    expect(await checkCompose(fresh(), { pendingCommands: PENDING })).toEqual([]);
  });

  it('runs the actions role with the real `meshward actions` subcommand', async () => {
    if (!cliCommands().includes('actions')) {
      console.warn('meshward actions is not in the CLI yet: the compose actions service is declared but unchecked');
      return;
    }
    expect(await checkCompose(fresh())).toEqual([]);
  });

  it('catches a subcommand or flag the CLI does not have', async () => {
    const c = fresh();
    c.services['correlator-2'].command = ['corelator', '-c', '/etc/meshward/meshward.yaml'];
    c.services.collector.command = ['collector', '-c', '/etc/meshward/meshward.yaml', '--listen', '0.0.0.0:7071'];
    const problems = (await checkCompose(c, { pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/correlator-2: meshward corelator .*unknown command/);
    expect(problems).toMatch(/collector: meshward collector .*unknown option '--listen'/);
    expect(problems).toMatch(/1 correlator services/);
  });

  it('catches a config the real loader refuses, and one that listens on loopback', async () => {
    const dir = tempDir();
    const yaml = readRepoFile('deploy/compose/meshward.yaml');
    writeFileSync(join(dir, 'bad-key.yaml'), yaml.replace('correlator:\n', 'corelator:\n'));
    writeFileSync(join(dir, 'loopback.yaml'), yaml.replace('listen: 0.0.0.0:7070', 'listen: 127.0.0.1:7070'));
    writeFileSync(join(dir, 'bad-receiver.yaml'), yaml.replace('format: nginx_json', 'format: nginx'));
    const c = fresh();
    c.services.collector.volumes = [`${join(dir, 'bad-receiver.yaml')}:/etc/meshward/meshward.yaml:ro`];
    c.services['correlator-1'].volumes = [`${join(dir, 'bad-key.yaml')}:/etc/meshward/meshward.yaml:ro`];
    c.services.api.volumes = [`${join(dir, 'loopback.yaml')}:/etc/meshward/meshward.yaml:ro`];
    const problems = (await checkCompose(c, { pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/correlator-1: .*bad-key.yaml: .*corelator/);
    expect(problems).toMatch(/api: listens on 127\.0\.0\.1:7070, unreachable/);
    expect(problems).toMatch(/collector: .*bad-receiver\.yaml: .*receivers\.syslog\.format: /);
  });

  it('catches ports and health checks that do not match the listen address or a real route', async () => {
    const c = fresh();
    c.services.collector.ports = ['127.0.0.1:7071:7171'];
    const test = c.services.api.healthcheck?.test as string[];
    c.services.api.healthcheck = { test: test.map((t) => t.replace('7070/healthz', '7070/health')) };
    const actionsTest = c.services.actions.healthcheck?.test as string[];
    c.services.actions.healthcheck = { test: actionsTest.map((t) => t.replace(':7072/', ':7070/')) };
    const problems = (await checkCompose(c, { pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/collector: publishes container port 7171, but collector listens on 7071/);
    expect(problems).toMatch(/api: healthcheck path \/health answers 404/);
    if (cliCommands().includes('actions'))
      expect(problems).toMatch(/actions: healthcheck calls port 7070, but actions listens on 7072/);
  });

  it('catches missing files, undeclared secrets and inline secrets', async () => {
    const c = fresh();
    c.services.collector.volumes = ['./deploy/compose/meshward.yml:/etc/meshward/meshward.yaml:ro'];
    c.services.api.secrets = [];
    c.services.traffic.secrets = ['traffic_token'];
    c.services.traffic.environment = { ...(c.services.traffic.environment as object), MESHWARD_SENSOR_TOKEN: 'abc' };
    const problems = (await checkCompose(c, { pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/collector: mounts deploy\/compose\/meshward\.yml, which does not exist/);
    expect(problems).toMatch(/api: \/api\/api_keys_file is \/run\/secrets\/api_keys, which is not mounted/);
    expect(problems).toMatch(/traffic: uses secret traffic_token, which is not declared/);
    expect(problems).toMatch(/traffic: MESHWARD_SENSOR_TOKEN is set inline/);
  });

  it('catches secret and policy files the roles would refuse, and sensors whose token the collector does not know', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'sensor-tokens'), '# DEMO\nenvoy-demo-1 demo-short\n');
    writeFileSync(join(dir, 'envoy-token'), '# DEMO\ndemo-some-other-token-0123456789\n');
    const c = fresh();
    const secrets = c.secrets as Record<string, { file: string }>;
    secrets.sensor_tokens.file = join(dir, 'sensor-tokens');
    secrets.envoy_sensor_token.file = join(dir, 'envoy-token');
    writeFileSync(
      join(dir, 'policy.yaml'),
      readRepoFile('deploy/compose/policy.yaml').replace('ttl: 15m', 'ttl: soon'),
    );
    c.services.actions.volumes = [
      './deploy/compose/meshward.yaml:/etc/meshward/meshward.yaml:ro',
      `${join(dir, 'policy.yaml')}:/etc/meshward/policy.yaml:ro`,
    ];
    const problems = (await checkCompose(c, { pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(
      /collector: \/collector\/sensor_tokens_file .*sensor-tokens:2: the token must be at least 16/,
    );
    if (cliCommands().includes('actions'))
      expect(problems).toMatch(/actions: \/actions\/policy_file .*policy\.yaml: .*soon/);
    expect(problems).toMatch(/envoy: its sensor token is not in the collector's sensor tokens/);
  });

  it('catches a Kafka password file and a receiver key file the roles would refuse (secret files, 16 characters)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'kafka-password'), '\n');
    writeFileSync(join(dir, 'kong-key'), '# DEMO\ndemo-short-key\n');
    const config = parse(readRepoFile('deploy/compose/meshward.yaml')) as {
      bus: { kafka: Record<string, unknown> };
      receivers: Record<string, unknown>;
    };
    config.bus.kafka.sasl = {
      mechanism: 'scram-sha-512',
      username: 'meshward',
      password_file: '/run/secrets/kafka_password',
    };
    config.receivers.kong_http_log = { token_hash_key_file: '/run/secrets/kong_key' };
    writeFileSync(join(dir, 'meshward.yaml'), stringify(config));
    const c = fresh();
    const secrets = c.secrets as Record<string, { file: string }>;
    secrets.kafka_password = { file: join(dir, 'kafka-password') };
    secrets.kong_key = { file: join(dir, 'kong-key') };
    c.services.collector.volumes = [`${join(dir, 'meshward.yaml')}:/etc/meshward/meshward.yaml:ro`];
    c.services.collector.secrets = [...(c.services.collector.secrets ?? []), 'kafka_password', 'kong_key'];
    const problems = (await checkCompose(c, { pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(
      /collector: \/bus\/kafka\/sasl\/password_file .*kafka-password: .*bus\.kafka\.sasl\.password_file: .*kafka-password is empty/,
    );
    expect(problems).toMatch(
      /collector: \/receivers\/kong_http_log\/token_hash_key_file .*kong-key: .*receivers\.kong_http_log\.token_hash_key_file: the value in .*kong-key must be at least 16 characters/,
    );
  });

  it('catches addresses that do not reach the service they mean', async () => {
    const c = fresh();
    (c.services.collector.networks as Record<string, { aliases: string[] }>).default.aliases = [];
    c.services.traffic.environment = {
      ...(c.services.traffic.environment as object),
      MESHWARD_COLLECTOR_URL: 'http://collector:7070',
    };
    c.services.nginx.environment = { ...(c.services.nginx.environment as object), MESHWARD_SYSLOG: 'collector:514' };
    c.services.kafka.environment = {
      ...(c.services.kafka.environment as object),
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://localhost:9092',
    };
    const problems = (await checkCompose(c, { pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/envoy \(sensor\): sends to meshward-collector, which is not the collector service/);
    expect(problems).toMatch(/traffic: sends to port 7070, but the collector listens on 7071/);
    expect(problems).toMatch(/nginx: syslog goes to port 514, the receiver listens on 5514/);
    expect(problems).toMatch(/Kafka broker kafka:9092 is not among kafka's advertised listeners/);
  });

  it('catches a topic list that misses a topic or has fewer partitions than correlators', async () => {
    const dir = tempDir();
    const script = readRepoFile('deploy/compose/kafka-topics.sh').replace(
      /^TOPICS=.*$/m,
      'TOPICS="meshward.calls:1 meshward.alerts:6 meshward.decisions:3"',
    );
    writeFileSync(join(dir, 'kafka-topics.sh'), script);
    const c = fresh();
    c.services['kafka-init'].volumes = [`${join(dir, 'kafka-topics.sh')}:/etc/meshward/kafka-topics.sh:ro`];
    const problems = (await checkCompose(c, { pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/topic meshward\.calls\.dlq .* is not created/);
    expect(problems).toMatch(/meshward\.calls has 1 partitions, fewer than the 2 correlators/);
  });

  it('catches a console edge that sends the decisions API to the analyst API', async () => {
    const dir = tempDir();
    const conf = readRepoFile('deploy/compose/console-edge.conf').replace(
      'location /v1/audit {\n    proxy_pass http://actions:7072;',
      'location /v1/audit {\n    proxy_pass http://api:7070;',
    );
    writeFileSync(join(dir, 'console-edge.conf'), conf);
    const c = fresh();
    c.services.console.volumes = [`${join(dir, 'console-edge.conf')}:/etc/nginx/conf.d/default.conf:ro`];
    const problems = (await checkCompose(c, { pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/console: \/v1\/audit \(decisions API\) is not routed to the actions service/);
  });

  it('reads the file the way Compose does (merge keys, interpolation, $$)', () => {
    const c = readCompose(COMPOSE, { MESHWARD_SECRETS_DIR: '/srv/meshward-secrets' });
    expect((c.secrets as Record<string, { file: string }>).api_keys.file).toBe('/srv/meshward-secrets/api-keys');
    expect(c.services['correlator-1'].image).toBe('meshward:0.1.0');
    expect(String(c.services['demo-client'].command)).toContain('$caller');
    expect(stringify(c)).not.toContain('<<');
  });
});
