import { type KafkaMock, startKafkaMock } from './kafka.js';
import { type RedisServer, startRedis } from './redis.js';

export interface KafkaRedisOptions {
  brokers?: number;
  /** partitions of meshward.calls (default 4) */
  callsPartitions?: number;
  /** further topics to pre-create (the mock cannot create topics through the admin API) */
  extraTopics?: { name: string; partitions: number }[];
}

export interface KafkaRedis {
  kafka: KafkaMock;
  redis: RedisServer;
  /** the `bus` and `store` sections of a meshward config for these servers; `kafka` overrides merge in */
  sections(kafka?: Record<string, unknown>): { bus: Record<string, unknown>; store: Record<string, unknown> };
  stop(): Promise<void>;
}

/**
 * The distributed engines of the end-to-end tests: a Kafka mock cluster with meshward's topics and a Redis. The
 * bus settings suit the mock: no idempotent producer (the mock has no controller), gzip (the mock keeps at most
 * 5 MiB per partition), short group timeouts (quick rebalances) and short fetch waits.
 */
export async function startKafkaRedis(opts: KafkaRedisOptions = {}): Promise<KafkaRedis> {
  const [kafka, redis] = await Promise.all([
    startKafkaMock({
      brokers: opts.brokers ?? 3,
      topics: [
        { name: 'meshward.calls', partitions: opts.callsPartitions ?? 4 },
        // the keyed streams (correlator.keyed_streams, on with Kafka): as many partitions as the calls
        { name: 'meshward.calls.by-trace', partitions: opts.callsPartitions ?? 4 },
        { name: 'meshward.calls.by-token', partitions: opts.callsPartitions ?? 4 },
        { name: 'meshward.alerts', partitions: 2 },
        { name: 'meshward.calls.dlq', partitions: 1 },
        ...(opts.extraTopics ?? []),
      ],
    }),
    startRedis(),
  ]);
  return {
    kafka,
    redis,
    sections: (overrides = {}) => ({
      bus: {
        kind: 'kafka',
        kafka: {
          brokers: kafka.bootstrap,
          idempotent: false,
          compression: 'gzip',
          session_timeout_ms: 2500,
          heartbeat_interval_ms: 200,
          rebalance_timeout_ms: 3000,
          max_wait_time_ms: 100,
          ...overrides,
        },
      },
      store: { kind: 'redis', url: redis.url },
    }),
    stop: async () => {
      await Promise.allSettled([kafka.stop(), redis.stop()]);
    },
  };
}
