import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { type KafkaMock, startKafkaMock } from './kafka.js';
import { freePort } from './ports.js';
import { spawnNode } from './processes.js';
import { ping, startRedis } from './redis.js';

const kafkaClient = (mock: KafkaMock) =>
  new Kafka({
    brokers: mock.bootstrap,
    clientId: 'harness-test',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 500,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
  });

describe('kafka mock cluster', () => {
  let mock: KafkaMock | undefined;
  afterAll(async () => {
    await mock?.stop();
  });

  it('starts with N brokers and pre-created topics, and creates topics on command', async () => {
    mock = await startKafkaMock({ brokers: 2, topics: [{ name: 'harness.pre', partitions: 4 }] });
    expect(mock.bootstrap).toHaveLength(2);
    for (const b of mock.bootstrap) expect(b).toMatch(/^127\.0\.0\.1:\d+$/);

    await mock.createTopic('harness.later', 3);
    const admin = kafkaClient(mock).admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: ['harness.pre', 'harness.later'] });
      const parts = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
      expect(parts).toEqual({ 'harness.pre': 4, 'harness.later': 3 });
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2]);
    } finally {
      await admin.disconnect();
    }
  });

  it('answers broker down/up and the broker really refuses connections while down', async () => {
    const m = mock!;
    await m.brokerDown(1);
    const bootstrapOfOne = m.bootstrap[0];
    const [host, port] = bootstrapOfOne.split(':');
    expect(await canConnect(host, Number(port))).toBe(false);
    await m.brokerUp(1);
    expect(await canConnect(host, Number(port))).toBe(true);
  });

  it('rejects a command the mock does not understand', async () => {
    await expect(mock!.createTopic('bad name', 1)).rejects.toThrow(/bad topic name/);
    await expect(mock!.brokerDown(99)).rejects.toThrow(/failed/);
  });

  it('stops cleanly and twice', async () => {
    const m = await startKafkaMock({ brokers: 1 });
    const [host, port] = m.bootstrap[0].split(':');
    expect(await canConnect(host, Number(port))).toBe(true);
    await m.stop();
    await m.stop();
    expect(await canConnect(host, Number(port))).toBe(false);
  });
});

describe('redis server', () => {
  it('starts on a free port, survives kill + restart on the same port, stops', async () => {
    const r = await startRedis();
    try {
      expect(r.url).toBe(`redis://127.0.0.1:${r.port}`);
      expect(await ping(r.port)).toBe(true);
      await r.kill();
      expect(await ping(r.port)).toBe(false);
      await r.restart();
      expect(await ping(r.port)).toBe(true);
    } finally {
      await r.stop();
      await r.stop();
    }
    expect(await ping(r.port)).toBe(false);
  });
});

describe('ports and processes', () => {
  it('freePort gives distinct usable ports', async () => {
    const a = await freePort();
    const b = await freePort();
    expect(a).toBeGreaterThan(0);
    expect(a).not.toBe(b);
  });

  it('runs a node child with env, waits for a line, and SIGKILLs it', async () => {
    const code = [
      "process.stdout.write('hello ' + process.env.HARNESS_GREETING + '\\n');",
      "process.stderr.write('on stderr\\n');",
      "process.stdin.on('data', (d) => process.stdout.write('echo ' + d));",
    ].join('');
    const child = spawnNode('-', { nodeArgs: ['-e', code], env: { HARNESS_GREETING: 'meshward' } });
    expect((await child.waitForLine(/^hello (\w+)$/, { stream: 'stdout' }))[1]).toBe('meshward');
    await child.waitForLine(/^on stderr$/, { stream: 'stderr' });
    const since = child.lineCount();
    child.write('ping');
    await child.waitForLine(/^echo ping$/, { since });
    child.kill('SIGKILL');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await expect(child.waitForLine(/never printed/)).rejects.toThrow(/exited \(signal SIGKILL\)/);
  });

  it('reports a wait timeout with the output tail', async () => {
    const child = spawnNode('-', { nodeArgs: ['-e', "console.log('only line'); setTimeout(() => {}, 10000)"] });
    await child.waitForLine(/^only line$/);
    await expect(child.waitForLine(/absent/, { timeoutMs: 300 })).rejects.toThrow(/within 300 ms[\s\S]*only line/);
    await child.stop();
  });
});

function canConnect(host: string, port: number): Promise<boolean> {
  return import('node:net').then(
    ({ connect }) =>
      new Promise((resolve) => {
        const s = connect({ host, port });
        const t = setTimeout(() => {
          s.destroy();
          resolve(false);
        }, 1_000);
        s.once('connect', () => {
          clearTimeout(t);
          s.destroy();
          resolve(true);
        });
        s.once('error', () => {
          clearTimeout(t);
          resolve(false);
        });
      }),
  );
}
