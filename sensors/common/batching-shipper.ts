import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { type Logger, silentLogger } from '../../pipeline/core/logger.js';
import { counter } from '../../pipeline/core/metrics.js';
import { encodeBatch } from './encode-batch.js';
import type { ShipperConfig } from './shipper-config.js';

/** Where sensors put records: non-blocking, never throws; false when the record was dropped (and counted). */
export interface RecordSink {
  push(record: ApiCallRecord): boolean;
}

/** What one attempt to deliver a batch came to. */
export type SendOutcome =
  | { kind: 'ok'; accepted: number; rejected: number }
  /** the receiver is saturated (429) or its bus is down (503): send the same batch again later, within the bound */
  | { kind: 'retry'; reason: string }
  /** the batch is too large (413): split it and send the halves */
  | { kind: 'split' }
  /** give the batch up; `down` when the receiver could not be reached at all */
  | { kind: 'drop'; reason: string; down?: boolean };

export type Transport<T = ApiCallRecord> = ((batch: T[], signal: AbortSignal) => Promise<SendOutcome>) & {
  /** release connections once the shipper is shut down */
  close?(): void;
};

export interface ShipperStats {
  buffered: number;
  inFlight: number;
  /** records the receiver accepted */
  accepted: number;
  /** records the receiver answered with a per-item rejection */
  rejected: number;
  dropped: number;
  droppedByReason: Record<string, number>;
  batchesOk: number;
  batchesFailed: number;
  /** false after a failed delivery until the next successful one */
  receiverUp: boolean;
}

export interface ShipperDeps {
  logger?: Logger;
  /** label of the metrics series (sensor id) */
  sensorId?: string;
  /** for tests: a random source for jitter */
  random?: () => number;
}

export type BatchingOptions = Pick<
  ShipperConfig,
  'max_buffer' | 'batch_size' | 'flush_interval_ms' | 'max_in_flight' | 'timeout_ms' | 'backoff_ms' | 'max_backoff_ms'
>;

const droppedTotal = () =>
  counter('meshward_sensor_dropped_total', 'records a sensor dropped before delivery', ['sensor', 'reason']);
const acceptedTotal = () => counter('meshward_sensor_accepted_total', 'records the collector accepted', ['sensor']);
const rejectedTotal = () =>
  counter('meshward_sensor_rejected_total', 'records the collector rejected as invalid', ['sensor']);

/**
 * A bounded, batching, non-blocking record shipper. `push` only appends to an in-memory buffer (or drops and counts
 * when it is full); batches leave on a timer or when a batch is full, at most `max_in_flight` at a time. Failures
 * never reach the caller: retryable answers (429, 503) requeue the batch within the bound with jittered backoff,
 * anything else drops it and counts why. When deliveries succeed again after drops, one log line says how many.
 */
export class BatchingShipper<T = ApiCallRecord> {
  private buffer: T[] = [];
  private inFlight = 0;
  private readonly inFlightDone = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private nextAttemptAt = 0;
  private failures = 0;
  private batchSize: number;
  private closed = false;
  private closing: Promise<void> | undefined;
  private droppedSinceOk = 0;
  private readonly counts = { accepted: 0, rejected: 0, dropped: 0, batchesOk: 0, batchesFailed: 0 };
  private readonly byReason: Record<string, number> = {};
  private receiverUp = true;
  private readonly log: Logger;
  private readonly sensor: string;
  private readonly random: () => number;
  private readonly metrics = { dropped: droppedTotal(), accepted: acceptedTotal(), rejected: rejectedTotal() };

  constructor(
    private readonly opts: BatchingOptions,
    private readonly transport: Transport<T>,
    deps: ShipperDeps = {},
  ) {
    this.log = deps.logger ?? silentLogger;
    this.sensor = deps.sensorId ?? 'sensor';
    this.random = deps.random ?? Math.random;
    this.batchSize = opts.batch_size;
    this.timer = setInterval(() => this.flush(), opts.flush_interval_ms);
    this.timer.unref();
  }

  push(record: T): boolean {
    if (this.closed || this.buffer.length >= this.opts.max_buffer) {
      this.drop(this.closed ? 'closed' : 'buffer_full', 1);
      return false;
    }
    this.buffer.push(record);
    if (this.buffer.length >= this.batchSize && !this.flushScheduled) {
      // serialising and sending happen on a later tick, never in the caller's stack
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return true;
  }

  /** start sending what is buffered, as far as in-flight and backoff allow; never waits */
  flush(force = false): void {
    if (!force && Date.now() < this.nextAttemptAt) return;
    while (this.buffer.length > 0 && this.inFlight < this.opts.max_in_flight) {
      const batch = this.buffer.splice(0, this.batchSize);
      this.send(batch);
      // after a failure, probe with one batch before opening up again
      if (this.failures > 0 && !force) break;
    }
  }

  stats(): ShipperStats {
    return {
      buffered: this.buffer.length,
      inFlight: this.inFlight,
      ...this.counts,
      droppedByReason: { ...this.byReason },
      receiverUp: this.receiverUp,
    };
  }

  /** stop accepting, send what is buffered (one attempt each, bounded by `timeoutMs`), drop and count the rest */
  shutdown(timeoutMs = this.opts.timeout_ms): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      clearInterval(this.timer);
      clearTimeout(this.backoffTimer);
      const deadline = Date.now() + timeoutMs;
      while ((this.buffer.length > 0 || this.inFlight > 0) && Date.now() < deadline) {
        if (!this.receiverUp && this.inFlight === 0) break; // the receiver is down: do not wait for it
        const wait = Math.min(this.nextAttemptAt, deadline) - Date.now();
        if (wait > 0 && this.inFlight === 0) {
          await sleep(wait);
          continue;
        }
        this.flush(true);
        if (this.inFlightDone.size === 0) break;
        await Promise.race([Promise.race(this.inFlightDone), sleep(Math.max(1, deadline - Date.now()))]);
      }
      if (this.buffer.length > 0) {
        this.drop('shutdown', this.buffer.length);
        this.buffer = [];
      }
      if (this.droppedSinceOk > 0) this.reportDrops('at shutdown');
      this.transport.close?.();
    })();
    return this.closing;
  }

  private send(batch: T[]): void {
    this.inFlight++;
    const done = (async () => {
      let outcome: SendOutcome;
      try {
        outcome = await this.transport(batch, AbortSignal.timeout(this.opts.timeout_ms));
      } catch (err) {
        const e = err as Error;
        outcome = { kind: 'drop', reason: e.name === 'TimeoutError' ? 'timeout' : 'unreachable', down: true };
      }
      this.inFlight--;
      this.settle(batch, outcome);
    })();
    this.inFlightDone.add(done);
    done.finally(() => this.inFlightDone.delete(done));
  }

  private settle(batch: T[], outcome: SendOutcome): void {
    switch (outcome.kind) {
      case 'ok': {
        this.counts.batchesOk++;
        this.counts.accepted += outcome.accepted;
        this.counts.rejected += outcome.rejected;
        this.metrics.accepted.inc({ sensor: this.sensor }, outcome.accepted);
        if (outcome.rejected > 0) this.metrics.rejected.inc({ sensor: this.sensor }, outcome.rejected);
        this.failures = 0;
        this.nextAttemptAt = 0;
        if (!this.receiverUp || this.droppedSinceOk > 0) this.reportDrops('collector reachable again');
        this.receiverUp = true;
        this.batchSize = Math.min(this.opts.batch_size, this.batchSize * 2);
        if (this.buffer.length >= this.batchSize && !this.closed) setImmediate(() => this.flush());
        return;
      }
      case 'retry':
        this.counts.batchesFailed++;
        this.requeue(batch);
        this.backOff(outcome.reason);
        return;
      case 'split':
        if (batch.length <= 1) {
          this.counts.batchesFailed++;
          this.drop('too_large', batch.length);
          return;
        }
        this.batchSize = Math.max(1, Math.floor(batch.length / 2));
        this.requeue(batch);
        if (!this.closed) setImmediate(() => this.flush());
        return;
      case 'drop':
        this.counts.batchesFailed++;
        this.drop(outcome.reason, batch.length);
        if (outcome.down) this.receiverUp = false;
        this.backOff(outcome.reason);
    }
  }

  private requeue(batch: T[]): void {
    const room = this.opts.max_buffer - this.buffer.length;
    if (room <= 0) {
      this.drop('buffer_full', batch.length);
      return;
    }
    // keep the newest records of the batch when only part of it fits
    const kept = batch.length > room ? batch.slice(batch.length - room) : batch;
    if (kept.length < batch.length) this.drop('buffer_full', batch.length - kept.length);
    this.buffer = kept.concat(this.buffer);
  }

  private backOff(reason: string): void {
    this.failures++;
    const base = Math.min(this.opts.max_backoff_ms, this.opts.backoff_ms * 2 ** Math.min(20, this.failures - 1));
    const wait = Math.round(base / 2 + (this.random() * base) / 2);
    this.nextAttemptAt = Date.now() + wait;
    if (this.failures === 1) this.log.warn({ reason, backoffMs: wait }, 'record delivery failing, backing off');
    if (this.closed) return;
    clearTimeout(this.backoffTimer);
    this.backoffTimer = setTimeout(() => this.flush(), wait);
    this.backoffTimer.unref();
  }

  private drop(reason: string, n: number): void {
    if (n <= 0) return;
    this.counts.dropped += n;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + n;
    this.droppedSinceOk += n;
    this.metrics.dropped.inc({ sensor: this.sensor, reason }, n);
  }

  private reportDrops(when: string): void {
    if (this.droppedSinceOk === 0) return;
    this.log.warn({ dropped: this.droppedSinceOk, byReason: { ...this.byReason } }, `records dropped; ${when}`);
    this.droppedSinceOk = 0;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

interface CollectorAnswer {
  accepted?: number;
  rejected?: unknown[];
}

/**
 * POST a body and read the whole answer, over a keep-alive agent (lighter per batch than fetch). The body goes out as
 * one Buffer: encoded once, its length known, instead of a string measured and then encoded by the socket.
 */
function post(
  url: URL,
  agent: HttpAgent,
  headers: Record<string, string>,
  body: Buffer,
  signal: AbortSignal,
): Promise<{ status: number; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) }, signal },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 1_048_576) text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', (err) =>
      reject(signal.aborted ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : err),
    );
    req.end(body);
  });
}

/** how a batch goes on the wire: its content type and bytes */
export interface BatchEncoding<T> {
  contentType: string;
  encode(batch: T[]): Buffer;
}

/** records as one JSON array */
export const jsonArrayEncoding: BatchEncoding<ApiCallRecord> = { contentType: 'application/json', encode: encodeBatch };

/**
 * POST batches (a JSON array of records, or another encoding) to `<base>/v1/records` with the sensor token, mapping
 * the collector's answers
 */
export function httpTransport<T = ApiCallRecord>(
  collectorUrl: string,
  token: string,
  maxSockets = 4,
  encoding: BatchEncoding<T> = jsonArrayEncoding as unknown as BatchEncoding<T>,
): Transport<T> {
  const url = new URL('/v1/records', collectorUrl);
  const agent =
    url.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, maxSockets })
      : new HttpAgent({ keepAlive: true, maxSockets });
  const headers: Record<string, string> = { 'content-type': encoding.contentType };
  if (token) headers.authorization = `Bearer ${token}`;
  const transport: Transport<T> = async (batch, signal) => {
    const res = await post(url, agent, headers, encoding.encode(batch), signal);
    const text = res.text;
    if (res.status === 200) {
      let body: CollectorAnswer = {};
      try {
        body = JSON.parse(text) as CollectorAnswer;
      } catch {
        // an unparseable 200 still means the batch arrived
      }
      const rejected = Array.isArray(body.rejected) ? body.rejected.length : 0;
      const accepted = typeof body.accepted === 'number' ? body.accepted : batch.length - rejected;
      return { kind: 'ok', accepted, rejected };
    }
    if (res.status === 429) return { kind: 'retry', reason: 'saturated' };
    if (res.status === 503) return { kind: 'retry', reason: 'bus_unavailable' };
    if (res.status === 413) return { kind: 'split' };
    if (res.status === 401 || res.status === 403) return { kind: 'drop', reason: 'unauthorized' };
    return { kind: 'drop', reason: `http_${res.status}` };
  };
  transport.close = () => agent.destroy();
  return transport;
}

/** a shipper to the collector over HTTP (records as a JSON array unless another encoding is given) */
export function createHttpShipper<T = ApiCallRecord>(
  config: ShipperConfig,
  deps: ShipperDeps = {},
  encoding?: BatchEncoding<T>,
): BatchingShipper<T> {
  return new BatchingShipper<T>(
    config,
    httpTransport<T>(config.collector_url, config.token, config.max_in_flight, encoding),
    deps,
  );
}
