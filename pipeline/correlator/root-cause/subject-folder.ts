/**
 * Folds generic signals (how much a subject takes: excessive_calls, bulk_data_access) into the live alert of a more
 * specific kind on the same subject (what kind of taking it is: an enumeration walk, a brute force, a fan-out), so an
 * analyst sees one alert for one attack. A generic signal folds into an open alert of one of the kinds its
 * `subjects_fold_into` entry names, of the same subject, signalled at most fold_within before it, at the same
 * service and endpoint (where both name one) or, with across_services, at a caller of its endpoint along the call
 * graph (the walk at the front end, its look-ups at a backend). A generic signal with nothing to fold into waits up to
 * subject_hold (the detectors cross their thresholds seconds apart), then raises its own alert; once raised it goes
 * on as usual. Folded, the specific alert records it (summary, `also` labels, `also_*` figures, two of its records)
 * without being refreshed by it: when the specific alert goes quiet or resolves while the generic behaviour goes on,
 * the generic signal's next firing raises its own alert. State is bounded: held signals (max_roots groups, a few
 * signals each), folded groups and the roots they fold into while those are open.
 */
import type { AlertSignal } from '../../core/alert.js';
import type { AlertKind } from '../../core/alert-kinds.js';
import { counter } from '../../core/metrics.js';
import { AlertManager } from '../alert-manager.js';
import { type CallGraph, type Place, placeOf } from './call-graph.js';
import type { RootCauseConfig } from './config.js';

/** folded signals listed in the summary (all of them, up to MAX_LISTED, go to the `also_folded` label) */
const IN_SUMMARY = 2;
const MAX_LISTED = 20;
const RECORDS_PER_FOLDED = 2;
/** signals kept per held group: the first (the alert's id and firstSeen, and when the hold began) and the latest ones */
const MAX_HELD_SIGNALS = 8;
/** folded signals remembered per root */
const MAX_FOLDED = 50;

const folded = counter(
  'meshward_correlator_subject_folded_total',
  'generic signals (excessive_calls, bulk_data_access) folded into a more specific alert of their subject instead of raising their own: one per folded (kind, service, endpoint, subject), not per refresh',
  ['kind'],
);

/** a held group's signals, first first: the first is never dropped, so its `at` is when the hold began */
type Held = AlertSignal[];

/** what a folded signal adds to its root: a line, its figures, a few records */
interface Folded {
  kind: string;
  line: string;
  requests: number | undefined;
  bytes: number | undefined;
  recordIds: string[];
}

/** a specific alert carrying folded signals: its own latest summary and figures, and what was folded into it */
interface Root {
  summary: string;
  metrics: Record<string, number>;
  folded: Map<string, Folded>;
}

export interface SubjectFolderState {
  /** (`since`, written by earlier versions, is the first signal's `at`: not read) */
  held: { key: string; signals: AlertSignal[] }[];
  foldedInto: [string, { root: string; lastAt: number; figure: number }][];
  roots: { key: string; summary: string; metrics: Record<string, number>; folded: [string, Folded][] }[];
}

/**
 * what a generic kind counts (its `threshold` is of it): a folded signal whose root resolved raises its own alert only
 * once the subject took more than that threshold since it was last folded
 */
const COUNTED: Readonly<Record<string, string>> = { excessive_calls: 'requests', bulk_data_access: 'bytes' };
const figureOf = (s: AlertSignal): number => s.metrics[COUNTED[s.kind] ?? 'requests'] ?? Number.POSITIVE_INFINITY;

const latest = (h: Held): AlertSignal => h[h.length - 1];
/** event time at which a held group's hold ends */
const dueAt = (h: Held, holdMs: number): number => h[0].at + holdMs;
const samePlace = (a: Place, b: Place): boolean =>
  a.service === b.service && (a.endpoint === undefined || b.endpoint === undefined || a.endpoint === b.endpoint);

export class SubjectFolder {
  /** generic kind → the kinds it folds into, in the config's order */
  private readonly into = new Map<string, readonly string[]>();
  /** kinds whose alerts may carry folded signals */
  private readonly targets = new Set<string>();
  private readonly foldWithinMs: number;
  private readonly holdMs: number;
  /** held generic signals by group key, first held first */
  private held = new Map<string, Held>();
  /** event time at which the first held signal is due (flush then), +Infinity when none is held */
  nextDue = Number.POSITIVE_INFINITY;
  /** generic group key → the group key of the alert it is folded into, and when it last folded */
  private readonly foldedInto = new Map<string, { root: string; lastAt: number; figure: number }>();
  /** roots by group key */
  private readonly roots = new Map<string, Root>();

  constructor(
    private readonly config: RootCauseConfig,
    /** needed with across_services */
    private readonly graph: CallGraph | undefined,
    private readonly alerts: AlertManager,
  ) {
    this.foldWithinMs = config.fold_within_seconds * 1000;
    this.holdMs = config.subject_hold_seconds * 1000;
    if (!config.enabled) return;
    for (const [kind, into] of Object.entries(config.subjects_fold_into)) {
      if (into === 'none') continue;
      this.into.set(kind, into);
      for (const k of into) this.targets.add(k);
    }
  }

  /** whether signals of this kind may be folded (they go to add) */
  folds(kind: string): boolean {
    return this.into.has(kind);
  }

  /** a signal on its way to the alert manager: an alert carrying folded signals keeps them in its summary and labels */
  decorate(s: AlertSignal): AlertSignal {
    if (!this.targets.has(s.kind) || this.roots.size === 0) return s;
    const root = this.roots.get(AlertManager.groupKey(s));
    if (!root) return s;
    root.summary = s.summary;
    root.metrics = { ...s.metrics };
    return withFolded(root, s);
  }

  /** a generic signal: folded, held, or raised */
  add(s: AlertSignal): void {
    const key = AlertManager.groupKey(s);
    if (!s.subject || this.alerts.peek(key)) {
      this.raise(s);
      return;
    }
    const held = this.held.get(key);
    if (held) {
      if (held.length >= MAX_HELD_SIGNALS) held.pop();
      held.push(s);
      return;
    }
    const was = this.foldedInto.get(key);
    if (was !== undefined && this.foldInto(s, key, was.root, false)) return;
    const root = this.rootFor(s, key);
    if (root !== undefined) {
      this.foldInto(s, key, root, true);
      return;
    }
    if (was !== undefined) {
      // folded before, and its root resolved: raised on its own when it took more than its threshold since (the
      // behaviour goes on), else it is the tail of an episode the root already told
      if (figureOf(s) - was.figure > (s.metrics.threshold ?? 0)) {
        this.foldedInto.delete(key);
        this.raise(s);
      } else was.lastAt = Math.max(was.lastAt, s.at);
      return;
    }
    if (this.held.size >= this.config.max_roots) this.release(this.held.keys().next().value as string);
    this.held.set(key, [s]);
    this.nextDue = Math.min(this.nextDue, s.at + this.holdMs);
  }

  /**
   * called at each window boundary and when the watermark passes nextDue: held signals fold into a root raised
   * meanwhile, or, held for subject_hold, raise their own alert — after any held signal that would be their root
   */
  flush(watermark: number): void {
    if (this.held.size > 0) {
      for (const [key, h] of this.held) {
        const last = latest(h);
        const root = this.rootFor(last, key);
        if (root !== undefined && this.foldInto(last, key, root, true)) this.held.delete(key);
      }
      const due = [...this.held].filter(([, h]) => dueAt(h, this.holdMs) <= watermark);
      const waiting = [...this.held.values()].map(latest);
      const young = [...this.held.values()].filter((h) => dueAt(h, this.holdMs) > watermark).map(latest);
      // due signals no held one would be the root of raise first; then the others fold into them, or wait for a
      // root still young, or raise their own (a cycle of would-be roots: the first raises, the next folds into it)
      for (const [key, h] of due) if (!waiting.some((o) => this.explains(o, latest(h)))) this.release(key);
      for (const [key, h] of due) {
        if (!this.held.has(key)) continue;
        const last = latest(h);
        const root = this.rootFor(last, key);
        if (root !== undefined && this.foldInto(last, key, root, true)) this.held.delete(key);
        else if (!young.some((o) => this.explains(o, last))) this.release(key);
      }
    }
    // held signals still due wait for a young one (their root): flush again when the next young one is due
    this.nextDue = Number.POSITIVE_INFINITY;
    for (const h of this.held.values())
      if (dueAt(h, this.holdMs) > watermark) this.nextDue = Math.min(this.nextDue, dueAt(h, this.holdMs));
    // a folded group quiet for the resolve window has ended (its detector starts afresh); a root no longer open is gone
    const ended = watermark - this.alerts.resolveAfterMs;
    for (const [key, f] of this.foldedInto) if (f.lastAt < ended) this.foldedInto.delete(key);
    for (const key of this.roots.keys()) if (!this.alerts.peek(key)) this.roots.delete(key);
  }

  /** raises a held group's signals, in order (the alert's id and firstSeen as if never held) */
  private release(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    for (const s of h) this.raise(s);
  }

  private raise(s: AlertSignal): void {
    this.alerts.signal(this.decorate(s));
  }

  /** the open alert `s` folds into: at its place first, else at a caller along the call graph; kinds in config order */
  private rootFor(s: AlertSignal, key: string): string | undefined {
    const kinds = this.into.get(s.kind);
    if (!kinds || !s.subject) return undefined;
    const since = s.at - this.foldWithinMs;
    let byGraph: { key: string; rank: number } | undefined;
    let atPlace: { key: string; rank: number } | undefined;
    for (const k of this.alerts.openOfSubject(s.subject)) {
      if (k === key) continue;
      const a = this.alerts.peek(k);
      if (!a || a.lastSeen < since) continue;
      const rank = kinds.indexOf(a.kind);
      if (rank < 0) continue;
      if (samePlace(a, s)) {
        if (!atPlace || rank < atPlace.rank) atPlace = { key: k, rank };
      } else if ((!byGraph || rank < byGraph.rank) && this.reaches(a, s)) byGraph = { key: k, rank };
    }
    return (atPlace ?? byGraph)?.key;
  }

  /** whether the held signal `cause` would be the root of `s` once raised */
  private explains(cause: AlertSignal, s: AlertSignal): boolean {
    if (cause === s || !s.subject || !cause.subject) return false;
    if (cause.subject.type !== s.subject.type || cause.subject.value !== s.subject.value) return false;
    if (!this.into.get(s.kind)?.includes(cause.kind)) return false;
    if (AlertManager.groupKey(cause) === AlertManager.groupKey(s)) return false;
    return samePlace(cause, s) || this.reaches(cause, s);
  }

  private reaches(from: Place, to: Place): boolean {
    return this.config.across_services === true && this.graph !== undefined && this.graph.reaches(from, to);
  }

  /**
   * records `s` on the open alert `rootKey`; false when that alert is not open, or (`fresh`, a first fold) was last
   * signalled more than fold_within before `s`
   */
  private foldInto(s: AlertSignal, key: string, rootKey: string, fresh: boolean): boolean {
    const alert = this.alerts.peek(rootKey);
    if (!alert || (fresh && alert.lastSeen < s.at - this.foldWithinMs)) return false;
    let root = this.roots.get(rootKey);
    if (!root) {
      root = { summary: alert.summary, metrics: { ...alert.evidence.metrics }, folded: new Map() };
      this.roots.set(rootKey, root);
    }
    const place = `${s.kind} ${placeOf(s)}`;
    if (root.folded.size < MAX_FOLDED || root.folded.has(place))
      root.folded.set(place, {
        kind: s.kind,
        line: `${s.kind} at ${placeOf(s)}: ${s.summary}`,
        requests: s.metrics.requests,
        bytes: s.metrics.bytes,
        recordIds: s.recordIds.slice(0, RECORDS_PER_FOLDED),
      });
    const was = this.foldedInto.get(key);
    if (was?.root !== rootKey) folded.inc({ kind: s.kind });
    this.foldedInto.set(key, { root: rootKey, lastAt: Math.max(s.at, was?.lastAt ?? 0), figure: figureOf(s) });
    const own: AlertSignal = {
      kind: alert.kind as AlertKind,
      severity: alert.severity,
      service: alert.service,
      ...(alert.endpoint !== undefined ? { endpoint: alert.endpoint } : {}),
      ...(alert.subject ? { subject: alert.subject } : {}),
      at: s.at,
      summary: root.summary,
      recordIds: [],
      metrics: root.metrics,
    };
    this.alerts.amend(rootKey, withFolded(root, own));
    return true;
  }

  snapshot(): SubjectFolderState {
    return {
      held: [...this.held].map(([key, h]) => ({ key, signals: structuredClone(h) })),
      foldedInto: [...this.foldedInto].map(([k, f]) => [k, { ...f }]),
      roots: [...this.roots].map(([key, r]) => ({
        key,
        summary: r.summary,
        metrics: { ...r.metrics },
        folded: structuredClone([...r.folded]),
      })),
    };
  }

  restore(state: SubjectFolderState | undefined): void {
    this.held = new Map((state?.held ?? []).map((h) => [h.key, structuredClone(h.signals)]));
    this.nextDue = Number.POSITIVE_INFINITY;
    for (const h of this.held.values()) this.nextDue = Math.min(this.nextDue, dueAt(h, this.holdMs));
    this.foldedInto.clear();
    for (const [k, f] of state?.foldedInto ?? []) this.foldedInto.set(k, { ...f });
    this.roots.clear();
    for (const r of state?.roots ?? [])
      this.roots.set(r.key, {
        summary: r.summary,
        metrics: { ...r.metrics },
        folded: new Map(structuredClone(r.folded)),
      });
  }
}

/**
 * the root's signal with what was folded into it: the summary ("; also excessive_calls at orders GET /orders/{id}:
 * …"), `also` (the folded kinds) and `also_folded` (one line each) labels, `also_folded`, `also_requests` and
 * `also_bytes` (the largest of the folded signals') figures, and two records of each
 */
function withFolded(root: Root, s: AlertSignal): AlertSignal {
  if (root.folded.size === 0) return s;
  const all = [...root.folded.values()];
  const kinds = [...new Set(all.map((f) => f.kind))];
  const more = all.length > IN_SUMMARY ? ` and ${all.length - IN_SUMMARY} more` : '';
  const metrics: Record<string, number> = { ...s.metrics, also_folded: all.length };
  const requests = all.flatMap((f) => (f.requests === undefined ? [] : [f.requests]));
  const bytes = all.flatMap((f) => (f.bytes === undefined ? [] : [f.bytes]));
  if (requests.length > 0) metrics.also_requests = Math.max(...requests);
  if (bytes.length > 0) metrics.also_bytes = Math.max(...bytes);
  return {
    ...s,
    summary: `${s.summary}; also ${all
      .slice(0, IN_SUMMARY)
      .map((f) => f.line)
      .join('; ')}${more}`,
    recordIds: [...s.recordIds, ...all.flatMap((f) => f.recordIds)],
    metrics,
    labels: {
      ...s.labels,
      also: kinds.join(','),
      also_folded: all
        .slice(0, MAX_LISTED)
        .map((f) => f.line)
        .join('\n'),
    },
  };
}
