import type { Logger } from '../core/logger.js';
import { counter, gauge } from '../core/metrics.js';
import type { Store } from '../store/store.js';
import {
  forgetSensorsQuietSince,
  type SensorActivityWrite,
  writeSensorActivity,
  writeTokensSeen,
} from './sensor-activity-store.js';

/** the distinct sensors (kind + id) one collector process gives series of its own; past it, `_other` */
export const MAX_TRACKED_SENSORS = 1_000;
/** the label values of every sensor past the bound: kind and id are both what a client sent */
export const OTHER_SENSOR = '_other';
/** how often a collector writes what it saw to the store */
export const SENSOR_FLUSH_INTERVAL_MS = 10_000;
/** a sensor that sent nothing for this long is forgotten from the store (and from GET /v1/admin/sensors) */
export const FORGET_SENSOR_AFTER_MS = 30 * 24 * 3600_000;
/** how often a collector's flush also forgets such sensors (the first flush does) */
const FORGET_INTERVAL_MS = 3600_000;

const records = counter('meshward_sensor_records_total', 'records accepted, per sensor', ['kind', 'sensor']);
const lastRecord = gauge(
  'meshward_sensor_last_record_timestamp_seconds',
  'when this collector last accepted a record of the sensor (unix seconds): time() - it is how long the sensor has been quiet',
  ['kind', 'sensor'],
);
const overflow = counter(
  'meshward_sensor_overflow_records_total',
  `records of sensors past the ${MAX_TRACKED_SENSORS} a collector tracks, counted under sensor="${OTHER_SENSOR}"`,
);
const flushFailures = counter(
  'meshward_sensor_activity_flush_failures_total',
  'flushes of sensor activity the store refused (tried again at the next flush)',
);

/** one key per sensor (kind + id): the kind's length keeps `ab`+`c` and `a`+`bc` apart */
export const sensorKey = (kind: string, id: string): string => `${kind.length}:${kind}${id}`;

interface Tracked {
  readonly kind: string;
  readonly id: string;
  readonly labels: { kind: string; sensor: string };
  /** accepted since the last flush */
  pending: number;
  /** the latest receipt (epoch ms) */
  lastAt: number;
  /** the store does not have lastAt yet (a failed write, with no record since) */
  lastUnwritten: boolean;
}

export interface SensorActivityOptions {
  /** the shared store the activity is flushed to; absent: metrics only */
  store?: Store;
  logger: Logger;
  maxSensors?: number;
  flushIntervalMs?: number;
  /** now (epoch ms), for forgetting long-quiet sensors */
  clock?: () => number;
}

/**
 * What every sensor sent to this collector: a count and the last receipt time per sensor (kind + id), as Prometheus
 * series and, every flush interval, in the store (one hincr and one hsetMax per sensor seen since the last flush, off the
 * ingest path). A store that fails is logged once per run of failures, counted, and the counts are kept for the next
 * flush; ingest never waits for it.
 */
export class SensorActivity {
  private readonly tracked = new Map<string, Tracked>();
  private readonly max: number;
  private readonly timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private failing = false;
  private closed?: Promise<void>;
  private forgottenAt = Number.NEGATIVE_INFINITY;
  /**
   * sensor token id → the latest time a batch posted with it had a record accepted, not yet written. Token ids are
   * the collector's configured ones (authenticated), so this stays as small as the tokens file
   */
  private readonly tokens = new Map<string, number>();

  constructor(private readonly opts: SensorActivityOptions) {
    this.max = opts.maxSensors ?? MAX_TRACKED_SENSORS;
    if (opts.store) {
      this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? SENSOR_FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** `n` records of the sensor accepted at `at` (epoch ms) */
  accepted(kind: string, id: string, n: number, at: number): void {
    const key = sensorKey(kind, id);
    let t = this.tracked.get(key);
    if (!t) {
      if (this.tracked.size >= this.max) {
        overflow.inc(n);
        t = this.track(`${OTHER_SENSOR}\n`, OTHER_SENSOR, OTHER_SENSOR);
      } else t = this.track(key, kind, id);
    }
    t.pending += n;
    if (at > t.lastAt) t.lastAt = at;
    records.inc(t.labels, n);
    lastRecord.set(t.labels, t.lastAt / 1000);
  }

  /**
   * a batch posted with the sensor token `tokenId` had records accepted at `at`: the token is in use, whatever sensor
   * ids its records carry (an Envoy fleet shares one token, each sidecar its own id)
   */
  tokenUsed(tokenId: string, at: number): void {
    if (at > (this.tokens.get(tokenId) ?? Number.NEGATIVE_INFINITY)) this.tokens.set(tokenId, at);
  }

  private track(key: string, kind: string, id: string): Tracked {
    let t = this.tracked.get(key);
    if (!t) {
      t = { kind, id, labels: { kind, sensor: id }, pending: 0, lastAt: 0, lastUnwritten: false };
      this.tracked.set(key, t);
    }
    return t;
  }

  /** write the sensors seen since the last flush to the store; one flush at a time */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const store = this.opts.store;
    if (!store) return;
    await this.forgetQuiet(store);
    const batch: (SensorActivityWrite & { t: Tracked })[] = [];
    for (const t of this.tracked.values()) {
      if (t.pending === 0 && !t.lastUnwritten) continue;
      batch.push({ t, kind: t.kind, id: t.id, records: t.pending, lastAt: t.lastAt });
      t.pending = 0;
      t.lastUnwritten = false;
    }
    const tokens = new Map(this.tokens);
    this.tokens.clear();
    if (batch.length === 0 && tokens.size === 0) return;
    const [results, tokenResults] = await Promise.all([
      writeSensorActivity(store, batch),
      writeTokensSeen(store, tokens),
    ]);
    let failed = 0;
    let firstError: unknown;
    [...tokens].forEach(([id, at], i) => {
      if (tokenResults[i] === true) return;
      this.tokenUsed(id, at);
      failed++;
      firstError ??= tokenResults[i];
    });
    results.forEach((r, i) => {
      const { t, records } = batch[i];
      if (r.records !== true) t.pending += records;
      if (r.lastSeen !== true) t.lastUnwritten = true;
      if (r.records !== true || r.lastSeen !== true) {
        failed++;
        firstError ??= r.records !== true ? r.records : r.lastSeen;
      }
    });
    if (failed > 0) {
      flushFailures.inc();
      if (!this.failing) {
        this.opts.logger.warn(
          { sensors: failed, err: (firstError as Error)?.message },
          'sensor activity not written to the store; the next flush tries again',
        );
      }
      this.failing = true;
    } else this.failing = false;
  }

  /** at most once per FORGET_INTERVAL_MS: forget the sensors quiet for FORGET_SENSOR_AFTER_MS (a failure waits an interval) */
  private async forgetQuiet(store: Store): Promise<void> {
    const now = (this.opts.clock ?? Date.now)();
    if (now - this.forgottenAt < FORGET_INTERVAL_MS) return;
    this.forgottenAt = now;
    try {
      await forgetSensorsQuietSince(store, now - FORGET_SENSOR_AFTER_MS);
    } catch (err) {
      this.opts.logger.warn(
        { err: (err as Error).message },
        'long-quiet sensors not forgotten; tried again in an hour',
      );
    }
  }

  /** stop the timer and flush what is left; safe twice */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      await this.flush();
      await this.flush();
    })();
    return this.closed;
  }
}
