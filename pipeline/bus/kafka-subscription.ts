import type { Admin, Batch, Consumer, EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';
import type { Logger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import type { BusBatch, BusMessage, SubscribeOptions, Subscription } from './bus.js';

/**
 * joins tried before a member's start fails (the process then exits and its supervisor restarts it); the waits between
 * them double from batchRetryInitialMs
 */
const START_ATTEMPTS = 6;

/**
 * a wait drawn between half and one and a half times `ms`: members that failed together (two joining one group, whose
 * rebalance fails both) do not retry in step and fail together again
 */
const jittered = (ms: number): number => Math.round(ms * (0.5 + Math.random()));

export interface KafkaSubscriptionTuning {
  logger: Logger;
  heartbeatIntervalMs: number;
  partitionsConsumedConcurrently: number;
  batchRetryInitialMs: number;
  batchRetryMaxMs: number;
  admin: () => Promise<Admin>;
  onClosed: (s: KafkaSubscription) => void;
}

type TopicPartition = { topic: string; partition: number };

const consumed = counter('meshward_kafka_consumed_total', 'messages handed to onBatch and committed', ['topic']);
const batchFailures = counter(
  'meshward_kafka_batch_failures_total',
  'onBatch or onAssign failures; the batch is redelivered after a backoff',
  ['topic'],
);
const crashes = counter('meshward_kafka_consumer_crashes_total', 'kafkajs consumer crashes (restart: by kafkajs)', [
  'restart',
]);
const callbackFailures = counter('meshward_kafka_rebalance_callback_failures_total', 'onRevoke failures', ['topic']);

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const tpOf = (key: string): TopicPartition => {
  const i = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
};

function headersOf(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = typeof first === 'string' ? first : first.toString('utf8');
  }
  return out;
}

function toBusMessage(topic: string, partition: number, m: KafkaMessage): BusMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : null,
    value: m.value ?? Buffer.alloc(0),
    headers: headersOf(m.headers),
    timestamp: Number(m.timestamp),
  };
}

/**
 * One consumer-group member. Each partition batch goes to onBatch; its offset (last + 1) is committed only after
 * onBatch resolves. When onBatch throws nothing is committed: the member backs off (heartbeating) and seeks back to
 * the batch's first offset, so the same messages come again.
 *
 * kafkajs has no revoke callback, so assignments are derived from GROUP_JOIN events: partitions gone since the last
 * join go to onRevoke, new ones to onAssign, in that order and before any batch is processed. onRevoke on a rebalance
 * therefore runs after the rejoin, possibly while the new owner already runs onAssign: state handed over between
 * members must be made consistent with committed offsets (checkpoint in onBatch before the commit), not only in
 * onRevoke. On close(), onRevoke runs for every owned partition before the member leaves the group.
 */
export class KafkaSubscription implements Subscription {
  /** partitions announced to onAssign and not yet revoked */
  private readonly announced = new Set<string>();
  private callbacks: Promise<void> = Promise.resolve();
  private readonly failures = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private crash: { error: Error; restart: boolean } | undefined;
  private started = false;
  private recovering = false;
  private recoveries = 0;

  constructor(
    private readonly consumer: Consumer,
    private readonly options: SubscribeOptions,
    private readonly tuning: KafkaSubscriptionTuning,
  ) {}

  async start(): Promise<void> {
    const c = this.consumer;
    c.on(c.events.GROUP_JOIN, (e) => {
      const assigned = new Set<string>();
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const p of partitions) assigned.add(tpKey(topic, p));
      }
      this.enqueueCallbacks(() => this.applyAssignment(assigned));
    });
    c.on(c.events.CRASH, (e) => {
      this.crash = { error: e.payload.error, restart: e.payload.restart };
      crashes.inc({ restart: String(e.payload.restart) });
      this.tuning.logger.error(
        { err: e.payload.error?.message, groupId: e.payload.groupId, restart: e.payload.restart },
        'kafka consumer crashed',
      );
      // kafkajs restarts by itself only after retriable errors; bring the member back after the others too
      if (this.started && !e.payload.restart && !this.closing) this.scheduleRecovery();
    });
    await c.connect();
    await c.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? false });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.runOnce();
        this.started = true;
        return;
      } catch (err) {
        if (attempt >= START_ATTEMPTS || this.closing) throw err;
        await sleep(jittered(this.tuning.batchRetryInitialMs * 2 ** attempt), this.abort.signal);
      }
    }
  }

  /** connect and run; resolves once the member has joined the group, rejects if it crashed on the way */
  private async runOnce(): Promise<void> {
    const c = this.consumer;
    this.crash = undefined;
    await c.connect();
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.tuning.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.track(this.eachBatch(payload)),
    });
    const crash = this.crash as { error: Error; restart: boolean } | undefined;
    if (crash) {
      // also cancels kafkajs's own restart timer: the caller decides when to try again
      await c.disconnect().catch(() => {});
      throw crash.error;
    }
  }

  private scheduleRecovery(): void {
    if (this.recovering) return;
    this.recovering = true;
    this.recoveries++;
    const delay = jittered(
      Math.min(this.tuning.batchRetryMaxMs, this.tuning.batchRetryInitialMs * 2 ** this.recoveries),
    );
    setTimeout(() => {
      this.recovering = false;
      if (this.closing) return;
      this.runOnce().then(
        () => {
          this.recoveries = 0;
        },
        () => this.scheduleRecovery(),
      );
    }, delay).unref();
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  private enqueueCallbacks(fn: () => Promise<void>): void {
    this.callbacks = this.callbacks.then(fn).catch((err) => {
      this.tuning.logger.warn({ err: (err as Error).message }, 'kafka assignment callback failed');
    });
  }

  private async applyAssignment(assigned: Set<string>): Promise<void> {
    if (this.closing) return;
    const revoked = [...this.announced].filter((k) => !assigned.has(k));
    if (revoked.length > 0) {
      for (const k of revoked) this.announced.delete(k);
      await this.revoke(revoked.map(tpOf));
    }
    const fresh = [...assigned].filter((k) => !this.announced.has(k));
    if (fresh.length > 0 && this.options.onAssign) {
      // a failed onAssign leaves the partitions unannounced: their first batch retries it
      await this.options.onAssign(fresh.map(tpOf));
    }
    for (const k of fresh) this.announced.add(k);
  }

  private async revoke(list: TopicPartition[]): Promise<void> {
    if (list.length === 0 || !this.options.onRevoke) return;
    try {
      await this.options.onRevoke(list);
    } catch (err) {
      for (const tp of list) callbackFailures.inc({ topic: tp.topic });
      this.tuning.logger.warn({ err: (err as Error).message }, 'onRevoke failed');
    }
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (this.closing || !payload.isRunning() || payload.isStale()) return;
    await this.callbacks;
    if (this.closing || payload.isStale()) return;
    if (batch.messages.length === 0) {
      // only control records or aborted messages: move past them
      payload.resolveOffset(batch.lastOffset());
      return;
    }
    const key = tpKey(batch.topic, batch.partition);
    const first = batch.messages[0].offset;
    let commit = true;
    const heartbeats = setInterval(() => {
      payload.heartbeat().catch(() => {
        // a rebalance shows up again at the commit or the next fetch
      });
    }, this.tuning.heartbeatIntervalMs);
    try {
      if (!this.announced.has(key)) {
        if (this.options.onAssign) await this.options.onAssign([{ topic: batch.topic, partition: batch.partition }]);
        this.announced.add(key);
      }
      commit = (await this.options.onBatch(this.toBusBatch(batch))) !== false;
    } catch (err) {
      clearInterval(heartbeats);
      await this.retryLater(payload, key, first, err);
      return;
    } finally {
      clearInterval(heartbeats);
    }
    this.failures.delete(key);
    const last = batch.lastOffset();
    payload.resolveOffset(last);
    consumed.inc({ topic: batch.topic }, batch.messages.length);
    // `false`: processed but not to be committed yet; a later batch's commit covers it
    if (!commit) return;
    // commit errors (rebalance, coordinator moved) propagate: kafkajs rejoins and the batch comes again
    await payload.commitOffsetsIfNecessary({
      topics: [
        { topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] },
      ],
    });
    await payload.heartbeat();
  }

  private async retryLater(payload: EachBatchPayload, key: string, firstOffset: string, err: unknown): Promise<void> {
    const { batch } = payload;
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    batchFailures.inc({ topic: batch.topic });
    const base = Math.min(this.tuning.batchRetryMaxMs, this.tuning.batchRetryInitialMs * 2 ** (n - 1));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.tuning.logger.warn(
      {
        err: (err as Error)?.message,
        topic: batch.topic,
        partition: batch.partition,
        offset: firstOffset,
        attempt: n,
        delay,
      },
      'onBatch failed; the batch will be redelivered',
    );
    const until = Date.now() + delay;
    while (!this.abort.signal.aborted && Date.now() < until) {
      await sleep(Math.min(this.tuning.heartbeatIntervalMs, until - Date.now()), this.abort.signal);
      await payload.heartbeat().catch(() => {});
    }
    if (payload.isRunning() && !payload.isStale()) {
      this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: firstOffset });
    }
  }

  private toBusBatch(batch: Batch): BusBatch {
    const { topic, partition } = batch;
    return { topic, partition, messages: batch.messages.map((m) => toBusMessage(topic, partition, m)) };
  }

  async commit(topic: string, partition: number, offset: number): Promise<boolean> {
    if (this.closing) return false;
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: String(offset) }]);
      return true;
    } catch (err) {
      // a rebalance took the partition away (or the coordinator moved): the next owner replays from its checkpoint
      this.tuning.logger.warn({ topic, partition, err: (err as Error).message }, 'commit outside a batch failed');
      return false;
    }
  }

  async lag(): Promise<{ topic: string; partition: number; lag: number }[]> {
    const admin = await this.tuning.admin();
    const committed = await admin.fetchOffsets({ groupId: this.options.groupId, topics: this.options.topics });
    const out: { topic: string; partition: number; lag: number }[] = [];
    for (const topic of this.options.topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const e of ends) {
        const c = mine.find((p) => p.partition === e.partition);
        const from = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(e.low);
        out.push({ topic, partition: e.partition, lag: Math.max(0, Number(e.high) - from) });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort();
      try {
        // stop fetching, let the batch in flight finish, hand partitions back, then leave the group
        this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
      } catch {
        // not running
      }
      await Promise.allSettled([...this.inFlight]);
      await this.callbacks;
      const owned = [...this.announced].map(tpOf);
      this.announced.clear();
      await this.revoke(owned);
      await this.consumer.disconnect().catch((err) => {
        this.tuning.logger.warn({ err: (err as Error).message }, 'kafka consumer disconnect failed');
      });
      this.tuning.onClosed(this);
    })();
    return this.closing;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
