import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiCallRecordSchema } from '../../pipeline/core/record.js';
import { configProblems, parseConfig } from '../../sensors/envoy-wasm/config.js';
import { singleSecret } from './compose-checks.js';
import { busTopics, parseTopicList, parseYamlDocuments, readRepoFile, repoPath, tempDir } from './deploy-helpers.js';

/**
 * The scripts the containers run, run here for real (sh, sed, envsubst, nginx -t, node): the Envoy and nginx
 * entrypoints render the committed configs with secrets from files, the topic scripts create meshward's topics, and
 * the traffic simulator posts valid records with its token to a collector.
 */

const SECRETS = repoPath('deploy/compose/demo-secrets');

function run(script: string, args: string[], env: Record<string, string>) {
  return spawnSync('sh', [repoPath(script), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
}

describe('deploy/compose/envoy-entrypoint.sh', () => {
  const envFor = (dir: string, token = join(SECRETS, 'envoy-sensor-token')) => ({
    ENVOY_CONFIG_TEMPLATE: repoPath('deploy/envoy/envoy.yaml'),
    ENVOY_CONFIG: join(dir, 'envoy.yaml'),
    SENSOR_TOKEN_FILE: token,
    TOKEN_HASH_KEY_FILE: join(SECRETS, 'token-hash-key'),
  });

  it('renders deploy/envoy/envoy.yaml with the secrets from files, then runs the command', () => {
    const dir = tempDir();
    const r = run(
      'deploy/compose/envoy-entrypoint.sh',
      ['printf', '%s|', 'envoy', '-c', '/tmp/envoy.yaml'],
      envFor(dir),
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('envoy|-c|/tmp/envoy.yaml|');
    const rendered = readFileSync(join(dir, 'envoy.yaml'), 'utf8');
    expect(rendered).not.toContain('REPLACE_WITH_');
    const [doc] = parseYamlDocuments(rendered, 'envoy.yaml') as Record<string, never>[];
    const json = /value: \|\n([\s\S]*?\n\s*})/.exec(rendered)?.[1] ?? '';
    const plugin = parseConfig(JSON.parse(json));
    expect(configProblems(plugin)).toEqual([]);
    expect(plugin.sensor_token).toBe(singleSecret(join(SECRETS, 'envoy-sensor-token')));
    expect(plugin.token_hash_key).toBe(singleSecret(join(SECRETS, 'token-hash-key')));
    expect(doc.static_resources).toBeDefined();
  });

  it('refuses a secret that would need quoting, and a missing secret file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), '# DEMO\ndemo-token-with-|-and-&-0123\n');
    const bad = run('deploy/compose/envoy-entrypoint.sh', ['true'], envFor(dir, join(dir, 'token')));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/must hold one value of \[A-Za-z0-9\._~-\]/);
    const missing = run('deploy/compose/envoy-entrypoint.sh', ['true'], envFor(dir, join(dir, 'nothing')));
    expect(missing.status).not.toBe(0);
  });
});

describe('deploy/compose/nginx-entrypoint.sh', () => {
  const envFor = (dir: string) => ({
    MESHWARD_NGINX_TEMPLATE: repoPath('deploy/nginx-logs/nginx.conf.template'),
    MESHWARD_TOKEN_HASH_KEY_FILE: join(SECRETS, 'token-hash-key'),
    MESHWARD_PREFIX: dir,
    MESHWARD_LISTEN: '127.0.0.1:18081',
    MESHWARD_UPSTREAM: '127.0.0.1:18080',
    MESHWARD_SYSLOG: '127.0.0.1:5514',
    MESHWARD_CONF_DIR: repoPath('deploy/nginx-logs'),
  });

  it('fills every placeholder of the template and keeps the nginx variables', () => {
    const dir = tempDir();
    const r = run('deploy/compose/nginx-entrypoint.sh', ['true'], envFor(dir));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const conf = readFileSync(join(dir, 'nginx.conf'), 'utf8');
    const directives = conf.split('\n').filter((l) => !l.trim().startsWith('#'));
    expect(directives.filter((l) => /\$\{MESHWARD_/.test(l))).toEqual([]);
    expect(conf).toContain(`js_var $meshward_token_hash_key "${singleSecret(join(SECRETS, 'token-hash-key'))}"`);
    expect(conf).toContain('access_log syslog:server=127.0.0.1:5514,tag=nginx');
    expect(conf).toContain('proxy_set_header Host $http_host;');
  });

  const nginx = '/usr/sbin/nginx';
  it('renders a config nginx accepts (nginx -t, with njs)', () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const r = run(
      'deploy/compose/nginx-entrypoint.sh',
      [nginx, '-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'],
      envFor(dir),
    );
    expect(r.stderr).toMatch(/syntax is ok/);
    expect(r.status).toBe(0);
  });

  it('refuses to start without the addresses it must fill in', () => {
    const env: Record<string, string> = envFor(tempDir());
    delete env.MESHWARD_SYSLOG;
    const r = run('deploy/compose/nginx-entrypoint.sh', ['true'], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/MESHWARD_SYSLOG/);
  });
});

describe('the Kafka topic scripts (compose and the Kubernetes Job)', () => {
  /** a stand-in kafka-topics.sh that records its arguments */
  function fakeKafkaTopics(dir: string): { bin: string; calls: () => string[] } {
    const bin = join(dir, 'kafka-topics.sh');
    writeFileSync(bin, `#!/bin/sh\necho "$*" >> "${join(dir, 'calls')}"\n`);
    chmodSync(bin, 0o755);
    return { bin, calls: () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') };
  }
  const created = (calls: string[]) =>
    new Map(
      calls
        .map((c) => /--create --if-not-exists --topic (\S+) --partitions (\d+)/.exec(c))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => [m[1], Number(m[2])]),
    );

  it('deploy/compose/kafka-topics.sh creates every topic of pipeline/bus/bus.ts, idempotently', () => {
    const dir = tempDir();
    const fake = fakeKafkaTopics(dir);
    const r = run('deploy/compose/kafka-topics.sh', [], { KAFKA_TOPICS_BIN: fake.bin, KAFKA_BOOTSTRAP: 'kafka:9092' });
    expect(r.status).toBe(0);
    const topics = created(fake.calls());
    expect([...topics.keys()].sort()).toEqual(busTopics().sort());
    expect(fake.calls().every((c) => c.startsWith('--bootstrap-server kafka:9092'))).toBe(true);
  });

  it('the Job in deploy/k8s runs the same loop over the same list', () => {
    const [job] = parseYamlDocuments(readRepoFile('deploy/k8s/kafka-topics-job.yaml'), 'job') as {
      spec: {
        template: {
          spec: { containers: { command: string[]; args: string[]; env: { name: string; value: string }[] }[] };
        };
      };
    }[];
    const c = job.spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    const dir = tempDir();
    const fake = fakeKafkaTopics(dir);
    const script = c.args[0].replaceAll('/opt/kafka/bin/kafka-topics.sh', fake.bin);
    execFileSync(c.command[0], [...c.command.slice(1), script], { env: { PATH: process.env.PATH ?? '', ...env } });
    const composeList = /^TOPICS="([^"]*)"/m.exec(readRepoFile('deploy/compose/kafka-topics.sh'))?.[1] ?? '';
    expect(created(fake.calls())).toEqual(parseTopicList(composeList));
  });
});

describe('deploy/docker/live-traffic.mjs (the compose traffic service)', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  it('posts valid records to the collector with its sensor token, and stops on SIGTERM', async () => {
    const token = singleSecret(join(SECRETS, 'traffic-sensor-token'));
    const batches: { auth?: string; path?: string; records: unknown[] }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        batches.push({
          auth: req.headers.authorization,
          path: req.url,
          records: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":0,"ids":[],"rejected":[]}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const child = spawn(process.execPath, [repoPath('deploy/docker/live-traffic.mjs')], {
        env: {
          PATH: process.env.PATH ?? '',
          MESHWARD_COLLECTOR_URL: `http://127.0.0.1:${port}`,
          MESHWARD_SENSOR_TOKEN_FILE: join(SECRETS, 'traffic-sensor-token'),
          MESHWARD_TRAFFIC_BACKFILL_MINUTES: '2',
          MESHWARD_TRAFFIC_RPS: '1',
          MESHWARD_TRAFFIC_SEED: '7',
          MESHWARD_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const deadline = Date.now() + 20_000;
      while (batches.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(batches.length).toBeGreaterThan(0);
      expect(batches[0].auth).toBe(`Bearer ${token}`);
      expect(batches[0].path).toBe('/v1/records');
      const records = batches.flatMap((b) => b.records);
      expect(records.length).toBeGreaterThan(0);
      for (const rec of records.slice(0, 50))
        expect([...Value.Errors(ApiCallRecordSchema, rec)].map((e) => e.message)).toEqual([]);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      server.close();
    }
  });

  it('refuses to start without a collector URL or a token', () => {
    const noUrl = spawnSync(process.execPath, [repoPath('deploy/docker/live-traffic.mjs')], {
      env: { PATH: process.env.PATH ?? '', MESHWARD_SENSOR_TOKEN_FILE: join(SECRETS, 'traffic-sensor-token') },
      encoding: 'utf8',
    });
    expect(noUrl.status).toBe(2);
    expect(noUrl.stderr).toMatch(/MESHWARD_COLLECTOR_URL/);
    const noToken = spawnSync(process.execPath, [repoPath('deploy/docker/live-traffic.mjs')], {
      env: { PATH: process.env.PATH ?? '', MESHWARD_COLLECTOR_URL: 'http://127.0.0.1:9' },
      encoding: 'utf8',
    });
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toMatch(/sensor token/);
  });
});
