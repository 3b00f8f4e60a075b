/**
 * Folds symptoms into the alert of their root cause. Signals of the folded kinds wait until every window of their
 * start has closed (the shard flushes after closing a boundary, at most a few seconds later), then, per kind, a signal is a symptom of another when
 *  - it is a service's and the other one is of an endpoint of that service (the same event, seen wider), or
 *  - with across_services, the call graph links them in the kind's direction: a latency spike or error burst shows
 *    at the callers of the hop at fault, a traffic change at the callees of the endpoint that received it.
 * Signals that are nobody's symptom are root causes: they go to the alert manager with their symptoms as evidence
 * ("also affected: …"). A later symptom of a recent root cause (within fold_within) joins it. State is bounded: the
 * signals of one start, and at most max_roots recent root causes.
 */
import type { AlertSignal } from '../../core/alert.js';
import { type CallGraph, type Place, placeOf } from './call-graph.js';
import type { RootCauseConfig, SymptomDirection } from './config.js';

/** symptoms listed in the summary (all of them, up to MAX_LISTED, go to the `also_affected` label) */
const IN_SUMMARY = 3;
const MAX_LISTED = 20;
const RECORDS_PER_SYMPTOM = 2;
/** symptoms remembered per root cause */
const MAX_SYMPTOMS = 100;

interface Root {
  signal: AlertSignal;
  /** symptom place → how it showed */
  symptoms: Map<string, string>;
  lastSeen: number;
}

export interface FolderState {
  pending: AlertSignal[];
  roots: { signal: AlertSignal; symptoms: [string, string][]; lastSeen: number }[];
}

const rootKey = (s: AlertSignal): string => `${s.kind}\u0000${s.service}\u0000${s.endpoint ?? ''}`;

export class SymptomFolder {
  private pending: AlertSignal[] = [];
  /** by kind + place, least recently seen first */
  private readonly roots = new Map<string, Root>();
  private readonly foldWithinMs: number;

  constructor(
    private readonly config: RootCauseConfig,
    /** needed with across_services */
    private readonly graph: CallGraph | undefined,
  ) {
    this.foldWithinMs = config.fold_within_seconds * 1000;
  }

  /** whether signals of this kind wait for folding */
  folds(kind: string): boolean {
    const at = this.config.symptoms_at[kind];
    return this.config.enabled && at !== undefined && at !== 'none';
  }

  add(s: AlertSignal): void {
    this.pending.push(s);
  }

  /**
   * every window before `upTo` has closed (so every signal waiting is complete with its peers): the signals to
   * raise, root causes with their symptoms
   */
  flush(upTo: number): AlertSignal[] {
    if (this.pending.length === 0) return [];
    const due = this.pending;
    this.pending = [];
    const since = upTo - this.foldWithinMs;
    const touched = new Set<Root>();
    for (const kind of new Set(due.map((s) => s.kind))) {
      // every signal waiting is of a kind folds() took: callers or callees
      const direction = this.config.symptoms_at[kind] as SymptomDirection;
      const batch = due.filter((s) => s.kind === kind);
      for (const s of batch) {
        const root = this.rootOf(s, batch, direction, since);
        if (rootKey(root.signal) === rootKey(s)) root.signal = s;
        else if (root.symptoms.size < MAX_SYMPTOMS || root.symptoms.has(placeOf(s)))
          root.symptoms.set(placeOf(s), showing(s));
        root.lastSeen = Math.max(root.lastSeen, s.at);
        touched.add(root);
        this.touch(root);
      }
    }
    this.prune(since);
    return [...touched].map((root) => withSymptoms(root, due));
  }

  /** the root cause `s` belongs to: a recent one it is (a symptom of), else the end of its chain of causes */
  private rootOf(s: AlertSignal, batch: AlertSignal[], direction: SymptomDirection, since: number): Root {
    const recent = this.recentRootOf(s, direction, since);
    if (recent) return recent;
    let at = s;
    const seen = new Set<AlertSignal>([s]);
    for (;;) {
      const by = batch.find((o) => !seen.has(o) && this.explains(o, at, direction));
      if (!by) break;
      seen.add(by);
      at = by;
    }
    const root = (at !== s && this.recentRootOf(at, direction, since)) || {
      signal: at,
      symptoms: new Map(),
      lastSeen: at.at,
    };
    this.roots.set(rootKey(root.signal), root);
    return root;
  }

  private recentRootOf(s: AlertSignal, direction: SymptomDirection, since: number): Root | undefined {
    const own = this.roots.get(rootKey(s));
    if (own && own.lastSeen >= since) return own;
    for (const r of this.roots.values())
      if (r.lastSeen >= since && r.signal.kind === s.kind && this.explains(r.signal, s, direction)) return r;
    return undefined;
  }

  /** whether `symptom` is explained by `cause` */
  private explains(cause: Place, symptom: Place, direction: SymptomDirection): boolean {
    if (cause.service === symptom.service) return cause.endpoint !== undefined && symptom.endpoint === undefined;
    if (this.config.across_services !== true || !this.graph) return false;
    return direction === 'callers' ? this.graph.reaches(symptom, cause) : this.graph.reaches(cause, symptom);
  }

  private touch(root: Root): void {
    const key = rootKey(root.signal);
    this.roots.delete(key);
    this.roots.set(key, root);
  }

  private prune(since: number): void {
    for (const [key, r] of this.roots) {
      if (r.lastSeen >= since && this.roots.size <= this.config.max_roots) break;
      this.roots.delete(key);
    }
  }

  snapshot(): FolderState {
    return {
      pending: structuredClone(this.pending),
      roots: [...this.roots.values()].map((r) => ({
        signal: structuredClone(r.signal),
        symptoms: [...r.symptoms],
        lastSeen: r.lastSeen,
      })),
    };
  }

  restore(state: FolderState | undefined): void {
    this.pending = structuredClone(state?.pending ?? []);
    this.roots.clear();
    for (const r of state?.roots ?? [])
      this.roots.set(rootKey(r.signal), { signal: r.signal, symptoms: new Map(r.symptoms), lastSeen: r.lastSeen });
  }
}

/** the head of a summary: up to its first parenthesis or `; ` (`p95 latency 311 ms, expected 140 ± 17 ms`) */
export function summaryHead(summary: string): string {
  const cut = summary.search(/ \(|; /);
  return cut > 0 ? summary.slice(0, cut) : summary;
}

/** how a symptom showed: its place and the head of its summary, e.g. "frontend: p95 latency 311 ms, expected 140 ± 17 ms" */
function showing(s: AlertSignal): string {
  return `${placeOf(s)}: ${summaryHead(s.summary)}`;
}

/** the root cause's latest signal with its symptoms in the summary, a label, a count and a few of their records */
function withSymptoms(root: Root, due: AlertSignal[]): AlertSignal {
  const s = root.signal;
  if (root.symptoms.size === 0) return s;
  const listed = [...root.symptoms.values()];
  const more = listed.length > IN_SUMMARY ? ` and ${listed.length - IN_SUMMARY} more` : '';
  const recordIds = [...s.recordIds];
  let at = s.at;
  for (const d of due) {
    if (d === s || d.kind !== s.kind || !root.symptoms.has(placeOf(d))) continue;
    recordIds.push(...d.recordIds.slice(0, RECORDS_PER_SYMPTOM));
    at = Math.max(at, d.at);
  }
  return {
    ...s,
    at,
    summary: `${s.summary}; also affected: ${listed.slice(0, IN_SUMMARY).join('; ')}${more}`,
    recordIds,
    metrics: { ...s.metrics, affected: root.symptoms.size },
    labels: { ...s.labels, also_affected: listed.slice(0, MAX_LISTED).join('\n') },
  };
}
