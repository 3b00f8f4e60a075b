import type { Alert } from '../core/alert.js';
import type { Store } from '../store/store.js';
import { FORGET_SENSOR_AFTER_MS } from './sensor-activity.js';

/**
 * the quiet episodes raised and not yet resolved: field `[kind, id, since]` (since: the sensor's last record when it
 * went quiet), `[kind, id, since, generation]` for a later episode of the same silence (see episodeField), value the
 * alert as raised or, once a watcher found the episode ended, as resolved: what to publish. Each is written before its
 * publish, so a later look publishes what a watcher that stopped left half done. One field per episode, so resolving
 * one never clobbers the next
 */
const EPISODES_KEY = 'sensors:quiet_episodes';
/**
 * per episode (alert id), where its raise and resolve stand: `raising@<ms>` or `resolving@<ms>` while a watcher
 * publishes (since when), `open` or `resolved` once it has. Only the watcher that set a step publishes it, so API
 * replicas and restarts raise and resolve each episode once; a step older than STEP_LEASE_MS is taken over by the next
 * look (its watcher stopped before marking it done). Kept past the 30 days after which a sensor is forgotten
 */
const claimKey = (alertId: string) => `sensor-quiet:${alertId}`;
const CLAIM_TTL_MS = FORGET_SENSOR_AFTER_MS + 86_400_000;
/**
 * how long a watcher has to publish an alert change and mark it done before another look takes the step over: well
 * past a publish with its retries (the Kafka bus gives up within about a minute by its defaults), so two watchers
 * publish one change only when one stalled this long
 */
export const STEP_LEASE_MS = 2 * 60_000;

export type Step = 'raising' | 'resolving';
/** a claim as read: a step under way (at: when it was taken, epoch ms), one done, or none */
export type Claim = { step: Step; at: number } | 'open' | 'resolved' | null;

export interface Episode {
  field: string;
  kind: string;
  id: string;
  since: number;
  /** as raised, or as resolved once a watcher found the episode ended */
  alert: Alert;
  /** its claim when the episodes were read */
  claim: Claim;
  /** the claim's value as read, for compareAndSet */
  claimValue: string | null;
}

export function claimOf(value: string | null): Claim {
  if (value === null || value === 'open' || value === 'resolved') return value;
  const [step, at] = value.split('@');
  // a value no watcher wrote: a step taken at 0, which the next look takes over
  return { step: step === 'resolving' ? 'resolving' : 'raising', at: Number(at) || 0 };
}

/** a step under way (or given up), not one done */
export const isStep = (claim: Claim): claim is { step: Step; at: number } =>
  claim !== null && typeof claim === 'object';

/**
 * a step under way for longer than STEP_LEASE_MS (or released after a failed publish): its watcher gave it up. One
 * taken more than that in the future too: a clock that was ahead (or jumped back since) took it, and its lease is not
 * to be waited out until that time comes
 */
export const stale = (claim: Claim, now: number): boolean => isStep(claim) && Math.abs(now - claim.at) > STEP_LEASE_MS;

/** every recorded episode with its claim (two store calls); a field or value no watcher wrote is deleted */
export async function readEpisodes(store: Store): Promise<Episode[]> {
  const out: Omit<Episode, 'claim' | 'claimValue'>[] = [];
  for (const [field, value] of Object.entries(await store.hgetall(EPISODES_KEY))) {
    try {
      const [kind, id, since] = JSON.parse(field) as [string, string, number];
      const alert = JSON.parse(value) as Alert;
      if (typeof alert?.id !== 'string') throw new Error('not an alert');
      out.push({ field, kind, id, since, alert });
    } catch {
      await store.hdel(EPISODES_KEY, field);
    }
  }
  const claims = out.length > 0 ? await store.mget(out.map((ep) => claimKey(ep.alert.id))) : [];
  return out.map((ep, i) => ({ ...ep, claim: claimOf(claims[i]), claimValue: claims[i] }));
}

/**
 * an episode's field: the sensor, its last record when it went quiet, and the generation of the episode in that
 * silence (0: the first, as fields were before generations; one more each time the silence outlives an episode
 * resolved while it lasts: its watch turned off, its threshold raised). Generation 0's also names the silence
 */
export const episodeField = (kind: string, id: string, since: number, generation = 0): string =>
  JSON.stringify(generation === 0 ? [kind, id, since] : [kind, id, since, generation]);

export const recordEpisode = (store: Store, field: string, alert: Alert): Promise<void> =>
  store.hset(EPISODES_KEY, field, JSON.stringify(alert));

export async function isRecorded(store: Store, field: string): Promise<boolean> {
  return (await store.hget(EPISODES_KEY, field)) !== null;
}

export const dropEpisode = (store: Store, field: string): Promise<void> => store.hdel(EPISODES_KEY, field);

export const readClaim = (store: Store, alertId: string): Promise<string | null> => store.get(claimKey(alertId));

/**
 * take `step` of the episode: from no claim (setIfAbsent), else from `seen`, the claim's value as read (compareAndSet:
 * of several watchers taking it from the same value, one does), with the claim's TTL either way: a watcher that stops
 * before recording the episode leaves a claim no look follows. Resolves to the claim's value this call set (for
 * stepDone and releaseStep), undefined when it did not take the step
 */
export async function takeStep(
  store: Store,
  alertId: string,
  seen: string | null,
  step: Step,
  now: number,
): Promise<string | undefined> {
  const mine = `${step}@${now}`;
  const took =
    seen === null
      ? await store.setIfAbsent(claimKey(alertId), mine, CLAIM_TTL_MS)
      : await store.compareAndSet(claimKey(alertId), seen, mine, CLAIM_TTL_MS);
  return took ? mine : undefined;
}

/**
 * the step is published: `open` after raising, `resolved` after resolving (the TTL set again), from `taken` (what
 * takeStep set) only. False when the claim moved on since: this watcher stalled past its lease, another took the step
 * over (and may have gone on, to resolved), and that claim stands
 */
export const stepDone = (store: Store, alertId: string, taken: string, step: Step): Promise<boolean> =>
  store.compareAndSet(claimKey(alertId), taken, step === 'raising' ? 'open' : 'resolved', CLAIM_TTL_MS);

/**
 * the step failed (publish or record refused): taken at 0, so the next look takes it over at once; from `taken` only
 * (as stepDone), so a step another watcher took over since is left to it
 */
export const releaseStep = (store: Store, alertId: string, taken: string, step: Step): Promise<boolean> =>
  store.compareAndSet(claimKey(alertId), taken, `${step}@0`, CLAIM_TTL_MS);
