/** The transport between pipeline stages: the in-process bus (embedded) or Kafka (distributed). */

export const TOPICS = {
  calls: 'meshward.calls',
  callsDlq: 'meshward.calls.dlq',
  /** the records with a trace id again, keyed by it (correlator.keyed_streams: fan_out sees a trace whole) */
  callsByTrace: 'meshward.calls.by-trace',
  /** the records with a token hash again, keyed by it (correlator.keyed_streams: token_mismatch sees a token whole) */
  callsByToken: 'meshward.calls.by-token',
  alerts: 'meshward.alerts',
  decisions: 'meshward.decisions',
} as const;

export interface OutMessage {
  /** partitioning key: the service name for calls */
  key?: string;
  value: Buffer | string;
  headers?: Record<string, string>;
}

/** an alert (or alert change) as a message of the alerts topic, keyed by its id */
export const alertMessage = (alert: { id: string }): OutMessage => ({ key: alert.id, value: JSON.stringify(alert) });

export interface BusMessage {
  topic: string;
  partition: number;
  /** offset as a decimal string (Kafka's convention) */
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: number;
}

export interface BusBatch {
  topic: string;
  partition: number;
  messages: BusMessage[];
}

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /** where a group with no committed offset starts */
  fromBeginning?: boolean;
  /**
   * Called with each batch. Offsets are committed only after the returned promise resolves (effects durable), so a
   * crash replays the batch. Resolving with `false` means "processed, but do not commit yet": a later batch's commit
   * covers it (the correlator commits only at state checkpoints). Throwing retries the same batch after a backoff.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: an async handler that returns nothing resolves to void
  onBatch: (batch: BusBatch) => Promise<void | boolean>;
  /** partitions given to this member (after a rebalance), before any of their batches */
  onAssign?: (assigned: { topic: string; partition: number }[]) => Promise<void>;
  /**
   * Partitions taken away from this member. With Kafka, called after the member rejoins the group (kafkajs has no
   * pre-rebalance hook), possibly while the new owner already runs onAssign: keep handed-over state consistent with
   * committed offsets (checkpoint before the commit in onBatch); on close() it runs before the member leaves.
   */
  onRevoke?: (revoked: { topic: string; partition: number }[]) => Promise<void>;
}

export interface Subscription {
  /** stop consuming; in-flight batch finishes first */
  close(): Promise<void>;
  /** per-partition lag (latest offset minus committed offset), for metrics */
  lag(): Promise<{ topic: string; partition: number; lag: number }[]>;
  /**
   * commit `offset` (the next message to read) of a partition this member holds, outside a batch: for progress that
   * batches resolved with `false` left uncommitted. False when the partition is no longer held (nothing committed).
   */
  commit(topic: string, partition: number, offset: number): Promise<boolean>;
}

export interface Bus {
  readonly kind: 'memory' | 'kafka';
  /**
   * identifies the bus's logs where their offsets do not outlive the process: the embedded bus starts them afresh at
   * 0 with each process, so an offset kept from another epoch (a correlator checkpoint) says nothing about this one.
   * Absent for Kafka, whose offsets are durable
   */
  readonly logEpoch?: string;
  /**
   * Publish messages; resolves once they are durable (acknowledged by all in-sync replicas for Kafka).
   * Rejects with MeshwardError BUS_SATURATED when a bounded buffer is full, BUS_UNAVAILABLE when the bus is down.
   */
  publish(topic: string, messages: OutMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** true while the bus can accept publishes */
  healthy(): boolean;
  /** flush and disconnect; safe to call twice */
  close(): Promise<void>;
}
