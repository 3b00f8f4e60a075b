import { randomUUID } from 'node:crypto';
import { mwError } from '../core/errors.js';
import { counter, gauge } from '../core/metrics.js';
import type { Bus, BusBatch, BusMessage, OutMessage, SubscribeOptions, Subscription } from './bus.js';
import { partitionFor } from './partitioner.js';

export interface MemoryBusOptions {
  /** partitions per topic (default 4) */
  partitions?: number;
  /** max messages retained but not yet committed by every group, per partition; past it publish answers 429 */
  maxBacklogPerPartition?: number;
  /** max messages handed to one onBatch call */
  maxBatch?: number;
  /** backoff after an onBatch failure */
  retryDelayMs?: number;
  /**
   * a topic no consumer group reads (the DLQ in one process) keeps at most this many bytes of its newest messages per
   * partition, as a Kafka topic's retention would (default 64 MiB); older ones are dropped and counted
   */
  maxUnreadBytesPerPartition?: number;
}

interface PartitionLog {
  /** offset of messages[0] */
  base: number;
  messages: BusMessage[];
  /** bytes of the values held */
  bytes: number;
}

interface Member {
  id: number;
  options: SubscribeOptions;
  assigned: Set<string>;
  closed: boolean;
  wake: () => void;
  running: Promise<void>;
}

interface Group {
  id: string;
  topics: Set<string>;
  /** committed offset per `topic/partition` */
  committed: Map<string, number>;
  members: Member[];
}

const published = counter('meshward_bus_published_total', 'messages published to the bus', ['bus', 'topic']);
const rejected = counter('meshward_bus_rejected_total', 'publishes rejected by the bus (saturated)', ['bus', 'topic']);
const dropped = counter(
  'meshward_bus_unread_dropped_total',
  'messages of a topic no consumer group reads, dropped past its retention (in-process bus)',
  ['bus', 'topic'],
);
const backlogGauge = gauge('meshward_bus_backlog', 'uncommitted messages held by the in-process bus', ['topic']);

const tpKey = (topic: string, partition: number) => `${topic}/${partition}`;

/**
 * The embedded bus: topics with partitions and offsets, consumer groups with commit-after-effects, bounded memory
 * (messages are released once every group committed them) and backpressure (publish fails when a partition's
 * uncommitted backlog is full). Nothing survives the process: durability comes from the data directory of the store.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly logEpoch = randomUUID();
  private readonly partitions: number;
  private readonly maxBacklog: number;
  private readonly maxBatch: number;
  private readonly retryDelayMs: number;
  private readonly maxUnreadBytes: number;
  private readonly logs = new Map<string, PartitionLog>();
  private readonly groups = new Map<string, Group>();
  private nextMemberId = 1;
  private closed = false;

  constructor(opts: MemoryBusOptions = {}) {
    this.partitions = opts.partitions ?? 4;
    this.maxBacklog = opts.maxBacklogPerPartition ?? 200_000;
    this.maxBatch = opts.maxBatch ?? 1_000;
    this.retryDelayMs = opts.retryDelayMs ?? 200;
    this.maxUnreadBytes = opts.maxUnreadBytesPerPartition ?? 64 * 1024 * 1024;
  }

  healthy(): boolean {
    return !this.closed;
  }

  private log(topic: string, partition: number): PartitionLog {
    const key = tpKey(topic, partition);
    let l = this.logs.get(key);
    if (!l) {
      l = { base: 0, messages: [], bytes: 0 };
      this.logs.set(key, l);
    }
    return l;
  }

  async publish(topic: string, messages: OutMessage[]): Promise<void> {
    if (this.closed) throw mwError('BUS_UNAVAILABLE', 'the bus is closed');
    // check capacity for the whole request first, so a publish is all-or-nothing
    const perPartition = new Map<number, number>();
    const parts = messages.map((m) => {
      const p =
        m.key === undefined ? Math.floor(Math.random() * this.partitions) : partitionFor(m.key, this.partitions);
      perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
      return p;
    });
    const unread = !this.isRead(topic);
    for (const [p, n] of perPartition) {
      if (!unread && this.log(topic, p).messages.length + n > this.maxBacklog) {
        rejected.inc({ bus: 'memory', topic }, messages.length);
        throw mwError('BUS_SATURATED', `partition ${topic}/${p} holds ${this.maxBacklog} uncommitted messages`);
      }
    }
    const now = Date.now();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const l = this.log(topic, parts[i]);
      const value = typeof m.value === 'string' ? Buffer.from(m.value) : m.value;
      l.messages.push({
        topic,
        partition: parts[i],
        offset: String(l.base + l.messages.length),
        key: m.key ?? null,
        value,
        headers: m.headers ?? {},
        timestamp: now,
      });
      l.bytes += value.length;
    }
    published.inc({ bus: 'memory', topic }, messages.length);
    if (unread) for (const p of perPartition.keys()) this.trimUnread(topic, p);
    for (const g of this.groups.values()) {
      if (!g.topics.has(topic)) continue;
      for (const m of g.members) m.wake();
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw mwError('BUS_UNAVAILABLE', 'the bus is closed');
    let group = this.groups.get(options.groupId);
    if (!group) {
      group = { id: options.groupId, topics: new Set(options.topics), committed: new Map(), members: [] };
      this.groups.set(options.groupId, group);
      if (!options.fromBeginning) {
        for (const t of options.topics) {
          for (let p = 0; p < this.partitions; p++) {
            const l = this.log(t, p);
            group.committed.set(tpKey(t, p), l.base + l.messages.length);
          }
        }
      }
    }
    const member: Member = {
      id: this.nextMemberId++,
      options,
      assigned: new Set(),
      closed: false,
      wake: () => {},
      running: Promise.resolve(),
    };
    group.members.push(member);
    await this.rebalance(group);
    member.running = this.consume(group, member);
    return {
      close: async () => {
        if (member.closed) return;
        member.closed = true;
        member.wake();
        await member.running;
        const g = this.groups.get(options.groupId);
        if (g) {
          g.members = g.members.filter((m) => m !== member);
          await this.rebalance(g);
        }
      },
      lag: async () => this.lagOf(group, member),
      commit: async (topic, partition, offset) => {
        const k = tpKey(topic, partition);
        if (member.closed || !member.assigned.has(k)) return false;
        if (offset > (group.committed.get(k) ?? 0)) {
          group.committed.set(k, offset);
          this.release(topic, partition);
        }
        return true;
      },
    };
  }

  private async rebalance(group: Group): Promise<void> {
    const all: { topic: string; partition: number }[] = [];
    for (const t of group.topics) for (let p = 0; p < this.partitions; p++) all.push({ topic: t, partition: p });
    const live = group.members.filter((m) => !m.closed);
    const next = new Map<Member, Set<string>>(live.map((m) => [m, new Set<string>()]));
    all.forEach((tp, i) => {
      if (live.length > 0) next.get(live[i % live.length])?.add(tpKey(tp.topic, tp.partition));
    });
    for (const m of live) {
      const target = next.get(m) ?? new Set<string>();
      const revoked = [...m.assigned].filter((k) => !target.has(k));
      const assigned = [...target].filter((k) => !m.assigned.has(k));
      if (revoked.length > 0) await m.options.onRevoke?.(revoked.map(parseTp));
      m.assigned = target;
      if (assigned.length > 0) await m.options.onAssign?.(assigned.map(parseTp));
      m.wake();
    }
  }

  private lagOf(group: Group, member: Member): { topic: string; partition: number; lag: number }[] {
    return [...member.assigned].map((k) => {
      const { topic, partition } = parseTp(k);
      const l = this.log(topic, partition);
      return { topic, partition, lag: l.base + l.messages.length - (group.committed.get(k) ?? 0) };
    });
  }

  private async consume(group: Group, member: Member): Promise<void> {
    /** delivered-but-not-committed position per partition (batches resolved with `false`) */
    const position = new Map<string, number>();
    while (!member.closed && !this.closed) {
      let didWork = false;
      for (const k of [...member.assigned]) {
        if (member.closed) break;
        const { topic, partition } = parseTp(k);
        const l = this.log(topic, partition);
        const committed = group.committed.get(k) ?? l.base;
        const from = Math.max(position.get(k) ?? committed, l.base);
        const end = l.base + l.messages.length;
        if (from >= end) continue;
        const slice = l.messages.slice(from - l.base, Math.min(end, from + this.maxBatch) - l.base);
        const batch: BusBatch = { topic, partition, messages: slice };
        didWork = true;
        try {
          const result = await member.options.onBatch(batch);
          const next = from + slice.length;
          if (!member.assigned.has(k)) continue; // revoked while processing: the new owner replays
          if (result === false) position.set(k, next);
          else {
            group.committed.set(k, next);
            position.delete(k);
            this.release(topic, partition);
          }
        } catch {
          position.delete(k); // redeliver from the committed offset
          await sleep(this.retryDelayMs);
        }
      }
      if (!didWork) await new Promise<void>((resolve) => (member.wake = resolve));
    }
  }

  /** drop messages every group interested in the topic has committed */
  private release(topic: string, partition: number): void {
    const k = tpKey(topic, partition);
    let min = Number.POSITIVE_INFINITY;
    for (const g of this.groups.values()) {
      if (g.topics.has(topic)) min = Math.min(min, g.committed.get(k) ?? 0);
    }
    const l = this.log(topic, partition);
    if (Number.isFinite(min) && min > l.base) this.drop(l, min - l.base);
    backlogGauge.set({ topic }, this.backlog(topic));
  }

  /** whether a consumer group reads the topic (then its messages are held until committed) */
  private isRead(topic: string): boolean {
    for (const g of this.groups.values()) if (g.topics.has(topic)) return true;
    return false;
  }

  /** an unread topic's partition keeps its newest messages, within the backlog and byte bounds */
  private trimUnread(topic: string, partition: number): void {
    const l = this.log(topic, partition);
    let n = 0;
    let bytes = l.bytes;
    while (n < l.messages.length && (l.messages.length - n > this.maxBacklog || bytes > this.maxUnreadBytes)) {
      bytes -= l.messages[n].value.length;
      n++;
    }
    if (n === 0) return;
    this.drop(l, n);
    dropped.inc({ bus: 'memory', topic }, n);
  }

  private drop(l: PartitionLog, n: number): void {
    for (let i = 0; i < n; i++) l.bytes -= l.messages[i].value.length;
    l.messages.splice(0, n);
    l.base += n;
  }

  /** messages of a topic not yet committed by every group */
  backlog(topic: string): number {
    let n = 0;
    for (let p = 0; p < this.partitions; p++) n += this.logs.get(tpKey(topic, p))?.messages.length ?? 0;
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const g of this.groups.values()) {
      for (const m of g.members) {
        m.closed = true;
        m.wake();
      }
      await Promise.all(g.members.map((m) => m.running));
    }
  }
}

function parseTp(k: string): { topic: string; partition: number } {
  const i = k.lastIndexOf('/');
  return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());
