import { startPeriodic } from '../core/periodic.js';
import type { Alert, Severity } from '../core/alert.js';
import { type AlertKind, MESHWARD_SERVICE } from '../core/alert-kinds.js';
import { durationText } from '../core/duration-text.js';
import { stableId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import type { Store } from '../store/store.js';
import { FORGET_SENSOR_AFTER_MS, sensorKey } from './sensor-activity.js';
import { readSensorActivity, readSensorLastSeen, type SensorSeen } from './sensor-activity-store.js';
import {
  claimOf,
  dropEpisode,
  type Episode,
  episodeField,
  isRecorded,
  isStep,
  readClaim,
  readEpisodes,
  recordEpisode,
  releaseStep,
  type Step,
  stale,
  stepDone,
  takeStep,
} from './sensor-quiet-episodes.js';
import { type QuietThresholdOf, quietThresholdOf } from './sensor-quiet-threshold.js';

/** how often the API looks for quiet sensors */
export const SENSOR_WATCH_INTERVAL_MS = 60_000;

const changes = counter(
  'meshward_sensor_quiet_alerts_total',
  'sensor_quiet alert changes published by this API replica (change: raised, resolved); one of each per quiet episode across replicas, but for a step taken over (meshward_sensor_quiet_steps_taken_over_total), which may publish it again',
  ['change'],
);
const completed = counter(
  'meshward_sensor_quiet_steps_taken_over_total',
  'sensor_quiet raises and resolves this API replica finished for a watcher that stopped (between its claim and marking it published) or whose publish failed (step: raising, resolving); the alert change may then be published twice, which consumers take as one (same id)',
  ['step'],
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
  /**
   * a sensor with no record for longer than this is quiet (0: no alert, and those open are resolved; raised above the
   * silence of an alert open: that alert is resolved), unless its kind has its own threshold
   */
  quietAfterMs: number;
  /** the threshold of the sensors of a kind, overriding `quietAfterMs` (api.sensor_quiet_by_kind); 0: as above */
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

const iso = (ms: number) => new Date(ms).toISOString();
/** an alert's `expected`: the threshold it was raised (or resolved) under */
const expectedOf = (quietAfterMs: number) => `a record at least every ${durationText(quietAfterMs)}`;
const alreadyRecorded = async () => {};

/** why an episode's alert was resolved: its label `resolved_because` */
export type QuietEnd = 'sends_again' | 'watch_off' | 'threshold_raised' | 'forgotten';

/**
 * Raises a `sensor_quiet` alert for each sensor whose last record (as the collectors flushed it) is older than its
 * threshold (its kind's in `quietAfterMsByKind`, else `quietAfterMs`; 0: never), one per quiet episode: its id comes
 * from the sensor and the last record that began the quiet. The alert is resolved (same id, state resolved, label
 * `resolved_because`) once the sensor sends again, once its threshold is set to 0 (the watch turned off) or raised above
 * its silence, or once the collectors forget it after 30 days without a record (none is raised for a sensor quiet that
 * long). A silence that outlives its episode's alert (the watch turned off then on again, its threshold raised) is a
 * new episode once past its threshold: the next generation of that silence, whose id adds the generation.
 *
 * Each raise and resolve is a step claimed in the store (one watcher of several API replicas, or across restarts,
 * publishes it), recorded before its publish and marked done after, so a watcher that stops between two of those
 * leaves a step the next look, of any watcher, finishes once its lease is over: it publishes the recorded alert change
 * again (same id: consumers take it as one).
 * A look that fails (the store or the bus away) is logged once per run of failures and counted; the next tries again.
 */
export class SensorQuietWatch {
  private failing = false;
  private readonly quietAfterOf: QuietThresholdOf;
  constructor(private readonly opts: SensorQuietWatchOptions) {
    this.quietAfterOf = quietThresholdOf(opts.quietAfterMs, opts.quietAfterMsByKind);
  }

  /**
   * one look: raise the new episodes, resolve the ended ones, finish those half done; never rejects. Resolves to the
   * episodes left open (undefined: the look failed)
   */
  async check(): Promise<number | undefined> {
    try {
      const left = await this.look((this.opts.clock ?? Date.now)());
      this.failing = false;
      return left;
    } catch (err) {
      failures.inc();
      if (!this.failing)
        this.opts.logger.warn(
          { err: (err as Error).message },
          'quiet sensors not checked (store or bus away); the next look tries again',
        );
      this.failing = true;
      return undefined;
    }
  }

  private async look(now: number): Promise<number> {
    const { store } = this.opts;
    const [sensors, episodes] = await Promise.all([readSensorActivity(store), readEpisodes(store)]);
    const bySensor = new Map(sensors.map((s) => [sensorKey(s.kind, s.id), s]));
    // the silences with an episode recorded (of any generation): none other is raised until it is dropped
    const recorded = new Set<string>();
    let left = 0;
    for (const ep of episodes) {
      recorded.add(episodeField(ep.kind, ep.id, ep.since));
      if (!(await this.follow(ep, bySensor.get(sensorKey(ep.kind, ep.id)), now))) left++;
    }
    for (const s of sensors) {
      const quietAfterMs = this.quietAfterOf(s.kind);
      const quietFor = now - s.lastSeen;
      const watchedQuietFor = now - Math.max(s.lastSeen, this.opts.watchedSince ?? Number.NEGATIVE_INFINITY);
      if (quietAfterMs <= 0 || watchedQuietFor <= quietAfterMs || quietFor > FORGET_SENSOR_AFTER_MS) continue;
      if (!recorded.has(episodeField(s.kind, s.id, s.lastSeen))) await this.raise(s, quietAfterMs, now);
    }
    return left;
  }

  /** a recorded episode: resolved once it ended, its raise finished if left half done; true once it is gone */
  private async follow(ep: Episode, s: SensorSeen | undefined, now: number): Promise<boolean> {
    const { store } = this.opts;
    if (ep.claim === 'resolved') {
      // resolved: its watcher stopped before dropping it
      await dropEpisode(store, ep.field);
      return true;
    }
    const resolved = ep.alert.state === 'resolved' ? ep.alert : this.resolvedOf(ep, s, now);
    if (resolved) return this.resolve(ep, resolved, now);
    if (ep.claim === null || stale(ep.claim, now))
      await this.publishStep(ep.alert, ep.claimValue, 'raising', now, alreadyRecorded);
    return false;
  }

  /**
   * the claim first: of the watchers that find the episode, one records and publishes it. The silence's first episode,
   * or the generation after those resolved while it lasted (its watch turned off, its threshold raised): each its own
   * alert id and claim, so the watchers that find one race for it as for the first
   */
  private async raise(s: SensorSeen, quietAfterMs: number, now: number): Promise<void> {
    const { store } = this.opts;
    for (let generation = 0; ; generation++) {
      const alert = this.alertOf(s, quietAfterMs, now, generation);
      const field = episodeField(s.kind, s.id, s.lastSeen, generation);
      const record = () => recordEpisode(store, field, alert);
      if (await this.publishStep(alert, null, 'raising', now, record)) return;
      // claimed: by a watcher raising it now, or one that stopped before recording it (an earlier version's claim of
      // an episode it then neither published nor recorded says open), or resolved (dropped: the silence outlived it)
      const seen = await readClaim(store, alert.id);
      const claim = claimOf(seen);
      if (claim === 'resolved') {
        // the next generation only while the silence goes on: not when another watcher resolved this one because the
        // sensor sent again (or was forgotten) since this look read it
        if ((await readSensorLastSeen(store, s.kind, s.id)) !== s.lastSeen) return;
        continue;
      }
      if (stale(claim, now) || (claim === 'open' && !(await isRecorded(store, field))))
        await this.publishStep(alert, seen, 'raising', now, record);
      return;
    }
  }

  /** the end first (recorded: whoever resolves it publishes that), then the claim; true once resolved and dropped */
  private async resolve(ep: Episode, resolved: Alert, now: number): Promise<boolean> {
    const { store } = this.opts;
    if (ep.alert !== resolved) await recordEpisode(store, ep.field, resolved);
    // from open, or from a step its watcher gave up (a raise too: it may have been published)
    if (ep.claim !== 'open' && ep.claim !== null && !stale(ep.claim, now)) return false;
    if (!(await this.publishStep(resolved, ep.claimValue, 'resolving', now, alreadyRecorded))) return false;
    await dropEpisode(store, ep.field);
    return true;
  }

  /**
   * take the step's claim from `seen` (its value as read; null: none), record, publish and mark it done; false when
   * another watcher took it, before this one or since (this one stalled past its lease: the claim is left as the other
   * set it, and the other finishes the step). A record or publish that fails releases the step for the next look
   */
  private async publishStep(
    alert: Alert,
    seen: string | null,
    step: Step,
    now: number,
    record: () => Promise<void>,
  ): Promise<boolean> {
    const { store } = this.opts;
    const taken = await takeStep(store, alert.id, seen, step, now);
    if (taken === undefined) return false;
    // from a step another watcher took, or an earlier version's claim of a raise it never recorded
    const takenOver = isStep(claimOf(seen)) || (step === 'raising' && seen === 'open');
    try {
      await record();
      await this.opts.publish(alert);
    } catch (err) {
      await releaseStep(store, alert.id, taken, step).catch(() => {}); // else the lease runs out
      throw err;
    }
    changes.inc({ change: step === 'raising' ? 'raised' : 'resolved' });
    if (takenOver) completed.inc({ step });
    return stepDone(store, alert.id, taken, step);
  }

  /** the alert of the silence's episode `generation` (0: the first, its id as before generations) */
  private alertOf(s: SensorSeen, quietAfterMs: number, now: number, generation: number): Alert {
    const kind = 'sensor_quiet' satisfies AlertKind;
    const idParts = generation === 0 ? [s.lastSeen] : [s.lastSeen, generation];
    return {
      v: 1,
      id: stableId('alert', kind, s.kind, s.id, ...idParts),
      kind,
      severity: this.opts.severity,
      state: 'open',
      service: MESHWARD_SERVICE,
      subject: { type: 'sensor', value: `${s.kind}/${s.id}` },
      firstSeen: s.lastSeen,
      lastSeen: now,
      count: 1,
      summary: `${s.kind} sensor ${s.id} sent no record for ${durationText(now - s.lastSeen)}: its traffic is not watched`,
      expected: expectedOf(quietAfterMs),
      observed: `none since ${iso(s.lastSeen)}`,
      evidence: { recordIds: [], metrics: { quiet_s: Math.floor((now - s.lastSeen) / 1000), records: s.records } },
      updatedAt: now,
    };
  }

  /**
   * the episode's alert resolved, if it ended: the sensor sends again, is forgotten, its watch is off, or its threshold
   * was raised above its silence (counted from its last record: a restart's grace, watchedSince, is for a raise)
   */
  private resolvedOf(ep: Episode, s: SensorSeen | undefined, now: number): Alert | undefined {
    const who = `${ep.kind} sensor ${ep.id}`;
    const end = (because: QuietEnd, lastSeen: number, summary: string, observed: string, expected?: string): Alert => ({
      ...ep.alert,
      state: 'resolved',
      lastSeen,
      summary,
      ...(expected === undefined ? {} : { expected }),
      observed,
      labels: { ...ep.alert.labels, resolved_because: because },
      updatedAt: now,
    });
    const quiet = durationText(now - ep.since);
    if (s && s.lastSeen > ep.since)
      return end(
        'sends_again',
        s.lastSeen,
        `${who} sends again after ${durationText(s.lastSeen - ep.since)} without a record`,
        `none from ${iso(ep.since)} to ${iso(s.lastSeen)}`,
      );
    if (!s || now - ep.since > FORGET_SENSOR_AFTER_MS)
      return end(
        'forgotten',
        now,
        `${who} forgotten after ${quiet} without a record: no longer watched`,
        `none since ${iso(ep.since)}`,
      );
    const quietAfterMs = this.quietAfterOf(ep.kind);
    if (quietAfterMs <= 0)
      return end(
        'watch_off',
        now,
        `${who}, quiet for ${quiet}, is no longer watched: its sensor_quiet threshold was set to 0`,
        `none since ${iso(ep.since)}`,
      );
    if (now - ep.since <= quietAfterMs)
      return end(
        'threshold_raised',
        now,
        `${who}, quiet for ${quiet}, is within its sensor_quiet threshold, raised to ${durationText(quietAfterMs)}`,
        `none since ${iso(ep.since)}`,
        expectedOf(quietAfterMs),
      );
    return undefined;
  }
}

/**
 * Looks for quiet sensors at once and then every `intervalMs`, one look at a time. With every threshold 0 (the alert
 * off) it looks only until the episodes raised before are resolved (at once when there are none). Returns the function
 * that stops it (and waits for a look under way).
 */
export function startSensorQuietWatch(
  opts: SensorQuietWatchOptions,
  intervalMs = SENSOR_WATCH_INTERVAL_MS,
): () => Promise<void> {
  const watch = new SensorQuietWatch(opts);
  const thresholds = [opts.quietAfterMs, ...Object.values(opts.quietAfterMsByKind ?? {})];
  if (thresholds.some((ms) => ms > 0)) return startPeriodic(async () => void (await watch.check()), intervalMs);
  let done = false;
  return startPeriodic(async () => {
    if (!done) done = (await watch.check()) === 0;
  }, intervalMs);
}
