import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Partitioners } from 'kafkajs';
import type { KafkaBusOptions } from '../../pipeline/bus/kafka-bus.js';
import { repoRoot } from './paths.js';
import { type Child, spawnProcess } from './processes.js';

/**
 * A Kafka cluster for tests: librdkafka's mock cluster (Debian librdkafka-dev) in a small C program, one process per
 * cluster, driven over stdin (see kafka-mock.c). It starts in milliseconds and needs no JVM.
 */

const run = promisify(execFile);

export interface KafkaMockOptions {
  /** broker count (ids 1..N), default 3 */
  brokers?: number;
  /** topics to create before the bootstrap line is printed */
  topics?: { name: string; partitions: number }[];
}

export interface KafkaMock {
  /** host:port of every broker */
  bootstrap: string[];
  brokerCount: number;
  /** disconnect a broker and refuse connections (no leader change); -1 = every broker */
  brokerDown(id: number): Promise<void>;
  brokerUp(id: number): Promise<void>;
  createTopic(name: string, partitions: number): Promise<void>;
  /** move a partition's leadership to another broker */
  setLeader(topic: string, partition: number, brokerId: number): Promise<void>;
  /**
   * fail the next `count` requests of one type (Kafka ApiKey, e.g. 14 = SyncGroup) with a Kafka error code
   * (e.g. 42 = INVALID_REQUEST); count 1..64
   */
  pushRequestErrors(apiKey: number, count: number, errorCode: number): Promise<void>;
  /** stop the cluster; safe twice */
  stop(): Promise<void>;
}

let built: Promise<string> | undefined;

/** Compile kafka-mock.c into test/harness/bin/ once; rebuild when the source is newer than the binary. */
export function buildKafkaMock(): Promise<string> {
  built ??= (async () => {
    const root = repoRoot();
    const src = join(root, 'test', 'harness', 'kafka-mock.c');
    const binDir = join(root, 'test', 'harness', 'bin');
    const bin = join(binDir, 'kafka-mock');
    const srcTime = statSync(src).mtimeMs;
    let binTime = -1;
    try {
      binTime = statSync(bin).mtimeMs;
    } catch {
      // not built yet
    }
    if (binTime >= srcTime) return bin;
    mkdirSync(binDir, { recursive: true });
    // build beside the target, then rename: parallel test workers never see a half-written binary
    const tmp = `${bin}.${process.pid}.${Date.now()}`;
    try {
      await run('gcc', ['-O2', '-Wall', '-o', tmp, src, '-lrdkafka']);
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(
        `could not build the Kafka mock (needs gcc and librdkafka-dev; run scripts/ensure-deps.mjs --system): ${e.stderr || e.message}`,
      );
    }
    renameSync(tmp, bin);
    return bin;
  })();
  built.catch(() => {
    built = undefined;
  });
  return built;
}

export async function startKafkaMock(opts: KafkaMockOptions = {}): Promise<KafkaMock> {
  const brokers = opts.brokers ?? 3;
  const bin = await buildKafkaMock();
  const args = ['--brokers', String(brokers)];
  for (const t of opts.topics ?? []) args.push('--topic', `${t.name}:${t.partitions}`);
  const child: Child = spawnProcess(bin, { args, name: 'kafka-mock' });
  let bootstrapLine: string;
  try {
    bootstrapLine = (await child.waitForLine(/^(\S+:\d+(,\S+:\d+)*)$/, { stream: 'stdout', timeoutMs: 10_000 }))[1];
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  // one command at a time: each is answered by exactly one stdout line
  let queue: Promise<unknown> = Promise.resolve();
  const command = (line: string): Promise<void> => {
    const next = queue.then(async () => {
      const since = child.lineCount();
      child.write(line);
      const m = await child.waitForLine(/^(ok|err.*)$/, { stream: 'stdout', since, timeoutMs: 5_000 });
      if (m[1] !== 'ok') throw new Error(`kafka-mock: "${line}" failed: ${m[1]}`);
    });
    queue = next.catch(() => {});
    return next;
  };

  let stopped: Promise<void> | undefined;
  return {
    bootstrap: bootstrapLine.split(','),
    brokerCount: brokers,
    brokerDown: (id) => command(`down ${id}`),
    brokerUp: (id) => command(`up ${id}`),
    createTopic: (name, partitions) => {
      if (!/^[A-Za-z0-9._-]{1,249}$/.test(name)) return Promise.reject(new Error(`bad topic name ${name}`));
      return command(`topic ${name} ${partitions}`);
    },
    setLeader: (topic, partition, brokerId) => command(`leader ${topic} ${partition} ${brokerId}`),
    pushRequestErrors: (apiKey, count, errorCode) => command(`errors ${apiKey} ${count} ${errorCode}`),
    stop() {
      stopped ??= (async () => {
        child.endInput(); // the program exits on EOF; stop() adds SIGTERM/SIGKILL if it does not
        await Promise.race([child.exited, new Promise((r) => setTimeout(r, 2_000).unref())]);
        await child.stop(2_000);
      })();
      return stopped;
    },
  };
}

/**
 * kafkajs options for tests against the mock cluster: timeouts, retries and waits short enough for tests. The mock
 * coordinator holds a new group's first join for 3 s (like Kafka's group.initial.rebalance.delay.ms) and waits session
 * timeout - 1 s for members to rejoin on a rebalance, so a short session timeout makes rebalances fast
 */
export const fastKafkaBusOptions = (brokers: string[], clientId = 'kafka-bus-test'): KafkaBusOptions => ({
  brokers,
  clientId,
  // the mock cluster reports controller id 0 (no such broker); kafkajs gets producer ids from the controller
  idempotent: false,
  connectionTimeoutMs: 500,
  requestTimeoutMs: 3_000,
  publishTimeoutMs: 3_000,
  healthProbeIntervalMs: 200,
  retry: { retries: 2, initialRetryTimeMs: 50, maxRetryTimeMs: 300 },
  consumer: {
    sessionTimeoutMs: 2_500,
    heartbeatIntervalMs: 200,
    rebalanceTimeoutMs: 3_000,
    maxWaitTimeMs: 100,
    batchRetryInitialMs: 50,
    batchRetryMaxMs: 200,
  },
});

/** the partition kafkajs's default partitioner (murmur2, as the collector's producer) gives a message key */
export function kafkaPartitionOf(topic: string, partitions: number): (key: string) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({
    partitionId: p,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
  return (key) => partitioner({ topic, partitionMetadata, message: { key, value: '' } });
}
