import { type Alert, SEVERITY_RANK, type Severity } from '../core/alert.js';
import { mwError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Store } from '../store/store.js';
import type { AlertRepository } from './alert-repository.js';

const SILENCES_KEY = 'alert-silences';
/** per silence id: how many alert changes it suppressed (a hash of counters, one increment per silence and batch) */
const SUPPRESSED_KEY = 'alert-silences:suppressed';
/** per silence id: when it last suppressed one (epoch ms) */
const LAST_SUPPRESSED_KEY = 'alert-silences:last-suppressed';
/** the longest a silence may last (30 days): a longer one is a detector setting, not a silence */
export const MAX_SILENCE_MS = 30 * 86_400_000;
/** how long an ended silence stays listed */
const KEEP_ENDED_MS = 7 * 86_400_000;

/**
 * what a silence matches: every field given must equal the alert's (`subject` is the subject's value), and the alert
 * must be no more severe than `max_severity` when given (a noisy client's low alerts quiet, its critical ones not)
 */
export interface SilenceMatchers {
  kind?: string;
  service?: string;
  endpoint?: string;
  subject?: string;
  max_severity?: Severity;
}

export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  /** who ended it early (endsAt is then when they did) */
  expiredBy?: string;
}

/**
 * what a silence has done: the alert changes from the correlators (a new alert, or a refresh of one: more
 * occurrences) that reached the analysts' store while it was active and that it resolved, or kept resolved, and kept
 * from the sinks. Not the alerts it resolved when it was made (the create answer's `resolved`)
 */
export interface SilenceActivity {
  suppressed: number;
  /** when it last suppressed one (absent: never yet) */
  lastSuppressedAt?: number;
}

/** a silence as the API shows it: whether it is in force now, and what it has suppressed */
export type ShownSilence = Silence & SilenceActivity & { active: boolean };

/** the matchers that say which alerts (a silence needs one of them; a severity ceiling alone would be a setting) */
const MATCHER_FIELDS = ['kind', 'service', 'endpoint', 'subject'] as const;

/** whether a silence's matchers all hold for the alert */
export function silenceMatches(s: Silence, alert: Alert): boolean {
  const value = { kind: alert.kind, service: alert.service, endpoint: alert.endpoint, subject: alert.subject?.value };
  const ceiling = s.matchers.max_severity;
  if (ceiling && SEVERITY_RANK[alert.severity] > SEVERITY_RANK[ceiling]) return false;
  return MATCHER_FIELDS.every((f) => s.matchers[f] === undefined || s.matchers[f] === value[f]);
}

export const isActive = (s: Silence, now: number): boolean => s.startsAt <= now && now < s.endsAt;

/**
 * Analysts' silences: alerts matching one (by kind, service, endpoint, subject, up to a severity) while it lasts are resolved as they
 * reach the analyst store, with a note naming the silence, and are not sent to the alert sinks. They quiet the queue
 * and the notifications for a known cause (a pentest, a load test, a noisy client); once the silence ends, new
 * occurrences open the alert again. Enforcement is the policy's (its allowlist), not a silence's.
 */
export class SilenceRepository {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  async create(input: { matchers: SilenceMatchers; durationMs: number; comment: string }, actor: string) {
    const matchers: SilenceMatchers = {};
    for (const f of MATCHER_FIELDS) if (input.matchers[f]) matchers[f] = input.matchers[f];
    if (Object.keys(matchers).length === 0)
      throw mwError('BAD_REQUEST', 'a silence needs at least one matcher (kind, service, endpoint or subject)');
    if (input.matchers.max_severity) matchers.max_severity = input.matchers.max_severity;
    if (!(input.durationMs > 0 && input.durationMs <= MAX_SILENCE_MS))
      throw mwError('BAD_REQUEST', `a silence lasts more than 0 and at most ${MAX_SILENCE_MS / 86_400_000} days`);
    if (!input.comment.trim()) throw mwError('BAD_REQUEST', 'a silence needs a comment: why the alerts are expected');
    const now = this.clock();
    const silence: Silence = {
      id: `sil_${newId()}`,
      matchers,
      startsAt: now,
      endsAt: now + input.durationMs,
      createdBy: actor,
      comment: input.comment.trim(),
    };
    await this.store.hset(SILENCES_KEY, silence.id, JSON.stringify(silence));
    await this.prune(now);
    return silence;
  }

  /** silences ended more than KEEP_ENDED_MS ago are forgotten, with what they suppressed */
  private async prune(now: number): Promise<void> {
    for (const [id, raw] of Object.entries(await this.store.hgetall(SILENCES_KEY)))
      if ((JSON.parse(raw) as Silence).endsAt < now - KEEP_ENDED_MS) {
        await this.store.hdel(SILENCES_KEY, id);
        await this.store.hdel(SUPPRESSED_KEY, id);
        await this.store.hdel(LAST_SUPPRESSED_KEY, id);
      }
  }

  /**
   * count alert changes the silences suppressed: `counts` maps a silence id to how many in one batch, `at` is when.
   * One counter increment and one write per silence, whichever API replica handled the batch
   */
  async recordSuppressed(counts: ReadonlyMap<string, number>, at = this.clock()): Promise<void> {
    for (const [id, n] of counts) {
      await this.store.hincr(SUPPRESSED_KEY, id, n);
      await this.store.hsetMax(LAST_SUPPRESSED_KEY, id, at);
    }
  }

  /** a silence as the API shows it: whether it is in force now, and what it has suppressed */
  async shown(s: Silence): Promise<ShownSilence> {
    const [n, last] = await Promise.all([
      this.store.hget(SUPPRESSED_KEY, s.id),
      this.store.hget(LAST_SUPPRESSED_KEY, s.id),
    ]);
    return this.show(s, n, last);
  }

  private show(s: Silence, suppressed: string | null | undefined, last: string | null | undefined): ShownSilence {
    return {
      ...s,
      active: isActive(s, this.clock()),
      suppressed: Number(suppressed ?? 0),
      ...(last ? { lastSuppressedAt: Number(last) } : {}),
    };
  }

  /** every silence as the API shows it, active ones first, then the most recently ended */
  async list(): Promise<ShownSilence[]> {
    const now = this.clock();
    const [all, counts, lasts] = await Promise.all([
      this.store.hgetall(SILENCES_KEY),
      this.store.hgetall(SUPPRESSED_KEY),
      this.store.hgetall(LAST_SUPPRESSED_KEY),
    ]);
    return Object.values(all)
      .map((raw) => JSON.parse(raw) as Silence)
      .sort((a, b) => Number(isActive(b, now)) - Number(isActive(a, now)) || b.endsAt - a.endsAt)
      .map((s) => this.show(s, counts[s.id], lasts[s.id]));
  }

  /** end a silence now */
  async expire(id: string, actor: string): Promise<Silence> {
    const raw = await this.store.hget(SILENCES_KEY, id);
    if (!raw) throw mwError('NOT_FOUND', `silence ${id}`);
    const s = JSON.parse(raw) as Silence;
    const now = this.clock();
    if (!isActive(s, now)) throw mwError('CONFLICT', `silence ${id} has ended`);
    const ended: Silence = { ...s, endsAt: now, expiredBy: actor };
    await this.store.hset(SILENCES_KEY, id, JSON.stringify(ended));
    return ended;
  }

  /**
   * the silences active now, read once, as a function that gives the one matching an alert (if any): a batch of
   * alerts is checked against one read of the store, not one per alert
   */
  async matcher(): Promise<(alert: Alert) => Silence | undefined> {
    const now = this.clock();
    const active = Object.values(await this.store.hgetall(SILENCES_KEY))
      .map((raw) => JSON.parse(raw) as Silence)
      .filter((s) => isActive(s, now));
    return (alert) => active.find((s) => silenceMatches(s, alert));
  }

  /** the active silence that matches the alert, if any */
  async matching(alert: Alert): Promise<Silence | undefined> {
    return (await this.matcher())(alert);
  }
}

/** the note a silenced alert gets in its history: which silence, until when, why */
export const silenceNote = (s: Silence): string =>
  `silenced (${s.id}) until ${new Date(s.endsAt).toISOString()}: ${s.comment}`;

/** the most alerts a new silence resolves at once (the newest of those it covers) */
const RESOLVE_AT_CREATION = 500;

/**
 * resolve the open and acknowledged alerts a new silence covers (the newest RESOLVE_AT_CREATION), each with the
 * silence's note, in the name of whoever made it; returns how many
 */
export async function resolveCovered(alerts: AlertRepository, s: Silence): Promise<number> {
  const { kind, service, endpoint, subject } = s.matchers;
  let n = 0;
  for (const state of ['open', 'acknowledged'] as const) {
    const { items } = await alerts.list({ kind, service, endpoint, subject, state }, RESOLVE_AT_CREATION);
    for (const a of items) {
      if (!silenceMatches(s, a)) continue;
      await alerts.transition(a.id, 'resolve', s.createdBy, silenceNote(s));
      n++;
    }
  }
  return n;
}
