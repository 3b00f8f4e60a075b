import { type Static, Type } from '@sinclair/typebox';
import type { KafkaBusOptions } from './kafka-bus.js';
import { kafkaSecurityOptions, kafkaSecurityProperties } from './kafka-security.js';

/**
 * The `bus: { kind: kafka, ... }` section of the config. Defaults suit a production cluster; tests pass shorter
 * timeouts through createKafkaBus's options.
 */
export const KafkaBusConfigSchema = Type.Object(
  {
    /** bootstrap brokers, host:port */
    brokers: Type.Array(Type.String({ minLength: 3, pattern: '^[^\\s:]+:\\d{1,5}$' }), {
      minItems: 1,
      description: 'bootstrap brokers, host:port',
    }),
    /** client id reported to the brokers (quotas, logs) */
    client_id: Type.String({ minLength: 1, maxLength: 255, default: 'meshward', description: 'Kafka client id' }),
    /** TLS and SASL (kafka-security.ts): the same keys as the bus sensor's */
    ...kafkaSecurityProperties,
    /** compression of produced batches: gzip cuts broker storage and network about fivefold for JSON records */
    compression: Type.Union([Type.Literal('none'), Type.Literal('gzip')], {
      default: 'none',
      description: 'compression of produced batches',
    }),
    /** broker-side deduplication of retried sends */
    idempotent: Type.Boolean({ default: true, description: 'idempotent producer (deduplicates retried sends)' }),
    /** TCP connect timeout per broker */
    connection_timeout_ms: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 3_000,
      description: 'TCP connect timeout per broker',
    }),
    /** timeout of one Kafka request */
    request_timeout_ms: Type.Integer({
      minimum: 500,
      maximum: 300_000,
      default: 10_000,
      description: 'timeout of one Kafka request',
    }),
    /** a publish that is not acknowledged by then fails with MW_ERR_BUS_UNAVAILABLE */
    publish_timeout_ms: Type.Integer({
      minimum: 500,
      maximum: 300_000,
      default: 10_000,
      description: 'a publish not acknowledged by then fails with MW_ERR_BUS_UNAVAILABLE',
    }),
    /** messages waiting to be sent; past it publish fails with MW_ERR_BUS_SATURATED */
    max_pending_messages: Type.Integer({
      minimum: 1,
      default: 50_000,
      description: 'messages waiting to be sent; past it publish fails with MW_ERR_BUS_SATURATED',
    }),
    /** retries of a failed Kafka request (exponential backoff) */
    retries: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'retries of a failed Kafka request' }),
    /** first retry delay; doubles up to retry_max_ms */
    retry_initial_ms: Type.Integer({ minimum: 10, maximum: 60_000, default: 100, description: 'first retry delay' }),
    retry_max_ms: Type.Integer({ minimum: 10, maximum: 300_000, default: 2_000, description: 'longest retry delay' }),
    /** a consumer silent this long is removed from its group and its partitions move */
    session_timeout_ms: Type.Integer({
      minimum: 1_000,
      maximum: 600_000,
      default: 30_000,
      description: 'consumer group session timeout',
    }),
    heartbeat_interval_ms: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 3_000,
      description: 'consumer heartbeat interval',
    }),
    /** how long the coordinator waits for members to rejoin during a rebalance */
    rebalance_timeout_ms: Type.Integer({
      minimum: 1_000,
      maximum: 600_000,
      default: 60_000,
      description: 'rebalance timeout',
    }),
    /** longest wait of a fetch for new messages */
    max_wait_time_ms: Type.Integer({
      minimum: 10,
      maximum: 30_000,
      default: 1_000,
      description: 'longest wait of a fetch',
    }),
    /** partitions processed at the same time by one consumer */
    partitions_consumed_concurrently: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 1,
      description: 'partitions processed at the same time by one consumer',
    }),
  },
  { additionalProperties: false },
);

export type KafkaBusConfig = Static<typeof KafkaBusConfigSchema>;

/** Turn the validated config section into createKafkaBus options (reads the CA and password files: kafkaSecurityOptions). */
export function kafkaBusOptionsFromConfig(
  config: KafkaBusConfig,
  readSecret?: (path: string) => string,
): KafkaBusOptions {
  const { ssl, sasl } = kafkaSecurityOptions(config, 'bus.kafka', readSecret);
  return {
    brokers: config.brokers,
    clientId: config.client_id,
    ssl,
    sasl,
    idempotent: config.idempotent,
    compression: config.compression,
    connectionTimeoutMs: config.connection_timeout_ms,
    requestTimeoutMs: config.request_timeout_ms,
    publishTimeoutMs: config.publish_timeout_ms,
    maxPendingMessages: config.max_pending_messages,
    retry: {
      retries: config.retries,
      initialRetryTimeMs: config.retry_initial_ms,
      maxRetryTimeMs: config.retry_max_ms,
    },
    consumer: {
      sessionTimeoutMs: config.session_timeout_ms,
      heartbeatIntervalMs: config.heartbeat_interval_ms,
      rebalanceTimeoutMs: config.rebalance_timeout_ms,
      maxWaitTimeMs: config.max_wait_time_ms,
      partitionsConsumedConcurrently: config.partitions_consumed_concurrently,
    },
  };
}
