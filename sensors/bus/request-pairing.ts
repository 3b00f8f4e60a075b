import { recordId } from '../common/record-id.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { parseTraceparent } from '../common/traceparent.js';
import type { TopicMapping } from './config.js';
import type { CompiledMapping } from './mapping.js';

/** A message read from a tapped topic, reduced to what the sensor uses (never the payload). */
export interface TappedMessage {
  topic: string;
  /** the Kafka message timestamp, epoch ms */
  timestamp: number;
  /** header values as text */
  headers: Record<string, string>;
  /** payload size in bytes */
  size: number;
}

interface Pending {
  mapping: TopicMapping;
  request: TappedMessage;
  operation: string;
  deadline: number;
}

export interface PairingStats {
  pending: number;
  /** replies waiting for a request read later */
  earlyReplies: number;
  replied: number;
  oneWay: number;
  timeouts: number;
  evicted: number;
  duplicates: number;
  unmatchedReplies: number;
  /** requests mapped for replies but carrying no correlation header (recorded as one-way) */
  uncorrelated: number;
}

/** what the pairing drops or downgrades without a record of its own, counted by the topic of the message */
export type PairingCount = 'duplicates' | 'unmatchedReplies' | 'uncorrelated';

export interface PairingOptions {
  sensorId: string;
  maxPending: number;
  /** called for each message counted in `PairingCount` (the sensor turns these into metrics) */
  onCount?: (what: PairingCount, topic: string) => void;
}

/**
 * removes and returns the oldest entry (by `timeOf`) of the per-mapping maps, each in insertion order so its first
 * entry is its oldest; undefined when all are empty
 */
function takeOldest<V>(maps: Map<TopicMapping, Map<string, V>>, timeOf: (v: V) => number): V | undefined {
  let oldest: { map: Map<string, V>; key: string; value: V } | undefined;
  for (const map of maps.values()) {
    const first = map.entries().next();
    if (first.done) continue;
    const [key, value] = first.value;
    if (!oldest || timeOf(value) < timeOf(oldest.value)) oldest = { map, key, value };
  }
  oldest?.map.delete(oldest.key);
  return oldest?.value;
}

const OPERATION_SAFE = /[^A-Za-z0-9._~:@!$&'()*+,;=-]/g;

/**
 * Pairs request messages with their replies by correlation id and turns each pair (or a request that timed out) into
 * an ApiCallRecord. Pending requests are held per mapping in insertion order (one timeout per mapping), so expiring
 * them is a scan from the oldest; the total is bounded by `maxPending` (the oldest is evicted and recorded).
 */
export class RequestPairing {
  private readonly pending = new Map<TopicMapping, Map<string, Pending>>();
  /**
   * replies read before their request: topics are consumed independently (other partitions, other lag), so a reply
   * may come first; it waits here (bounded, same timeout) for its request
   */
  private readonly early = new Map<TopicMapping, Map<string, { reply: TappedMessage; deadline: number }>>();
  private size = 0;
  private earlySize = 0;
  private readonly counts: Omit<PairingStats, 'pending' | 'earlyReplies'> = {
    replied: 0,
    oneWay: 0,
    timeouts: 0,
    evicted: 0,
    duplicates: 0,
    unmatchedReplies: 0,
    uncorrelated: 0,
  };

  constructor(
    private readonly mapping: CompiledMapping,
    private readonly opts: PairingOptions,
    private readonly emit: (record: ApiCallRecord) => void,
    private readonly now: () => number = Date.now,
  ) {
    for (const m of mapping.byRequestTopic.values()) {
      this.pending.set(m, new Map());
      this.early.set(m, new Map());
    }
  }

  onMessage(msg: TappedMessage): void {
    const req = this.mapping.byRequestTopic.get(msg.topic);
    if (req) {
      this.onRequest(req, msg);
      return;
    }
    const replyTo = this.mapping.byReplyTopic.get(msg.topic);
    if (replyTo) this.onReply(replyTo, msg);
  }

  /** record requests whose reply is overdue; call periodically */
  sweep(): void {
    const now = this.now();
    for (const [mapping, map] of this.pending) {
      for (const [key, p] of map) {
        if (p.deadline > now) break; // insertion order = deadline order within one mapping
        map.delete(key);
        this.size--;
        this.counts.timeouts++;
        this.emit(this.record(p.mapping, p.request, p.operation, 504, mapping.timeout_ms, 0, 'timeout'));
      }
    }
    for (const map of this.early.values()) {
      for (const [key, e] of map) {
        if (e.deadline > now) break;
        map.delete(key);
        this.earlySize--;
        this.count('unmatchedReplies', e.reply.topic);
      }
    }
  }

  /** drops what waits, unrecorded (the receiver shut down: its requests' replies will not be read) */
  clear(): void {
    for (const map of this.pending.values()) map.clear();
    for (const map of this.early.values()) map.clear();
    this.size = 0;
    this.earlySize = 0;
  }

  stats(): PairingStats {
    return { pending: this.size, earlyReplies: this.earlySize, ...this.counts };
  }

  private onRequest(m: TopicMapping, msg: TappedMessage): void {
    const operation = this.operationOf(m, msg);
    const corr = msg.headers[m.correlation_header];
    if (!m.reply_topic || !corr) {
      if (m.reply_topic) this.count('uncorrelated', msg.topic);
      this.counts.oneWay++;
      this.emit(this.record(m, msg, operation, 202, 0, 0, 'one_way'));
      return;
    }
    const early = this.early.get(m)!;
    const reply = early.get(corr);
    if (reply) {
      early.delete(corr);
      this.earlySize--;
      this.complete(m, { mapping: m, request: msg, operation, deadline: 0 }, reply.reply);
      return;
    }
    const map = this.pending.get(m)!;
    if (map.has(corr)) {
      this.count('duplicates', msg.topic); // a redelivered request: keep the first sighting
      return;
    }
    if (this.size >= this.opts.maxPending) this.evictOldest();
    map.set(corr, { mapping: m, request: msg, operation, deadline: this.now() + m.timeout_ms });
    this.size++;
  }

  private onReply(candidates: TopicMapping[], msg: TappedMessage): void {
    for (const m of candidates) {
      const corr = msg.headers[m.correlation_header];
      if (!corr) continue;
      const map = this.pending.get(m)!;
      const p = map.get(corr);
      if (!p) continue;
      map.delete(corr);
      this.size--;
      this.complete(m, p, msg);
      return;
    }
    const m = candidates.find((c) => msg.headers[c.correlation_header]);
    if (!m) {
      this.count('unmatchedReplies', msg.topic);
      return;
    }
    const early = this.early.get(m)!;
    const corr = msg.headers[m.correlation_header];
    if (early.has(corr)) {
      this.count('duplicates', msg.topic);
      return;
    }
    if (this.earlySize >= this.opts.maxPending) this.evictOldestEarly();
    early.set(corr, { reply: msg, deadline: this.now() + m.timeout_ms });
    this.earlySize++;
  }

  private complete(m: TopicMapping, p: Pending, reply: TappedMessage): void {
    this.counts.replied++;
    const statusText = m.status_header ? reply.headers[m.status_header] : undefined;
    const parsed = statusText !== undefined ? Number.parseInt(statusText, 10) : Number.NaN;
    const status = parsed >= 100 && parsed <= 999 ? parsed : 200;
    const duration = Math.max(0, reply.timestamp - p.request.timestamp);
    this.emit(this.record(m, p.request, p.operation, status, duration, reply.size, 'reply'));
  }

  private evictOldest(): void {
    const p = takeOldest(this.pending, (pending) => pending.request.timestamp);
    if (!p) return;
    this.size--;
    this.counts.evicted++;
    this.emit(
      this.record(p.mapping, p.request, p.operation, 0, Math.max(0, this.now() - p.request.timestamp), 0, 'evicted'),
    );
  }

  /**
   * the bound on early replies holds across mappings, as the bound on pending requests does: the oldest early reply of
   * any mapping is dropped and counted (the full mapping's own may be none: it is the others' replies that fill it)
   */
  private evictOldestEarly(): void {
    const dropped = takeOldest(this.early, (e) => e.reply.timestamp);
    if (!dropped) return;
    this.earlySize--;
    this.count('unmatchedReplies', dropped.reply.topic);
  }

  private count(what: PairingCount, topic: string): void {
    this.counts[what]++;
    this.opts.onCount?.(what, topic);
  }

  private operationOf(m: TopicMapping, msg: TappedMessage): string {
    const fromHeader = m.operation_header ? msg.headers[m.operation_header] : undefined;
    return (fromHeader || m.operation).slice(0, 128).replace(OPERATION_SAFE, '_');
  }

  private record(
    m: TopicMapping,
    req: TappedMessage,
    operation: string,
    status: number,
    durationMs: number,
    respBytes: number,
    outcome: string,
  ): ApiCallRecord {
    const path = `/topic/${m.topic}/${operation}`;
    const r: ApiCallRecord = {
      v: 1,
      id: recordId(),
      ts: req.timestamp,
      durationMs: Math.min(86_400_000, durationMs),
      sensor: { kind: 'bus', id: this.opts.sensorId },
      service: m.service,
      method: 'PUBLISH',
      host: m.topic,
      path,
      route: path,
      status,
      reqBytes: req.size,
      respBytes,
      source: {},
      tags: { bus_outcome: outcome, bus_operation: operation },
    };
    const caller = m.caller_header ? req.headers[m.caller_header]?.slice(0, 256) : undefined;
    if (caller) {
      if (m.caller_kind === 'user') r.user = { sub: caller, authOutcome: 'none' };
      else r.source.service = caller;
    }
    const trace = parseTraceparent(req.headers.traceparent);
    if (trace) r.trace = trace;
    if (m.reply_topic) r.tags!.bus_reply_topic = m.reply_topic;
    return r;
  }
}
