import { type Admin, type Consumer, Kafka } from 'kafkajs';
import type { RecordIngest } from '../../pipeline/collector/ingest.js';
import { mwError } from '../../pipeline/core/errors.js';
import { type Logger, silentLogger } from '../../pipeline/core/logger.js';
import { counter, gauge } from '../../pipeline/core/metrics.js';
import { BatchingShipper, type RecordSink, createHttpShipper } from '../common/batching-shipper.js';
import { ingestTransport } from '../common/ingest-transport.js';
import type { BusSensorConfig } from './config.js';
import { busKafkaConfig } from './kafka-client.js';
import { type CompiledMapping, compileMapping, loadMappingFile } from './mapping.js';
import { type PairingCount, type PairingStats, RequestPairing } from './request-pairing.js';
import { tappedMessage } from './tapped-message.js';

export interface BusSensorDeps {
  /** where records go (e.g. a shipper); else `ingest`; else an HTTP shipper from `config.shipper` */
  sink?: RecordSink;
  ingest?: RecordIngest;
  logger?: Logger;
  /** the mapping compiled when the config was checked (busSensorFactory.compile); else read and compiled from `config` */
  mapping?: CompiledMapping;
  /**
   * the key the receiver is declared under in the `receivers:` section (`bus`, `bus/orders`; default `bus`), which
   * its errors name as the operator wrote it (`receivers.bus/orders.sasl.password_file: …`)
   */
  key?: string;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

const lagGauge = () =>
  gauge('meshward_bus_sensor_lag', 'messages of tapped topics not yet read by the bus sensor', [
    'sensor',
    'topic',
    'partition',
  ]);
const tappedTotal = () =>
  counter('meshward_bus_sensor_messages_total', 'messages read from tapped topics', ['sensor', 'topic']);
const untimedTotal = () =>
  counter(
    'meshward_bus_sensor_timestamps_replaced_total',
    'messages of tapped topics without a timestamp (old message format, -1), timed by when the sensor read them',
    ['sensor', 'topic'],
  );
const recordsTotal = () =>
  counter('meshward_bus_sensor_records_total', 'records emitted by the bus sensor, by outcome', ['sensor', 'outcome']);
/** what the pairing holds (PairingStats `pending` and `earlyReplies`), set after each batch, sweep and the shutdown */
const waitingGauges = () => ({
  pending: gauge('meshward_bus_sensor_pending_requests', 'requests waiting for their reply (at most max_pending)', [
    'sensor',
  ]),
  early: gauge(
    'meshward_bus_sensor_early_replies',
    'replies read before their request, waiting for it (at most max_pending)',
    ['sensor'],
  ),
});
/** what the pairing drops or records as one-way without a reply, by the topic of the message */
const pairingTotals = (): Record<PairingCount, ReturnType<typeof counter>> => ({
  duplicates: counter(
    'meshward_bus_sensor_duplicates_total',
    'requests and replies read again while the first with their correlation id waits (redelivered), ignored',
    ['sensor', 'topic'],
  ),
  unmatchedReplies: counter(
    'meshward_bus_sensor_unmatched_replies_total',
    'replies dropped without a request: no correlation header, no request read within the timeout, or pushed out by max_pending',
    ['sensor', 'topic'],
  ),
  uncorrelated: counter(
    'meshward_bus_sensor_uncorrelated_requests_total',
    'requests on a topic with a reply_topic but without the correlation header, recorded as one-way',
    ['sensor', 'topic'],
  ),
});

function mappingOf(config: BusSensorConfig) {
  const mapping = config.mapping ?? (config.mapping_file ? loadMappingFile(config.mapping_file) : undefined);
  if (!mapping) throw mwError('CONFIG_INVALID', 'bus sensor: set mapping_file or mapping');
  return mapping;
}

/**
 * The message-bus sensor: taps request and reply topics with its own consumer group, pairs requests with replies by
 * correlation id and emits one ApiCallRecord per request (reply, timeout, or one-way). Payloads are never read beyond
 * their size.
 */
export class BusSensor {
  private readonly mapping: CompiledMapping;
  private readonly pairing: RequestPairing;
  private readonly sink: RecordSink;
  private readonly ownShipper: BatchingShipper | undefined;
  private readonly kafka: Kafka;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly metrics = {
    lag: lagGauge(),
    tapped: tappedTotal(),
    untimed: untimedTotal(),
    records: recordsTotal(),
    pairing: pairingTotals(),
    waiting: waitingGauges(),
  };

  constructor(
    private readonly config: BusSensorConfig,
    deps: BusSensorDeps = {},
  ) {
    this.log = deps.logger ?? silentLogger;
    this.mapping = deps.mapping ?? compileMapping(mappingOf(config));
    // first: the CA and the SASL password are read here, and a file that cannot be read leaves nothing running
    this.kafka = new Kafka(busKafkaConfig(config, `receivers.${deps.key ?? 'bus'}`, this.log));
    if (deps.sink) this.sink = deps.sink;
    else {
      const shipper = deps.ingest
        ? new BatchingShipper(
            {
              max_buffer: 20_000,
              batch_size: 500,
              flush_interval_ms: 200,
              max_in_flight: 2,
              timeout_ms: 30_000,
              backoff_ms: 100,
              max_backoff_ms: 5_000,
            },
            ingestTransport(deps.ingest, { receiver: 'bus', key: deps.key ?? 'bus', sensorId: config.sensor_id }),
            { logger: this.log, sensorId: config.sensor_id },
          )
        : config.shipper
          ? createHttpShipper(config.shipper, { logger: this.log, sensorId: config.sensor_id })
          : undefined;
      if (!shipper) throw mwError('CONFIG_INVALID', 'bus sensor: no record sink, ingest or shipper config');
      this.ownShipper = shipper;
      this.sink = shipper;
    }
    this.pairing = new RequestPairing(
      this.mapping,
      {
        sensorId: config.sensor_id,
        maxPending: config.max_pending,
        onCount: (what, topic) => this.metrics.pairing[what].inc({ sensor: config.sensor_id, topic }),
      },
      (r) => {
        this.metrics.records.inc({ sensor: config.sensor_id, outcome: r.tags?.bus_outcome ?? 'unknown' });
        this.sink.push(r);
      },
    );
    this.reportWaiting();
  }

  /**
   * the pairing changes only in a batch's synchronous loop and in a sweep, each followed by this: a scrape, which
   * cannot run in between, reads what waits now
   */
  private reportWaiting(): void {
    const { pending, earlyReplies } = this.pairing.stats();
    const labels = { sensor: this.config.sensor_id };
    this.metrics.waiting.pending.set(labels, pending);
    this.metrics.waiting.early.set(labels, earlyReplies);
  }

  /** connect, subscribe and consume; throws when the brokers cannot be reached (kafkajs retries first) */
  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.config.group_id, allowAutoTopicCreation: false });
    this.consumer = consumer;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: this.mapping.topics, fromBeginning: this.config.from_beginning });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          const readAt = Date.now();
          const labels = { sensor: this.config.sensor_id, topic: batch.topic };
          this.metrics.tapped.inc(labels, batch.messages.length);
          let untimed = 0;
          const onUntimed = () => void untimed++;
          for (const m of batch.messages) this.pairing.onMessage(tappedMessage(batch.topic, m, readAt, onUntimed));
          if (untimed > 0) this.metrics.untimed.inc(labels, untimed);
          this.reportWaiting();
        },
      });
    } catch (err) {
      // a failed start leaves nothing behind, so start() may be called again (the receiver retries it)
      this.consumer = undefined;
      await consumer.disconnect().catch(() => {});
      throw err;
    }
    if (this.stopping) {
      // shut down while connecting: the consumer that came up late is not left running
      await consumer.disconnect().catch(() => {});
      return;
    }
    const shortest = Math.min(...[...this.mapping.byRequestTopic.values()].map((m) => m.timeout_ms));
    this.sweepTimer = setInterval(
      () => {
        this.pairing.sweep();
        this.reportWaiting();
      },
      Math.max(50, Math.min(1_000, shortest / 4)),
    );
    this.sweepTimer.unref();
    this.lagTimer = setInterval(() => {
      this.lag().catch((err) => this.log.warn({ err: (err as Error).message }, 'bus sensor: could not read lag'));
    }, this.config.lag_interval_ms);
    this.lagTimer.unref();
  }

  /** per-partition lag of the sensor's group (high watermark minus committed offset), also set on the gauge */
  async lag(): Promise<PartitionLag[]> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    const admin = this.admin;
    const out: PartitionLag[] = [];
    const committed = await admin.fetchOffsets({ groupId: this.config.group_id, topics: this.mapping.topics });
    for (const t of committed) {
      const high = await admin.fetchTopicOffsets(t.topic);
      const highBy = new Map(high.map((h) => [h.partition, Number(h.high)]));
      for (const p of t.partitions) {
        const hw = highBy.get(p.partition) ?? 0;
        const c = Number(p.offset);
        // no committed offset yet (-1): everything up to the high watermark is unread
        const lag = Math.max(0, c < 0 ? hw : hw - c);
        out.push({ topic: t.topic, partition: p.partition, lag });
        this.metrics.lag.set({ sensor: this.config.sensor_id, topic: t.topic, partition: String(p.partition) }, lag);
      }
    }
    return out;
  }

  stats(): PairingStats & { shipper?: ReturnType<BatchingShipper['stats']> } {
    return { ...this.pairing.stats(), shipper: this.ownShipper?.stats() };
  }

  /** stop consuming, then hand over what is buffered; pending requests are dropped unrecorded; safe twice */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.sweepTimer);
      clearInterval(this.lagTimer);
      await this.consumer?.disconnect().catch(() => {});
      this.pairing.clear();
      this.reportWaiting();
      await this.admin?.disconnect().catch(() => {});
      await this.ownShipper?.shutdown();
    })();
    return this.stopping;
  }
}
