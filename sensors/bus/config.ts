import { type Static, Type } from '@sinclair/typebox';
import { kafkaSecurityProperties } from '../../pipeline/bus/kafka-security.js';
import { ShipperConfigSchema } from '../common/shipper-config.js';

/** One tapped request topic: how its messages and their replies become API calls. */
export const TopicMappingSchema = Type.Object(
  {
    /** the request topic */
    topic: Type.String({ minLength: 1, maxLength: 249, pattern: '^[A-Za-z0-9._-]+$' }),
    /** the service that handles these requests (the record's destination service) */
    service: Type.String({ minLength: 1, maxLength: 256 }),
    /** header carrying the operation name; when absent on a message, `operation` is used */
    operation_header: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** the operation name when no header gives one */
    operation: Type.String({ minLength: 1, maxLength: 128, default: 'message' }),
    /** header naming the caller */
    caller_header: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** what the caller is: a calling service (source.service) or a user (user.sub) */
    caller_kind: Type.Union([Type.Literal('service'), Type.Literal('user')], { default: 'service' }),
    /** header carrying the correlation id that replies repeat */
    correlation_header: Type.String({ minLength: 1, maxLength: 256, default: 'correlation-id' }),
    /** where replies arrive; absent = one-way messages, recorded at once with status 202 */
    reply_topic: Type.Optional(Type.String({ minLength: 1, maxLength: 249, pattern: '^[A-Za-z0-9._-]+$' })),
    /** header of the reply carrying a status code; absent or unparseable = 200 */
    status_header: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** a request without reply after this long is recorded with status 504 (outcome timeout) */
    timeout_ms: Type.Integer({ minimum: 1, maximum: 86_400_000, default: 30_000 }),
  },
  { additionalProperties: false },
);
export type TopicMapping = Static<typeof TopicMappingSchema>;

/** The mapping file (YAML): which topics to tap and how. */
export const BusMappingSchema = Type.Object(
  { topics: Type.Array(TopicMappingSchema, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);
export type BusMapping = Static<typeof BusMappingSchema>;

export const BusSensorConfigSchema = Type.Object(
  {
    /**
     * sensor instance id carried in every record and metric; in the `receivers:` section the receiver's key (`bus`,
     * `bus/orders`) when not given
     */
    sensor_id: Type.String({ minLength: 1, maxLength: 256, default: 'bus' }),
    /** Kafka bootstrap brokers host:port */
    brokers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ['127.0.0.1:9092'] }),
    client_id: Type.String({ minLength: 1, default: 'meshward-bus-sensor' }),
    /** the sensor's own consumer group: it taps topics without taking messages from the applications' groups */
    group_id: Type.String({ minLength: 1, default: 'meshward-bus-sensor' }),
    /**
     * TLS and SASL of a secured cluster: `ssl`, `ssl_ca_file`, `sasl: {mechanism, username, password_file}`, the
     * same keys as the pipeline's own bus (`bus.kafka`, pipeline/bus/kafka-security.ts)
     */
    ...kafkaSecurityProperties,
    /** path of the YAML mapping file (BusMappingSchema); ignored when `mapping` is given inline */
    mapping_file: Type.String({ default: '' }),
    /** the mapping inline (same shape as the file) */
    mapping: Type.Optional(BusMappingSchema),
    /** read topics from the start when the group has no committed offset */
    from_beginning: Type.Boolean({ default: false }),
    /** requests waiting for a reply at most; beyond, the oldest is recorded with status 0 (outcome evicted) */
    max_pending: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 100_000 }),
    /** how often consumer lag is read (Kafka admin offsets) into the lag gauge */
    lag_interval_ms: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 15_000 }),
    /** ship records to a remote collector over HTTP (when the sensor is not given an in-process ingest) */
    shipper: Type.Optional(Type.Object(ShipperConfigSchema.properties, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type BusSensorConfig = Static<typeof BusSensorConfigSchema>;

export const defaultBusSensorConfig: BusSensorConfig = {
  sensor_id: 'bus',
  brokers: ['127.0.0.1:9092'],
  client_id: 'meshward-bus-sensor',
  group_id: 'meshward-bus-sensor',
  ssl: false,
  mapping_file: '',
  from_beginning: false,
  max_pending: 100_000,
  lag_interval_ms: 15_000,
};
