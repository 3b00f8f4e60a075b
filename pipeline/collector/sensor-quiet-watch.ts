import { startPeriodic } from '../core/periodic.js';
import type { Alert, Severity } from '../core/alert.js';
import { type AlertKind, MESHWARD_SERVICE } from '../core/alert-kinds.js';
import { durationText } from '../core/duration-text.js';
import { stableId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import type { Store } from '../store/store.js';
import { FORGET_SENSOR_AFTER_MS, sensorKey } from './sensor-activity.js';
import { readSensorActivity, type SensorSeen } from './sensor-activity-store.js';
import { type QuietThresholdOf, quietThresholdOf } from './sensor-quiet-threshold.js';

/** how often the API looks for quiet sensors */
export const SENSOR_WATCH_INTERVAL_MS = 60_000;

/**
 * the quiet episodes raised and not yet resolved: field `[kind, id, since]` (since: the sensor's last record when it
 * went quiet), value the alert as raised. One field per episode, so resolving one never clobbers the next
 */
const EPISODES_KEY = 'sensors:quiet_episodes';
/**
 * per episode (alert id), `open` once a watcher raised it, `resolved` once one resolved it: the claim that makes API
 * replicas and restarts raise and resolve each episode once. Kept past the 30 days after which a sensor is forgotten
 */
const claimKey = (alertId: string) => `sensor-quiet:${alertId}`;
const CLAIM_TTL_MS = FORGET_SENSOR_AFTER_MS + 86_400_000;

const changes = counter(
  'meshward_sensor_quiet_alerts_total',
  'sensor_quiet alert changes published by this API replica (change: raised, resolved); one of each per quiet episode across replicas',
  ['change'],
);
const failures = counter(
  'meshward_sensor_quiet_watch_failures_total',
  'looks for quiet sensors that failed (store or bus away); the next look tries again',
);

export interface SensorQuietWatchOptions {
  /** the store the collectors flush sensor activity to */
  store: Store;
  /** publishes an alert change to the alerts topic */
  publish: (alert: Alert) => Promise<void>;
  logger: Logger;
  /** a sensor with no record for longer than this is quiet (0: no alert), unless its kind has its own threshold */
  quietAfterMs: number;
  /** the threshold of the sensors of a kind, overriding `quietAfterMs` (api.sensor_quiet_by_kind); 0: no alert */
  quietAfterMsByKind?: Readonly<Record<string, number>>;
  severity: Severity;
  /**
   * when the collectors of this process started (`meshward start`: collector and API in one process): a sensor's
   * silence counts from then at the earliest, since no sensor could be heard while they were down. A restart after
   * meshward's own downtime then gives the sensors a threshold to be heard again before their silence is called
   * theirs. Absent (the API role alone: the collectors run elsewhere and kept listening): from the last record
   */
  watchedSince?: number;
  clock?: () => number;
}

interface Episode {
  field: string;
  kind: string;
  id: string;
  since: number;
  alert: Alert;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Raises a `sensor_quiet` alert for each sensor whose last record (as the collectors flushed it) is older than its
 * threshold (its kind's in `quietAfterMsByKind`, else `quietAfterMs`; 0: never), one per quiet episode: its id comes
 * from the sensor and the last record that began the quiet, and a claim in the store lets one watcher only (of
 * several API replicas, or across restarts) publish it. Once the sensor
 * sends again, the alert is resolved (same id, state resolved), once. A sensor quiet for the 30 days after which the
 * collectors forget it is not alerted on, and its open episode is dropped (its alert stays as the analysts left it).
 * A look that fails (the store or the bus away) is logged once per run of failures and counted; the next tries again.
 */
export class SensorQuietWatch {
  private failing = false;
  private readonly quietAfterOf: QuietThresholdOf;
  constructor(private readonly opts: SensorQuietWatchOptions) {
    this.quietAfterOf = quietThresholdOf(opts.quietAfterMs, opts.quietAfterMsByKind);
  }

  /** one look: raise the new episodes, resolve the ended ones; never rejects */
  async check(): Promise<void> {
    try {
      await this.look((this.opts.clock ?? Date.now)());
      this.failing = false;
    } catch (err) {
      failures.inc();
      if (!this.failing)
        this.opts.logger.warn(
          { err: (err as Error).message },
          'quiet sensors not checked (store or bus away); the next look tries again',
        );
      this.failing = true;
    }
  }

  private async look(now: number): Promise<void> {
    const [sensors, episodes] = await Promise.all([readSensorActivity(this.opts.store), this.episodes()]);
    const bySensor = new Map(sensors.map((s) => [sensorKey(s.kind, s.id), s]));
    const raised = new Set<string>();
    for (const ep of episodes) {
      const s = bySensor.get(sensorKey(ep.kind, ep.id));
      if (!s || now - ep.since > FORGET_SENSOR_AFTER_MS) await this.opts.store.hdel(EPISODES_KEY, ep.field);
      else if (s.lastSeen > ep.since) await this.resolve(ep, s.lastSeen, now);
      else raised.add(ep.alert.id);
    }
    for (const s of sensors) {
      const quietAfterMs = this.quietAfterOf(s.kind);
      const quietFor = now - s.lastSeen;
      const watchedQuietFor = now - Math.max(s.lastSeen, this.opts.watchedSince ?? Number.NEGATIVE_INFINITY);
      if (quietAfterMs <= 0 || watchedQuietFor <= quietAfterMs || quietFor > FORGET_SENSOR_AFTER_MS) continue;
      const alert = this.alertOf(s, quietAfterMs, now);
      if (!raised.has(alert.id)) await this.raise(s, alert);
    }
  }

  private async episodes(): Promise<Episode[]> {
    const out: Episode[] = [];
    for (const [field, value] of Object.entries(await this.opts.store.hgetall(EPISODES_KEY))) {
      try {
        const [kind, id, since] = JSON.parse(field) as [string, string, number];
        out.push({ field, kind, id, since, alert: JSON.parse(value) as Alert });
      } catch {
        await this.opts.store.hdel(EPISODES_KEY, field); // no watcher wrote it
      }
    }
    return out;
  }

  private alertOf(s: SensorSeen, quietAfterMs: number, now: number): Alert {
    const kind = 'sensor_quiet' satisfies AlertKind;
    return {
      v: 1,
      id: stableId('alert', kind, s.kind, s.id, s.lastSeen),
      kind,
      severity: this.opts.severity,
      state: 'open',
      service: MESHWARD_SERVICE,
      subject: { type: 'sensor', value: `${s.kind}/${s.id}` },
      firstSeen: s.lastSeen,
      lastSeen: now,
      count: 1,
      summary: `${s.kind} sensor ${s.id} sent no record for ${durationText(now - s.lastSeen)}: its traffic is not watched`,
      expected: `a record at least every ${durationText(quietAfterMs)}`,
      observed: `none since ${iso(s.lastSeen)}`,
      evidence: { recordIds: [], metrics: { quiet_s: Math.floor((now - s.lastSeen) / 1000), records: s.records } },
      updatedAt: now,
    };
  }

  /** the claim first: of the watchers that find the episode, one publishes it; the episode is noted once published */
  private async raise(s: SensorSeen, alert: Alert): Promise<void> {
    const { store } = this.opts;
    const claim = claimKey(alert.id);
    if (!(await store.setIfAbsent(claim, 'open', CLAIM_TTL_MS))) return;
    try {
      await this.opts.publish(alert);
    } catch (err) {
      // not raised: the next look tries again
      await store.del(claim);
      throw err;
    }
    await store.hset(EPISODES_KEY, JSON.stringify([s.kind, s.id, s.lastSeen]), JSON.stringify(alert));
    changes.inc({ change: 'raised' });
  }

  private async resolve(ep: Episode, sentAt: number, now: number): Promise<void> {
    const { store } = this.opts;
    const claim = claimKey(ep.alert.id);
    if (await store.compareAndSet(claim, 'open', 'resolved')) {
      try {
        await this.opts.publish({
          ...ep.alert,
          state: 'resolved',
          lastSeen: sentAt,
          summary: `${ep.kind} sensor ${ep.id} sends again after ${durationText(sentAt - ep.since)} without a record`,
          observed: `none from ${iso(ep.since)} to ${iso(sentAt)}`,
          updatedAt: now,
        });
      } catch (err) {
        await store.compareAndSet(claim, 'resolved', 'open');
        throw err;
      }
      await store.set(claim, 'resolved', CLAIM_TTL_MS);
      changes.inc({ change: 'resolved' });
    }
    // resolved here or by another watcher
    await store.hdel(EPISODES_KEY, ep.field);
  }
}

/**
 * Looks for quiet sensors at once and then every `intervalMs`, one look at a time (a no-op when every threshold is 0:
 * the alert is off). Returns the function that stops it (and waits for a look under way).
 */
export function startSensorQuietWatch(
  opts: SensorQuietWatchOptions,
  intervalMs = SENSOR_WATCH_INTERVAL_MS,
): () => Promise<void> {
  const thresholds = [opts.quietAfterMs, ...Object.values(opts.quietAfterMsByKind ?? {})];
  if (thresholds.every((ms) => ms <= 0)) return async () => {};
  const watch = new SensorQuietWatch(opts);
  return startPeriodic(() => watch.check(), intervalMs);
}
