import { context } from '@opentelemetry/api';
import { alertMessage, TOPICS, type Bus, type BusBatch, type Subscription } from '../bus/bus.js';
import type { Alert } from '../core/alert.js';
import type { Logger } from '../core/logger.js';
import { KeyedLock } from '../core/keyed-lock.js';
import { counter, gauge } from '../core/metrics.js';
import type { ApiCallRecord } from '../core/record.js';
import { contextFromHeaders, inSpan } from '../core/tracing.js';
import { type Detector, feedbackVersionKey } from '../detectors/detector.js';
import type { Store } from '../store/store.js';
import { EvidenceKeeper } from './evidence-keeper.js';
import { MetricsWriter } from './metrics-writer.js';
import { Shard, type ShardOptions, type ShardOutput, type ShardSnapshot } from './shard.js';

export interface CorrelatorOptions {
  bus: Bus;
  store: Store;
  logger: Logger;
  /** a fresh set of detectors for one shard (partition) */
  createDetectors: () => Detector[];
  shard?: ShardOptions;
  groupId?: string;
  /**
   * the topic read (default meshward.calls); a keyed stream's correlator reads its stream (meshward.calls.by-trace)
   * and runs its one detector there
   */
  topic?: string;
  /**
   * write the closed RED windows to the store (default true); a keyed stream's correlator does not: the calls
   * topic's correlator writes every service's, and a second writer would store them twice
   */
  writeWindows?: boolean;
  /** checkpoint a partition's state (and commit its offset) at most this often (default 5 s) */
  checkpointIntervalMs?: number;
  /** ... or after this many records (default 50,000) */
  checkpointRecords?: number;
  /** called with every alert change after it is published (embedded mode wires sinks here) */
  onAlerts?: (alerts: Alert[]) => void;
  /**
   * the idle watermark (correlator.idle_after_seconds): a partition that has received no record for this long of wall
   * clock, and that the bus says was read to its end, has its event time moved on with the wall clock, held back by
   * this much (0 or absent: off, event time moves with records alone)
   */
  idleAfterMs?: number;
  /** the wall clock (ms) of checkpoints due and idle partitions (default Date.now); never the alerts' clock */
  now?: () => number;
  /**
   * the bus has several partitions (keyed by service): the shards' detectors count what spans services across them,
   * in the store (Detector.joinMesh). Synced after a batch, at most every meshSyncIntervalMs, and on the idle tick
   */
  meshCounts?: boolean;
  /** default 1 s */
  meshSyncIntervalMs?: number;
}

/** where a partition's checkpoint stands: the next offset it has not read, of the bus log `epoch` */
interface CheckpointHead {
  nextOffset: number;
  /** Bus.logEpoch when the checkpoint was written (absent: Kafka) */
  epoch?: string;
}

/** a partition's checkpoint: the shard's state at its head */
interface Checkpoint extends CheckpointHead {
  state: ShardSnapshot;
}

interface PartitionState {
  shard: Shard;
  evidence: EvidenceKeeper;
  /** offsets below this are already in the state (restored from a checkpoint) */
  nextOffset: number;
  /** version of each feedback hash last handed to the shard */
  feedbackSeen: Map<string, string>;
  /** nextOffset is known: from a checkpoint, or after the first batch */
  restored: boolean;
  /** wall clock when the partition's last record arrived (or it was loaded): the idle watermark counts from here */
  lastArrivalAt: number;
  /** the shard's event time then */
  eventTimeAtArrival: number;
  sinceCheckpoint: number;
  lastCheckpointAt: number;
  /** wall clock of the shard's last sync of the counts across partitions */
  lastMeshSyncAt: number;
  /**
   * Alerts and windows drained from the shard but not yet published and stored. The records that produced them are
   * already in the state (a redelivered batch skips them), so an outage must not drop this output: it is retried
   * with the next attempt, and a checkpoint is written only once it is empty.
   */
  pending: ShardOutput;
}

const consumed = counter('meshward_correlator_records_total', 'records processed by the correlator');
const badRecords = counter(
  'meshward_correlator_bad_records_total',
  'bus messages that were not records (skipped, counted)',
);
const alertsOut = counter('meshward_correlator_alerts_published_total', 'alert changes published');
const lostToRetention = counter(
  'meshward_correlator_records_lost_total',
  'records the bus no longer held when the correlator reached them (retention passed a stopped correlator)',
);
const idleCommits = counter(
  'meshward_correlator_idle_commits_total',
  'offsets committed for partitions whose traffic stopped',
);
const idleAdvances = counter(
  'meshward_correlator_idle_advances_total',
  "moves of an idle partition's event time with the wall clock (correlator.idle_after_seconds)",
);
const idleSkips = counter(
  'meshward_correlator_idle_advances_skipped_total',
  'idle partitions left where they were: lag (the bus did not report the partition read to its end and committed) or bus_error (the bus could not say)',
  ['reason'],
);
const idleFailures = counter(
  'meshward_correlator_idle_advance_failures_total',
  'idle advances whose output could not be published or checkpointed (it stays pending; the next tick or batch retries)',
);
const checkpoints = counter('meshward_correlator_checkpoints_total', 'partition state checkpoints written');
const meshSyncs = counter(
  'meshward_correlator_mesh_syncs_total',
  "syncs of a shard's counts across partitions with the store (custom_rules' groups that span services), by outcome: ok, or failed (the store did not answer; what was not written is written at the next sync)",
  ['outcome'],
);
const seriesGauge = gauge('meshward_correlator_series', 'RED series tracked', ['topic', 'partition']);
const lagGauge = gauge(
  'meshward_correlator_lag',
  'records not yet committed by the correlator group (the calls topic, or a keyed stream)',
  ['topic', 'partition'],
);

export const checkpointKey = (group: string, topic: string, partition: number) => `ckpt:${group}:${topic}:${partition}`;
/** the checkpoint's head alone, written after it: a writer compares offsets without reading the whole state */
export const checkpointHeadKey = (checkpoint: string) => `${checkpoint}:head`;

/**
 * The correlator: consumes records, keeps one Shard per assigned partition, publishes alert changes, writes closed
 * windows to the store, and checkpoints each partition's state before committing its offset. A crash or a
 * rebalance replays from the checkpoint; alerts are deterministic, so the replay yields the same alert ids.
 */
export class Correlator {
  private readonly partitions = new Map<number, PartitionState>();
  /** when each detector's last error was logged (epoch ms) */
  private readonly detectorErrorLogged = new Map<string, number>();
  private readonly groupId: string;
  private readonly topic: string;
  private readonly writer: MetricsWriter;
  private sub?: Subscription;
  private lagTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly idleAfterMs: number;
  /** an idle advance is running (a slow bus must not pile up lag queries, one per tick) */
  private advancing = false;
  /** when an idle advance's failure was last logged (wall clock ms) */
  private idleWarnedAt = 0;
  /** when a failed sync of the counts across partitions was last logged (wall clock ms) */
  private meshWarnedAt = 0;
  /** work on one partition (a batch, an idle checkpoint) runs one at a time */
  private readonly locks = new KeyedLock<number>();

  constructor(private readonly opts: CorrelatorOptions) {
    this.groupId = opts.groupId ?? 'meshward-correlator';
    this.topic = opts.topic ?? TOPICS.calls;
    this.writer = new MetricsWriter(opts.store);
    this.now = opts.now ?? Date.now;
    this.idleAfterMs = opts.idleAfterMs ?? 0;
  }

  async start(): Promise<void> {
    this.sub = await this.opts.bus.subscribe({
      groupId: this.groupId,
      topics: [this.topic],
      fromBeginning: true,
      onBatch: (b) => this.locked(b.partition, () => this.onBatch(b)),
      onAssign: async (tps) => {
        this.opts.logger.info({ topic: this.topic, partitions: tps.map((tp) => tp.partition) }, 'partitions assigned');
        for (const tp of tps) await this.load(tp.partition);
      },
      onRevoke: async (tps) => {
        this.opts.logger.info({ topic: this.topic, partitions: tps.map((tp) => tp.partition) }, 'partitions revoked');
        for (const tp of tps) {
          const p = this.partitions.get(tp.partition);
          this.partitions.delete(tp.partition);
          if (!p) continue;
          try {
            await this.checkpoint(tp.partition, p);
          } catch (err) {
            // the new owner replays from the last checkpoint (offsets are committed only with one): nothing is lost
            this.opts.logger.warn(
              { partition: tp.partition, err: (err as Error).message },
              'could not checkpoint a revoked partition; its next owner replays from the previous checkpoint',
            );
          }
        }
      },
    });
    this.lagTimer = setInterval(() => void this.reportLag(), 5000);
    this.lagTimer.unref();
    const interval = this.opts.checkpointIntervalMs ?? 5_000;
    this.idleTimer = setInterval(() => void this.checkpointIdle(interval), Math.max(100, Math.floor(interval / 2)));
    this.idleTimer.unref();
  }

  private locked<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(partition, fn);
  }

  /**
   * Partitions whose traffic stopped keep progress that no later batch will checkpoint: checkpoint them once the
   * interval has passed and commit their offset outside a batch, so lag reads zero and a restart replays nothing. A
   * partition with nothing new still takes up analysts' feedback and changed catalogue files once an interval, and
   * checkpoints when that changed its documents, so a review or a catalogue change reaches an idle partition too.
   * Then, after those commits, the idle watermark (advanceIdle).
   */
  private async checkpointIdle(intervalMs: number): Promise<void> {
    const sub = this.sub;
    if (!sub) return;
    for (const [partition, state] of this.partitions) {
      if (this.now() - state.lastCheckpointAt < intervalMs) continue;
      try {
        await this.locked(partition, async () => {
          if (this.partitions.get(partition) !== state) return;
          if (state.sinceCheckpoint === 0) {
            // nothing consumed, so no output pending: the documents, and the state when they changed
            if ((await this.writeDocuments(state)) > 0) await this.saveCheckpoint(partition, state);
            else state.lastCheckpointAt = this.now();
            return;
          }
          await this.checkpoint(partition, state);
          if (await sub.commit(this.topic, partition, state.nextOffset)) idleCommits.inc();
        });
      } catch (err) {
        // the store is down: the next batch or tick tries again
        this.opts.logger.warn({ partition, err: (err as Error).message }, 'idle checkpoint failed');
      }
    }
    if (this.opts.meshCounts) await this.syncMeshIdle();
    if (this.idleAfterMs > 0 && !this.advancing) {
      this.advancing = true;
      try {
        await this.advanceIdle(sub);
      } finally {
        this.advancing = false;
      }
    }
  }

  /**
   * The idle watermark: a partition that has received no record for idleAfterMs of wall clock has its event time
   * moved to its event time at the last arrival plus the wall clock since, less idleAfterMs (a record up to that late
   * still counts; only differences of the wall clock are used, so a sensor's skewed clock does not matter). Its
   * windows close, so a service that went dark gets its zero windows (traffic_drop), held signals raise and quiet
   * alerts resolve without waiting for a record; the output goes out as a batch's does, then a checkpoint. Only for a
   * partition the bus reports read to its end (lag 0 after the commits above): with the bus down nothing arrives
   * either, and that silence is not the services'. A partition that never had a record has no event time to move.
   */
  private async advanceIdle(sub: Subscription): Promise<void> {
    const now = this.now();
    const idle = [...this.partitions].filter(
      ([, s]) => s.shard.eventTime() > 0 && now - s.lastArrivalAt >= this.idleAfterMs,
    );
    if (idle.length === 0) return;
    let lags: Awaited<ReturnType<Subscription['lag']>>;
    try {
      lags = await sub.lag();
    } catch (err) {
      idleSkips.inc({ reason: 'bus_error' }, idle.length);
      this.idleWarn(
        { err: (err as Error).message },
        'the bus could not report lag: idle partitions keep their event time',
      );
      return;
    }
    for (const [partition, state] of idle) {
      const lag = lags.find((l) => l.topic === this.topic && l.partition === partition)?.lag;
      if (lag !== 0) {
        idleSkips.inc({ reason: 'lag' });
        continue;
      }
      try {
        await this.locked(partition, async () => {
          const at = this.now();
          // revoked, or a record arrived while the bus answered
          if (this.partitions.get(partition) !== state || at - state.lastArrivalAt < this.idleAfterMs) return;
          const before = state.shard.eventTime();
          state.shard.advanceTo(state.eventTimeAtArrival + (at - state.lastArrivalAt) - this.idleAfterMs);
          if (state.shard.eventTime() > before) idleAdvances.inc();
          this.takeOutput(state);
          // what a failed attempt left pending goes out now too; a move that closed nothing needs no checkpoint
          if (state.pending.alerts.length > 0 || state.pending.windows.length > 0)
            await this.checkpoint(partition, state);
        });
      } catch (err) {
        idleFailures.inc();
        this.idleWarn(
          { partition, err: (err as Error).message },
          'idle advance could not publish or checkpoint; retried',
        );
      }
    }
  }

  /**
   * The counts across partitions move without this partition's records (other partitions add to them): each partition
   * syncs on the idle tick too, and what its totals reached goes out as a batch's alerts do
   */
  private async syncMeshIdle(): Promise<void> {
    for (const [partition, state] of this.partitions) {
      try {
        await this.locked(partition, async () => {
          if (this.partitions.get(partition) !== state) return;
          await this.syncMesh(state);
          this.takeOutput(state);
          await this.flushPending(state);
        });
      } catch (err) {
        // the bus or the store is down: the output stays pending for the next batch or tick
        this.opts.logger.warn({ partition, err: (err as Error).message }, 'could not publish alerts of shared counts');
      }
    }
  }

  /**
   * The shard writes its shares of the counts across partitions and signals what their totals reached, at most once
   * per meshSyncIntervalMs. A failure is counted and logged (at most once a minute), never thrown: the records are in
   * the state, and what was not written is written by the next sync
   */
  private async syncMesh(state: PartitionState): Promise<void> {
    if (!this.opts.meshCounts || this.now() - state.lastMeshSyncAt < (this.opts.meshSyncIntervalMs ?? 1000)) return;
    state.lastMeshSyncAt = this.now();
    try {
      await state.shard.syncMesh();
      meshSyncs.inc({ outcome: 'ok' });
    } catch (err) {
      meshSyncs.inc({ outcome: 'failed' });
      const now = this.now();
      if (now - this.meshWarnedAt < 60_000) return;
      this.meshWarnedAt = now;
      this.opts.logger.warn(
        { err: (err as Error).message },
        'could not sync the counts across partitions with the store; retried at the next sync',
      );
    }
  }

  /** a failure of the idle watermark, logged at most once a minute (each is counted) */
  private idleWarn(fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    if (now - this.idleWarnedAt < 60_000) return;
    this.idleWarnedAt = now;
    this.opts.logger.warn(fields, message);
  }

  private async load(partition: number): Promise<PartitionState> {
    const shard = new Shard(this.opts.createDetectors(), {
      ...this.opts.shard,
      onDetectorError: (detector, err) => this.detectorError(detector, err),
    });
    if (this.opts.meshCounts) shard.joinMesh({ store: this.opts.store, partition, group: this.groupId });
    const raw = await this.opts.store.get(checkpointKey(this.groupId, this.topic, partition));
    let nextOffset = 0;
    let sameLog = false;
    if (raw) {
      const ck = JSON.parse(raw) as Checkpoint;
      shard.restore(ck.state);
      // the embedded bus's log restarts at 0 with the process: the state stands, an earlier log's offset does not
      sameLog = ck.epoch === this.opts.bus.logEpoch;
      if (sameLog) nextOffset = ck.nextOffset;
      this.opts.logger.info(
        { partition, nextOffset, checkpointOffset: ck.nextOffset },
        sameLog
          ? 'restored partition state from checkpoint'
          : 'restored partition state from a checkpoint of an earlier embedded bus: reading its new log from the start',
      );
    }
    const state: PartitionState = {
      shard,
      evidence: new EvidenceKeeper(),
      nextOffset,
      restored: sameLog,
      lastArrivalAt: this.now(),
      eventTimeAtArrival: shard.eventTime(),
      feedbackSeen: new Map(),
      sinceCheckpoint: 0,
      lastCheckpointAt: this.now(),
      lastMeshSyncAt: 0,
      pending: { alerts: [], windows: [] },
    };
    // analysts' feedback before the first record: a reviewed endpoint called again right after a restart (or a
    // partition's move) is judged reviewed, not shadow, without waiting for the first checkpoint
    await this.takeFeedback(state);
    this.partitions.set(partition, state);
    return state;
  }

  /** a detector's bug, logged at most once a minute per detector (each one is counted by the shard) */
  private detectorError(detector: string, err: unknown): void {
    const now = this.now();
    if (now - (this.detectorErrorLogged.get(detector) ?? 0) < 60_000) return;
    this.detectorErrorLogged.set(detector, now);
    this.opts.logger.error(
      { detector, err: err instanceof Error ? err.message : String(err) },
      'a detector threw on an input; it skips that input and goes on (meshward_detector_errors_total)',
    );
  }

  /** hands the shard each feedback hash whose version changed since it last took it */
  private async takeFeedback(state: PartitionState): Promise<void> {
    for (const key of state.shard.feedbackKeys()) {
      const version = (await this.opts.store.get(feedbackVersionKey(key))) ?? '0';
      if (state.feedbackSeen.get(key) === version) continue;
      state.shard.feedback(key, await this.opts.store.hgetall(key));
      state.feedbackSeen.set(key, version);
    }
  }

  private async onBatch(batch: BusBatch): Promise<boolean> {
    const state = this.partitions.get(batch.partition) ?? (await this.load(batch.partition));
    const first = batch.messages[0];
    const parent = first ? contextFromHeaders(first.headers) : context.active();
    return inSpan(
      'meshward.consume',
      { partition: batch.partition, 'meshward.records': batch.messages.length },
      async () => {
        let last = -1;
        let n = 0;
        const firstOffset = first ? Number(first.offset) : -1;
        if (firstOffset > state.nextOffset && state.restored) {
          // the log no longer starts where this partition's state ends: the gap is gone for good; say so loudly
          lostToRetention.inc(firstOffset - state.nextOffset);
          this.opts.logger.error(
            { partition: batch.partition, expected: state.nextOffset, got: firstOffset },
            'records were lost to the bus retention before the correlator read them',
          );
        }
        state.restored = true;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          last = offset;
          if (offset < state.nextOffset) continue; // already part of the restored state
          let value: unknown;
          try {
            value = JSON.parse(m.value.toString('utf8'));
          } catch {
            badRecords.inc();
            continue;
          }
          // a keyed stream's message is a bundle: the records of one ingest batch in one bucket of the key
          for (const item of Array.isArray(value) ? value : [value]) {
            const record = item as ApiCallRecord;
            if (typeof record?.ts !== 'number' || typeof record.service !== 'string') {
              badRecords.inc();
              continue;
            }
            state.shard.process(record);
            state.evidence.keep(record);
            n++;
          }
        }
        consumed.inc(n);
        if (last >= state.nextOffset) state.nextOffset = last + 1;
        state.sinceCheckpoint += n;
        if (n > 0) {
          state.lastArrivalAt = this.now();
          state.eventTimeAtArrival = state.shard.eventTime();
        }
        await this.syncMesh(state);
        this.takeOutput(state);
        await this.flushPending(state);
        seriesGauge.set({ topic: this.topic, partition: String(batch.partition) }, state.shard.stats().series);
        const due =
          state.sinceCheckpoint >= (this.opts.checkpointRecords ?? 50_000) ||
          this.now() - state.lastCheckpointAt >= (this.opts.checkpointIntervalMs ?? 5_000);
        if (!due) return false;
        await this.checkpoint(batch.partition, state);
        return true;
      },
      parent,
    );
  }

  /** the shard's new alerts and closed windows join the partition's pending output */
  private takeOutput(state: PartitionState): void {
    const out = state.shard.drain();
    state.pending.alerts.push(...out.alerts);
    state.pending.windows.push(...out.windows);
  }

  /** publishes and stores the partition's pending output; what fails stays pending for the next attempt */
  private async flushPending(state: PartitionState): Promise<void> {
    const { pending } = state;
    if (pending.alerts.length === 0 && pending.windows.length === 0) return;
    await inSpan(
      'meshward.detect.publish',
      { alerts: pending.alerts.length, windows: pending.windows.length },
      async () => {
        if (pending.alerts.length > 0) {
          const alerts = pending.alerts;
          await state.evidence.save(this.opts.store, alerts);
          await this.opts.bus.publish(TOPICS.alerts, alerts.map(alertMessage));
          pending.alerts = [];
          alertsOut.inc(alerts.length);
          this.opts.onAlerts?.(alerts);
        }
        if (pending.windows.length > 0) {
          if (this.opts.writeWindows !== false) await this.writer.write(pending.windows);
          pending.windows = [];
        }
      },
    );
  }

  private async checkpoint(partition: number, state: PartitionState): Promise<void> {
    // a checkpoint covers the records behind the pending output: that output must be out first
    await this.flushPending(state);
    await this.writeDocuments(state);
    await this.saveCheckpoint(partition, state);
  }

  /** the shard's state at its next offset, once its output and documents are out (checkpoint) */
  private async saveCheckpoint(partition: number, state: PartitionState): Promise<void> {
    const key = checkpointKey(this.groupId, this.topic, partition);
    // a late revoke (Kafka calls it after the rejoin) must not overwrite a newer owner's checkpoint
    const current = await this.checkpointHead(key);
    const epoch = this.opts.bus.logEpoch;
    if (current && current.epoch === epoch && current.nextOffset > state.nextOffset) return;
    const head: CheckpointHead = { nextOffset: state.nextOffset, epoch };
    const checkpoint: Checkpoint = { ...head, state: state.shard.snapshot() };
    await this.opts.store.set(key, JSON.stringify(checkpoint));
    await this.opts.store.set(checkpointHeadKey(key), JSON.stringify(head));
    await this.opts.store.flush();
    state.sinceCheckpoint = 0;
    state.lastCheckpointAt = this.now();
    checkpoints.inc();
  }

  /** the head of the stored checkpoint; a checkpoint written before heads were kept is read whole */
  private async checkpointHead(key: string): Promise<CheckpointHead | null> {
    const raw = (await this.opts.store.get(checkpointHeadKey(key))) ?? (await this.opts.store.get(key));
    if (!raw) return null;
    const { nextOffset, epoch } = JSON.parse(raw) as CheckpointHead;
    return { nextOffset, epoch };
  }

  /**
   * detector documents (the API inventory) for the analysts' API, after the detectors took up feedback and what
   * changed on disk; written before the checkpoint that covers them. Returns how many were written
   */
  private async writeDocuments(state: PartitionState): Promise<number> {
    state.shard.refresh();
    await this.takeFeedback(state);
    const docs = state.shard.documents();
    for (let i = 0; i < docs.length; i += 100) {
      await Promise.all(
        docs
          .slice(i, i + 100)
          .map((d) =>
            d.deleted
              ? this.opts.store.hdel(`doc:${d.collection}`, d.id)
              : this.opts.store.hset(`doc:${d.collection}`, d.id, JSON.stringify(d.value)),
          ),
      );
    }
    return docs.length;
  }

  private async reportLag(): Promise<void> {
    try {
      for (const l of (await this.sub?.lag()) ?? [])
        lagGauge.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
    } catch {
      // lag is best effort; the bus reports its own health
    }
  }

  stats(): { partitions: number; series: number; openAlerts: number } {
    let series = 0;
    let openAlerts = 0;
    for (const p of this.partitions.values()) {
      const s = p.shard.stats();
      series += s.series;
      openAlerts += s.openAlerts;
    }
    return { partitions: this.partitions.size, series, openAlerts };
  }

  /** checkpoints every partition, then stops consuming; safe to call twice */
  async close(): Promise<void> {
    if (this.lagTimer) clearInterval(this.lagTimer);
    if (this.idleTimer) clearInterval(this.idleTimer);
    const sub = this.sub;
    this.sub = undefined;
    if (!sub) return;
    await sub.close();
    for (const [partition, state] of this.partitions) await this.checkpoint(partition, state);
    this.partitions.clear();
  }
}
