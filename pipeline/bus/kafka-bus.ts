import type { ConnectionOptions } from 'node:tls';
import {
  type Admin,
  CompressionTypes,
  Kafka,
  type LogEntry,
  Partitioners,
  type Producer,
  type SASLOptions,
  logLevel,
} from 'kafkajs';
import { mwError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import type { Bus, OutMessage, SubscribeOptions, Subscription } from './bus.js';
import { KafkaSubscription } from './kafka-subscription.js';

export interface KafkaRetryOptions {
  /** retries of one failed Kafka request (default 5) */
  retries?: number;
  /** first backoff, doubled per retry up to maxRetryTimeMs (defaults 100 / 2000) */
  initialRetryTimeMs?: number;
  maxRetryTimeMs?: number;
}

export interface KafkaConsumerTuning {
  /** default 30,000; the group coordinator drops a member silent this long */
  sessionTimeoutMs?: number;
  /** default 3,000 */
  heartbeatIntervalMs?: number;
  /** default 60,000 */
  rebalanceTimeoutMs?: number;
  /** longest wait of one fetch (default 1,000): also bounds how long close() waits for an idle fetch */
  maxWaitTimeMs?: number;
  /** default 1 */
  partitionsConsumedConcurrently?: number;
  /** backoff after onBatch throws: first delay, doubled per failure up to the max (defaults 200 / 10,000) */
  batchRetryInitialMs?: number;
  batchRetryMaxMs?: number;
}

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  ssl?: ConnectionOptions | boolean;
  sasl?: SASLOptions;
  logger?: Logger;
  /** TCP connect timeout per broker (default 3,000) */
  connectionTimeoutMs?: number;
  /** timeout of one Kafka request (default 10,000) */
  requestTimeoutMs?: number;
  /** a publish not acknowledged within this fails with BUS_UNAVAILABLE (default 10,000) */
  publishTimeoutMs?: number;
  /** messages queued for sending; past it publish fails with BUS_SATURATED (default 50,000) */
  maxPendingMessages?: number;
  /**
   * idempotent producer (default true): broker-side deduplication of retried sends. librdkafka's mock cluster
   * (tests) reports controller id 0, which is no broker, and kafkajs asks the controller for a producer id, so tests
   * against the mock turn this off.
   */
  idempotent?: boolean;
  /** compression of produced batches (default none) */
  compression?: 'none' | 'gzip';
  /** while unhealthy, how often to probe the cluster with a metadata request (default 2,000) */
  healthProbeIntervalMs?: number;
  retry?: KafkaRetryOptions;
  consumer?: KafkaConsumerTuning;
}

interface PendingPublish {
  topic: string;
  messages: OutMessage[];
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** set once handed to a send: the timer then only rejects, the send goes on */
  sent: boolean;
  settled: boolean;
}

const published = counter('meshward_bus_published_total', 'messages published to the bus', ['bus', 'topic']);
const rejected = counter('meshward_bus_rejected_total', 'publishes rejected by the bus (saturated)', ['bus', 'topic']);
const publishFailures = counter(
  'meshward_kafka_publish_failures_total',
  'publishes to Kafka that failed (code: MW_ERR_*)',
  ['code'],
);

/**
 * Most messages coalesced into one send. kafkajs 2.2.4 groups a send's messages by partition in quadratic time
 * (producer/groupMessagesPerPartition.js copies the partition's array per message; tulios/kafkajs#1576), all on the
 * event loop: 4,000 messages cost ~10 ms, 50,000 (a full queue after a Kafka stall) ~5 s. One publish larger than
 * this is still sent whole.
 */
const MAX_SEND_MESSAGES = 4_000;

/** Kafka errors that mean the producer id/epoch or sequence state is broken: start a fresh producer. */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/** kafkajs log lines routed to pino; a few expected ones are demoted to debug */
function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _t, logger: _l, ...rest } = log as { message: string; [k: string]: unknown };
      const obj = { kafka: namespace, ...rest };
      if (message.includes('Limiting retries for the idempotent producer')) {
        logger.debug(obj, message);
      } else if (level <= logLevel.ERROR) logger.error(obj, message);
      else if (level <= logLevel.WARN) logger.warn(obj, message);
      else if (level <= logLevel.INFO) logger.info(obj, message);
      else logger.debug(obj, message);
    };
}

/** the innermost Kafka protocol error type (e.g. MESSAGE_TOO_LARGE) and whether kafkajs thinks it may pass */
function rootCause(err: unknown): { type?: string; retriable: boolean; message: string } {
  let e = err as { type?: string; retriable?: boolean; message?: string; originalError?: unknown; cause?: unknown };
  for (let i = 0; i < 8 && e; i++) {
    const inner = e.originalError ?? e.cause;
    if (!inner) break;
    e = inner as typeof e;
  }
  return { type: e?.type, retriable: e?.retriable !== false, message: e?.message ?? String(err) };
}

/**
 * The distributed bus over Kafka (kafkajs).
 *
 * Publishing: one idempotent producer (acks from all in-sync replicas), keyed messages placed by the Java-compatible
 * murmur2 partitioner. Concurrent publish() calls are coalesced into one send at a time (kafkajs's idempotent
 * sequence numbers are not safe under concurrent sends to one partition); the queue is bounded (BUS_SATURATED) and
 * every publish has a deadline (BUS_UNAVAILABLE). healthy() follows the last send and, while false, a metadata probe.
 *
 * Consuming: see KafkaSubscription (commit after onBatch, redelivery on failure, assign/revoke callbacks).
 */
export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly publishTimeoutMs: number;
  private readonly maxPending: number;
  private readonly probeIntervalMs: number;
  private readonly idempotent: boolean;
  private readonly compression: CompressionTypes;
  private readonly consumerTuning: Required<KafkaConsumerTuning>;
  private readonly retry: Required<KafkaRetryOptions>;
  private producer: Producer | undefined;
  private producerConnect: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;
  private readonly queue: PendingPublish[] = [];
  private queuedMessages = 0;
  private sending = false;
  private isHealthy = true;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closing: Promise<void> | undefined;

  constructor(opts: KafkaBusOptions) {
    if (!opts.brokers?.length) throw mwError('CONFIG_INVALID', 'kafka bus: brokers must not be empty');
    this.logger = opts.logger ?? silentLogger;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
    this.maxPending = opts.maxPendingMessages ?? 50_000;
    this.probeIntervalMs = opts.healthProbeIntervalMs ?? 2_000;
    this.idempotent = opts.idempotent ?? true;
    this.compression = opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.retry = {
      retries: opts.retry?.retries ?? 5,
      initialRetryTimeMs: opts.retry?.initialRetryTimeMs ?? 100,
      maxRetryTimeMs: opts.retry?.maxRetryTimeMs ?? 2_000,
    };
    const c = opts.consumer ?? {};
    this.consumerTuning = {
      sessionTimeoutMs: c.sessionTimeoutMs ?? 30_000,
      heartbeatIntervalMs: c.heartbeatIntervalMs ?? 3_000,
      rebalanceTimeoutMs: c.rebalanceTimeoutMs ?? 60_000,
      maxWaitTimeMs: c.maxWaitTimeMs ?? 1_000,
      partitionsConsumedConcurrently: c.partitionsConsumedConcurrently ?? 1,
      batchRetryInitialMs: c.batchRetryInitialMs ?? 200,
      batchRetryMaxMs: c.batchRetryMaxMs ?? 10_000,
    };
    this.kafka = new Kafka({
      brokers: opts.brokers,
      clientId: opts.clientId ?? 'meshward',
      ssl: opts.ssl,
      sasl: opts.sasl,
      connectionTimeout: opts.connectionTimeoutMs ?? 3_000,
      requestTimeout: opts.requestTimeoutMs ?? 10_000,
      retry: this.kafkaRetry(),
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(this.logger),
    });
  }

  private kafkaRetry() {
    return {
      retries: this.retry.retries,
      initialRetryTime: this.retry.initialRetryTimeMs,
      maxRetryTime: this.retry.maxRetryTimeMs,
    };
  }

  healthy(): boolean {
    return this.isHealthy;
  }

  publish(topic: string, messages: OutMessage[]): Promise<void> {
    if (this.closing) return Promise.reject(mwError('BUS_UNAVAILABLE', 'kafka bus is closed'));
    if (messages.length === 0) return Promise.resolve();
    if (this.queuedMessages + messages.length > this.maxPending) {
      rejected.inc({ bus: 'kafka', topic }, messages.length);
      return Promise.reject(mwError('BUS_SATURATED', `${this.queuedMessages} messages are waiting for Kafka`));
    }
    return new Promise<void>((resolve, reject) => {
      const p: PendingPublish = {
        topic,
        messages,
        resolve,
        reject,
        sent: false,
        settled: false,
        timer: setTimeout(() => {
          if (p.settled) return;
          if (!p.sent) this.unqueue(p);
          this.markUnhealthy();
          this.settle(p, mwError('BUS_UNAVAILABLE', `not acknowledged within ${this.publishTimeoutMs} ms`));
        }, this.publishTimeoutMs),
      };
      this.queue.push(p);
      this.queuedMessages += messages.length;
      this.pump();
    });
  }

  private unqueue(p: PendingPublish): void {
    const i = this.queue.indexOf(p);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.queuedMessages -= p.messages.length;
    }
  }

  private settle(p: PendingPublish, err?: Error): void {
    if (p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    if (err) {
      publishFailures.inc({ code: (err as { code?: string }).code ?? 'unknown' });
      p.reject(err);
    } else {
      published.inc({ bus: 'kafka', topic: p.topic }, p.messages.length);
      p.resolve();
    }
  }

  /** send what is queued as one request batch, up to MAX_SEND_MESSAGES; one send in flight at a time */
  private pump(): void {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    let take = 1;
    let messages = this.queue[0].messages.length;
    while (take < this.queue.length && messages + this.queue[take].messages.length <= MAX_SEND_MESSAGES) {
      messages += this.queue[take].messages.length;
      take++;
    }
    const batch = this.queue.splice(0, take);
    for (const p of batch) {
      p.sent = true;
      this.queuedMessages -= p.messages.length;
    }
    const live = batch.filter((p) => !p.settled);
    this.send(live)
      .then(
        () => {
          this.markHealthy();
          for (const p of live) this.settle(p);
        },
        (err: unknown) => {
          const mw = this.classify(err);
          for (const p of live) this.settle(p, mw);
        },
      )
      .finally(() => {
        this.sending = false;
        this.pump();
      });
  }

  private async send(batch: PendingPublish[]): Promise<void> {
    if (batch.length === 0) return;
    const byTopic = new Map<string, { key?: string; value: Buffer | string; headers?: Record<string, string> }[]>();
    for (const p of batch) {
      let list = byTopic.get(p.topic);
      if (!list) {
        list = [];
        byTopic.set(p.topic, list);
      }
      for (const m of p.messages) list.push({ key: m.key, value: m.value, headers: m.headers });
    }
    const producer = await this.getProducer();
    await producer.sendBatch({
      acks: -1,
      compression: this.compression,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  private classify(err: unknown): Error {
    const root = rootCause(err);
    if (root.type && PRODUCER_STATE_ERRORS.has(root.type)) this.resetProducer();
    if (!root.retriable && root.type && !PRODUCER_STATE_ERRORS.has(root.type)) {
      // the cluster answered and refused these messages (too large, not authorised, ...): not an outage
      return mwError('INTERNAL', `kafka refused the publish: ${root.type}`, undefined, err);
    }
    this.markUnhealthy();
    this.logger.warn({ err: root.message, type: root.type }, 'kafka publish failed');
    return mwError('BUS_UNAVAILABLE', root.message, undefined, err);
  }

  private getProducer(): Promise<Producer> {
    if (this.producerConnect) return this.producerConnect;
    const producer = this.kafka.producer({
      idempotent: this.idempotent,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      retry: this.kafkaRetry(),
    });
    this.producer = producer;
    const connecting = producer.connect().then(() => producer);
    this.producerConnect = connecting;
    connecting.catch(() => {
      // next send connects afresh
      if (this.producerConnect === connecting) this.producerConnect = undefined;
    });
    return connecting;
  }

  private resetProducer(): void {
    const old = this.producer;
    this.producer = undefined;
    this.producerConnect = undefined;
    old?.disconnect().catch(() => {});
  }

  private markHealthy(): void {
    this.isHealthy = true;
    if (this.probeTimer) {
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
    }
  }

  private markUnhealthy(): void {
    this.isHealthy = false;
    if (this.probeTimer || this.closing) return;
    let probing = false;
    this.probeTimer = setInterval(() => {
      if (probing) return;
      probing = true;
      this.getAdmin()
        .then((a) => a.fetchTopicMetadata({ topics: [] }))
        .then(() => this.markHealthy())
        .catch(() => {})
        .finally(() => {
          probing = false;
        });
    }, this.probeIntervalMs);
    this.probeTimer.unref();
  }

  /** one admin client per bus, for lag and health probes */
  getAdmin(): Promise<Admin> {
    if (this.admin) return this.admin;
    const admin = this.kafka.admin({ retry: this.kafkaRetry() });
    const connecting = admin.connect().then(() => admin);
    this.admin = connecting;
    connecting.catch(() => {
      if (this.admin === connecting) this.admin = undefined;
    });
    return connecting;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closing) throw mwError('BUS_UNAVAILABLE', 'kafka bus is closed');
    if (options.topics.length === 0) throw mwError('CONFIG_INVALID', 'subscribe: no topics');
    const t = this.consumerTuning;
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: t.sessionTimeoutMs,
      heartbeatInterval: t.heartbeatIntervalMs,
      rebalanceTimeout: t.rebalanceTimeoutMs,
      maxWaitTimeInMs: t.maxWaitTimeMs,
      allowAutoTopicCreation: true,
      retry: this.kafkaRetry(),
    });
    const sub = new KafkaSubscription(consumer, options, {
      logger: this.logger,
      heartbeatIntervalMs: t.heartbeatIntervalMs,
      partitionsConsumedConcurrently: t.partitionsConsumedConcurrently,
      batchRetryInitialMs: t.batchRetryInitialMs,
      batchRetryMaxMs: t.batchRetryMaxMs,
      admin: () => this.getAdmin(),
      onClosed: (s) => this.subscriptions.delete(s),
    });
    this.subscriptions.add(sub);
    try {
      await sub.start();
    } catch (err) {
      this.subscriptions.delete(sub);
      await sub.close().catch(() => {});
      throw mwError('BUS_UNAVAILABLE', `could not join consumer group ${options.groupId}`, undefined, err);
    }
    return sub;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.probeTimer) clearInterval(this.probeTimer);
      this.probeTimer = undefined;
      await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
      // let queued publishes finish or time out
      while (this.sending || this.queue.length > 0) await new Promise((r) => setTimeout(r, 10));
      await Promise.allSettled([this.producer?.disconnect(), this.admin?.then((a) => a.disconnect()).catch(() => {})]);
      this.producer = undefined;
      this.producerConnect = undefined;
      this.admin = undefined;
    })();
    return this.closing;
  }
}

export function createKafkaBus(opts: KafkaBusOptions): KafkaBus {
  return new KafkaBus(opts);
}
