import type { Alert } from '../core/alert.js';
import { counter } from '../core/metrics.js';
import { partitionedBus } from '../bus/keyed-streams.js';
import type { MeshwardConfig } from '../config/schema.js';
import { parseRootCauseConfig, type SymptomDirection } from '../correlator/root-cause/config.js';
import { callGraphKey, EDGE_SEP } from '../correlator/root-cause/service-edges.js';
import { summaryHead } from '../correlator/root-cause/symptom-folder.js';
import type { Store } from '../store/store.js';
import type { AlertRepository } from './alert-repository.js';

const folds = counter(
  'meshward_api_alerts_folded_total',
  'alerts folded into the alert of their root cause across partitions (root-cause folding by the API)',
);

export interface MeshFolderOptions {
  /** the correlators' consumer group: the call graph they write is `callgraph:<group>` */
  group: string;
  /** kind → where its symptoms show (correlator.root_cause.symptoms_at) */
  symptomsAt: Readonly<Record<string, SymptomDirection | 'none'>>;
  /**
   * generic kind → the specific kinds an alert of the same subject it folds into (correlator.root_cause
   * .subjects_fold_into; absent: none)
   */
  subjectsFoldInto?: Readonly<Record<string, readonly string[] | 'none'>>;
  /** a symptom joins a root cause whose alert was seen within this long of it (correlator.root_cause.fold_within_seconds) */
  foldWithinMs: number;
  /** the call graph is read again at most this often (default 5 s) */
  graphRefreshMs?: number;
  /**
   * an alert stored again (a correlator refreshes an open alert as it goes on) is compared again at most this often
   * (default 60 s): each comparison reads the recent open alerts
   */
  reconsiderMs?: number;
}

/** open alerts of one kind compared with a new one at most */
const CANDIDATES = 200;
/** alerts whose last comparison is remembered (for reconsiderMs), the least recently compared dropped first */
const REMEMBERED = 10_000;
/** an edge last seen longer than this before an alert does not link it (the mesh changed since) */
const EDGE_MAX_AGE_MS = 7 * 86_400_000;

/**
 * Root-cause folding across partitions. A correlator shard folds a symptom into its root cause when it sees both
 * (root-cause/symptom-folder.ts), but with several partitions (Kafka) a slow backend and its slowed callers are
 * often on different shards, and each raises its own alert. The API sees every alert: when one of a kind with
 * symptoms (`symptoms_at`) is stored open, the open alerts of that kind at other services within `fold_within` are
 * compared with it along the mesh's call graph (which the correlator shards write to the store,
 * root-cause/service-edges.ts), in the kind's direction as the shards do (`latency_spike`, `error_burst` show at the
 * callers of the hop at fault; `traffic_spike`, `traffic_drop` at the callees): it is folded into the root cause it
 * is a symptom of (the end of the chain), or the open alerts that are its symptoms are folded into it. A folded alert
 * is resolved, names its root (`foldedInto`, a note), and stays folded whatever its correlator refreshes; the root lists
 * it (`folded`). Subject folding likewise (`subjects_fold_into`): a generic alert of a subject (`excessive_calls`,
 * `bulk_data_access`) is folded into the same subject's open alert of a specific kind that a shard would have folded
 * it into, had it seen both (planSubject). A sink leaves out what is folded (isFolded). Two alerts stored at the same instant by two API replicas may stay
 * unfolded: the safe side.
 */
export class MeshFolder {
  /** the call graph as last read: caller → [callee, last seen] */
  private graph: { at: number; edges: Map<string, [string, number][]> } | undefined;
  private readonly refreshMs: number;
  private readonly reconsiderMs: number;
  /** alert id → when it was last compared (wall time), oldest first */
  private readonly considered = new Map<string, number>();
  /** the generic kinds (that fold into others), and the specific ones (that others fold into) */
  private readonly genericKinds: Set<string>;
  private readonly specificKinds: Set<string>;

  constructor(
    private readonly store: Store,
    private readonly alerts: AlertRepository,
    private readonly opts: MeshFolderOptions,
  ) {
    this.refreshMs = opts.graphRefreshMs ?? 5_000;
    this.reconsiderMs = opts.reconsiderMs ?? 60_000;
    ({ generic: this.genericKinds, specific: this.specificKinds } = kindSetsOf(opts.subjectsFoldInto));
  }

  /** whether alerts of this kind are folded, or folded into */
  folds(kind: string): boolean {
    const at = this.opts.symptomsAt[kind];
    return (at !== undefined && at !== 'none') || this.genericKinds.has(kind) || this.specificKinds.has(kind);
  }

  /**
   * an alert was stored: fold it into its root cause, or its symptoms into it (an open one of a kind that folds). How
   * many alerts were folded
   */
  async consider(a: Alert): Promise<number> {
    if (a.state !== 'open' || a.foldedInto !== undefined || !this.folds(a.kind) || !this.due(a.id)) return 0;
    const { root, symptoms } = await this.plan(a);
    if (root) return (await this.fold(a, root)) ? 1 : 0;
    let n = 0;
    for (const b of symptoms) if (await this.fold(b, a)) n++;
    return n;
  }

  /** whether the alert is compared now: never yet, or not for reconsiderMs */
  private due(id: string): boolean {
    const now = Date.now();
    const last = this.considered.get(id);
    if (last !== undefined && now - last < this.reconsiderMs) return false;
    this.considered.delete(id);
    this.considered.set(id, now);
    if (this.considered.size > REMEMBERED) this.considered.delete(this.considered.keys().next().value as string);
    return true;
  }

  /** the open alerts not folded that overlap `a` within fold_within, of these kinds (and of its subject when given) */
  private async overlapping(a: Alert, kinds: ReadonlySet<string>, subject: boolean): Promise<Alert[]> {
    const within = this.opts.foldWithinMs;
    const filter = {
      state: 'open' as const,
      from: a.firstSeen - within,
      ...(kinds.size === 1 ? { kind: [...kinds][0] } : {}),
      ...(subject && a.subject ? { subject: a.subject.value } : {}),
    };
    const page = await this.alerts.list(filter, CANDIDATES);
    return page.items.filter(
      (b) =>
        b.id !== a.id &&
        kinds.has(b.kind) &&
        b.foldedInto === undefined &&
        (!subject || b.subject?.type === a.subject?.type) &&
        a.lastSeen >= b.firstSeen - within,
    );
  }

  /**
   * whether an alert is, or would now be, folded into another (sinks and the policy engine leave such an alert out, as
   * one shard would never have raised it): folded already, or, not stored yet (the API has not compared it), a
   * symptom of an open root cause stored before it. One read for an alert stored (a refresh); nothing is written
   */
  async isFolded(a: Alert): Promise<boolean> {
    const stored = await this.alerts.get(a.id);
    if (stored) return stored.foldedInto !== undefined;
    if (a.state !== 'open' || !this.folds(a.kind)) return false;
    return (await this.plan(a)).root !== undefined;
  }

  /** what folding `a` would do: fold it into `root`, or fold `symptoms` into it */
  private async plan(a: Alert): Promise<{ root?: Alert; symptoms: Alert[] }> {
    const direction = this.opts.symptomsAt[a.kind];
    if (direction !== undefined && direction !== 'none') return this.planSymptom(a, direction);
    if (a.subject !== undefined && (this.genericKinds.has(a.kind) || this.specificKinds.has(a.kind)))
      return this.planSubject(a);
    return { symptoms: [] };
  }

  /** a metric alert: the root cause it is a symptom of (the end of the chain), else its open symptoms */
  private async planSymptom(a: Alert, direction: SymptomDirection): Promise<{ root?: Alert; symptoms: Alert[] }> {
    const others = (await this.overlapping(a, new Set([a.kind]), false)).filter((b) => b.service !== a.service);
    if (others.length === 0) return { symptoms: [] };
    const reaches = await this.reachability(Math.min(a.firstSeen, ...others.map((b) => b.firstSeen)));
    const explains = (cause: Alert, symptom: Alert): boolean =>
      direction === 'callers' ? reaches(symptom.service, cause.service) : reaches(cause.service, symptom.service);
    let root: Alert | undefined;
    const seen = new Set<Alert>([a]);
    for (let at = a; ; ) {
      const by = others.find((b) => !seen.has(b) && explains(b, at));
      if (!by) break;
      seen.add(by);
      root = by;
      at = by;
    }
    return root ? { root, symptoms: [] } : { symptoms: others.filter((b) => explains(a, b)) };
  }

  /**
   * A generic alert of a subject (how much it takes: excessive_calls, bulk_data_access) is folded into an open alert
   * of the same subject of a kind it folds into (what kind of taking it is: enumeration, fan_out, …), as a shard
   * folds it when it sees both: at the same service and endpoint (where both name one) — across partitions when one
   * runs on a keyed stream (fan_out) — or at a caller of its service along the mesh's call graph (the walk at the
   * front end, its calls at a backend). A specific alert stored later takes the open generic alerts it covers
   */
  private async planSubject(a: Alert): Promise<{ root?: Alert; symptoms: Alert[] }> {
    /** the kinds `a` folds into, and those that fold into it (bulk_data_access: both, itself among them) */
    const into = this.specificOf(a.kind);
    const from = new Set(this.genericOf(a.kind));
    const others = await this.overlapping(a, new Set([...into, ...from]), true);
    if (others.length === 0) return { symptoms: [] };
    const reaches = await this.reachability(Math.min(a.firstSeen, ...others.map((b) => b.firstSeen)));
    /** whether the specific alert covers the generic one: the same place, or at a caller of its service */
    const covers = (spec: Alert, gen: Alert): boolean =>
      spec.service === gen.service
        ? spec.kind !== gen.kind &&
          (spec.endpoint === undefined || gen.endpoint === undefined || spec.endpoint === gen.endpoint)
        : reaches(spec.service, gen.service);
    const root = others.find((b) => into.has(b.kind) && covers(b, a));
    return root ? { root, symptoms: [] } : { symptoms: others.filter((b) => from.has(b.kind) && covers(a, b)) };
  }

  /** the kinds a generic kind folds into (none for a kind that is not generic) */
  private specificOf(kind: string): Set<string> {
    const into = this.opts.subjectsFoldInto?.[kind];
    return new Set(into === undefined || into === 'none' ? [] : into);
  }

  /** the generic kinds that fold into this kind */
  private genericOf(kind: string): string[] {
    return Object.entries(this.opts.subjectsFoldInto ?? {})
      .filter(([, into]) => into !== 'none' && into.includes(kind))
      .map(([generic]) => generic);
  }

  private async fold(symptom: Alert, root: Alert): Promise<boolean> {
    const done = await this.alerts.fold(symptom.id, root.id, summaryHead(symptom.summary));
    if (done) folds.inc();
    return done;
  }

  /** whether one service calls another through the mesh, from the call graph the shards wrote (read every few s) */
  private async reachability(since: number): Promise<(from: string, to: string) => boolean> {
    const now = Date.now();
    if (!this.graph || now - this.graph.at >= this.refreshMs) {
      const raw = await this.store.hgetall(callGraphKey(this.opts.group));
      const edges = new Map<string, [string, number][]>();
      for (const [edge, ts] of Object.entries(raw)) {
        const cut = edge.indexOf(EDGE_SEP);
        if (cut <= 0) continue;
        const from = edge.slice(0, cut);
        const list = edges.get(from) ?? [];
        list.push([edge.slice(cut + 1), Number(ts)]);
        edges.set(from, list);
      }
      this.graph = { at: now, edges };
    }
    const adjacency = this.graph.edges;
    return (from, to) => {
      const seen = new Set<string>([from]);
      const queue = [from];
      for (let i = 0; i < queue.length; i++)
        for (const [next, ts] of adjacency.get(queue[i]) ?? []) {
          if (ts < since - EDGE_MAX_AGE_MS || seen.has(next)) continue;
          if (next === to) return true;
          seen.add(next);
          queue.push(next);
        }
      return false;
    };
  }
}

function kindSetsOf(foldInto: MeshFolderOptions['subjectsFoldInto']): { generic: Set<string>; specific: Set<string> } {
  const generic = new Set<string>();
  const specific = new Set<string>();
  for (const [kind, into] of Object.entries(foldInto ?? {})) {
    if (into === 'none') continue;
    generic.add(kind);
    for (const k of into) specific.add(k);
  }
  return { generic, specific };
}

/**
 * the API's root-cause folding across partitions (MeshFolder): where a correlator's shards see only part of the
 * services (Kafka, or an embedded bus of several partitions) and root-cause folding is on and not turned off across
 * services; undefined elsewhere (one shard sees every service and folds there)
 */
export function meshFolderOf(config: MeshwardConfig, store: Store, alerts: AlertRepository): MeshFolder | undefined {
  const rootCause = parseRootCauseConfig(config.correlator.root_cause ?? {});
  if (!partitionedBus(config.bus) || !rootCause.enabled || rootCause.across_services === false) return undefined;
  return new MeshFolder(store, alerts, {
    group: config.correlator.group_id,
    symptomsAt: rootCause.symptoms_at,
    subjectsFoldInto: rootCause.subjects_fold_into,
    foldWithinMs: rootCause.fold_within_seconds * 1000,
  });
}
