import { Redis } from 'ioredis';
import { TOPICS } from '../bus/bus.js';
import { createKafkaBus } from '../bus/kafka-bus.js';
import { kafkaBusOptionsFromConfig } from '../bus/kafka-config.js';
import type { MeshwardConfig } from '../config/schema.js';
import { mwError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { Kafka } from 'kafkajs';
import { busKafkaConfig } from '../../sensors/bus/kafka-client.js';
import type { BusSensorConfig } from '../../sensors/bus/config.js';
import type { CompiledMapping } from '../../sensors/bus/mapping.js';
import { type CheckedPart, type ConfigCheck, redactedUrl, runs } from './config-check.js';

/**
 * `meshward check --connect`: reaches the Kafka brokers and the Redis server the config names, as its processes
 * would (the same client options: TLS, SASL), within `timeoutMs` each. Kafka: the meshward topics and their
 * partitions (a missing one is reported, not refused: a broker that creates topics on first use serves it);
 * Redis: a PING and the server's version; for a collector, each bus receiver's brokers and the topics it taps. An unreachable one throws MW_ERR_BUS_UNAVAILABLE / MW_ERR_STORE_UNAVAILABLE
 * with the client's reason. The embedded bus and store have nothing to reach.
 */
export async function checkConnections(check: ConfigCheck, timeoutMs: number): Promise<CheckedPart[]> {
  const { config } = check;
  const parts: CheckedPart[] = [];
  if (config.bus.kind === 'kafka' && config.bus.kafka) parts.push(await reachKafka(config.bus.kafka, timeoutMs));
  if (config.store.kind === 'redis' && config.store.url) parts.push(await reachRedis(config.store.url, timeoutMs));
  if (runs(check.role, 'collector'))
    for (const r of check.receivers)
      if (r.type === 'bus')
        parts.push(await reachTappedBus(r.key, r.config as BusSensorConfig, r.compiled as CompiledMapping, timeoutMs));
  if (parts.length === 0) parts.push({ part: 'connect', detail: 'embedded bus and store: nothing to reach' });
  return parts;
}

/**
 * A bus receiver's brokers (the estate's Kafka, reached with the receiver's own client options), and which of the
 * topics its mapping taps exist there. Unreachable is refused here although the receiver itself only retries in
 * the background: asked to connect, the check says what the receiver would be waiting for.
 */
async function reachTappedBus(
  key: string,
  config: BusSensorConfig,
  mapping: CompiledMapping,
  timeoutMs: number,
): Promise<CheckedPart> {
  const where = `receivers.${key}`;
  const admin = new Kafka({ ...busKafkaConfig(config, where, silentLogger), retry: { retries: 0 } }).admin();
  const brokers = config.brokers.join(', ');
  try {
    const existing = await within(
      timeoutMs,
      admin.connect().then(() => admin.listTopics()),
      `no answer within ${timeoutMs} ms`,
    );
    const missing = mapping.topics.filter((t) => !existing.includes(t));
    const present = mapping.topics.length - missing.length;
    return {
      part: where,
      detail: `reached ${brokers}; ${present} of ${mapping.topics.length} tapped topics present${missing.length ? `, missing: ${missing.join(', ')}` : ''}`,
    };
  } catch (err) {
    throw mwError('BUS_UNAVAILABLE', `cannot reach ${where} kafka ${brokers}: ${(err as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function reachKafka(kafka: NonNullable<MeshwardConfig['bus']['kafka']>, timeoutMs: number): Promise<CheckedPart> {
  const bus = createKafkaBus({ ...kafkaBusOptionsFromConfig(kafka), logger: silentLogger });
  const brokers = kafka.brokers.join(', ');
  try {
    const topics = await within(
      timeoutMs,
      (async () => {
        const admin = await bus.getAdmin();
        const existing = new Set(await admin.listTopics());
        const wanted = Object.values(TOPICS);
        const present = wanted.filter((t) => existing.has(t));
        const meta = present.length ? (await admin.fetchTopicMetadata({ topics: present })).topics : [];
        const partitions = new Map(meta.map((t) => [t.name, t.partitions.length]));
        return wanted.map((t) => (partitions.has(t) ? `${t} ${partitions.get(t)} partition(s)` : `${t} missing`));
      })(),
      `no answer within ${timeoutMs} ms`,
    );
    return { part: 'kafka', detail: `reached ${brokers}; ${topics.join(', ')}` };
  } catch (err) {
    throw mwError('BUS_UNAVAILABLE', `cannot reach kafka ${brokers}: ${(err as Error).message}`);
  } finally {
    await bus.close().catch(() => {});
  }
}

async function reachRedis(url: string, timeoutMs: number): Promise<CheckedPart> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let reason: Error | undefined; // ioredis rejects with "Connection is closed."; the socket's error says why
  redis.on('error', (err: Error) => {
    reason ??= err;
  });
  try {
    await within(timeoutMs, redis.connect(), `no answer within ${timeoutMs} ms`);
    await redis.ping();
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    return { part: 'redis', detail: `reached ${redactedUrl(url)}; PING answered, Redis ${version}` };
  } catch (err) {
    throw mwError('STORE_UNAVAILABLE', `cannot reach redis ${redactedUrl(url)}: ${(reason ?? (err as Error)).message}`);
  } finally {
    redis.disconnect();
  }
}

/** the promise's value, or a rejection saying `why` after `ms` */
async function within<T>(ms: number, p: Promise<T>, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(why)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
