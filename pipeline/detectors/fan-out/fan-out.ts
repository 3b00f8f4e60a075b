import type { AlertSubject } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext, MeshScope, WindowMetrics } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { inChunks } from '../shared/in-chunks.js';
import { Ewma, safeRestore } from '../shared/detector-kit.js';
import { isLive, PendingRefreshes } from '../shared/live-alert.js';
import { actorOf, appendTo, isMeshHop, pushEvidence } from '../shared/record-fields.js';
import type { FanOutConfig } from './config.js';
import { type EpisodeTotals, episodeKey, type Part, readEpisode, totalsOf, writePart } from './shared-alerts.js';

interface PendingTrace {
  /** when the trace was first seen (event time) */
  opened: number;
  /** the front-end call, once seen */
  root?: { id: string; ts: number; service: string; endpoint: string; subject?: AlertSubject };
  calls: number;
  alerted: boolean;
  /** the key of the alert its calls count into, once alerted (absent in a checkpoint of the previous version) */
  alert?: string;
}

/**
 * What an alert stands for: the amplified requests of one front-end endpoint by one subject while the alert is live,
 * with every backend call each of them made, from the first request to the last call
 */
interface AmplificationAlert {
  service: string;
  endpoint: string;
  subject: AlertSubject | undefined;
  from: number;
  to: number;
  signalledAt: number;
  requests: number;
  calls: number;
  /** the most backend calls of one of them */
  max: number;
  /** the first few trace ids */
  traces: string[];
  evidence: string[];
  /** the endpoint's usual backend calls per request, and the threshold, when it was raised */
  mean: number;
  std: number;
  threshold: number;
  /** counted across partitions (joinMesh): the episode it joined in the store (its since), once it did */
  episode?: number;
  /** ... whether this partition signals it */
  owner?: boolean;
  /** ... the episode's last call as the store held it at the last sync */
  last?: number;
  /** ... what its last signal said (`requests:calls:max:last`) */
  said?: string;
}

const EWMA_ALPHA = 0.01;
const MAX_TRACES = 4;

const alertKeyOf = (root: NonNullable<PendingTrace['root']>): string =>
  `${root.service}\u0000${root.endpoint}\u0000${root.subject ? `${root.subject.type}:${root.subject.value}` : ''}`;

/**
 * Amplification: a front-end request that fans out into far more backend calls than that endpoint usually causes.
 * Records are stitched by trace id into a bounded table of open traces; a trace closes `trace_ttl_ms` after it
 * opened (event time), folding its call count into the endpoint's baseline. The alert fires as soon as an open
 * trace crosses the threshold, not at close.
 *
 * The alert counts every backend call of the requests it stands for: raised at the call that crosses the threshold,
 * it is refreshed by the trace's later calls (at most once a second of event time, the rest when the front-end
 * service's metrics window closes), and another amplified request of the same endpoint by the same subject while it is
 * live counts into it (`requests`, `backend_calls` in all, `max_backend_calls` of one). Once they stop for the resolve
 * window it resolves; a later amplified request raises the next alert.
 *
 * On the trace stream of several partitions (joinMesh), one front end's amplified requests reach every partition
 * their traces hash to, and each shard counts its own: one alert says what they all counted. Each shard writes its
 * part into the alert's episode in the store at syncMesh (shared-alerts.ts); the first to claim the episode signals it
 * with every partition's parts summed, at each sync that changed them, and the others signal nothing.
 */
export class FanOutDetector implements Detector {
  readonly type = 'fan_out';
  /** open traces in the order they opened (no cap here: observe() closes the oldest early past max_pending) */
  private readonly pending = new BoundedMap<string, PendingTrace>(Number.POSITIVE_INFINITY);
  private readonly baselines: BoundedMap<string, Ewma>;
  /** alerts by (front-end service, endpoint, subject): the live ones, and ended ones until replaced or evicted */
  private readonly alerts: BoundedMap<string, AmplificationAlert>;
  /** alerts (by key) that counted calls they do not report yet: their front-end service, and endpoint */
  private readonly unreported = new PendingRefreshes<string>();
  private now = 0;
  private closedEarly = 0;
  private orphans = 0;
  /** joinMesh: the partitions' scope, the alerts whose part is still to be written, those this partition signals */
  private mesh?: MeshScope;
  private readonly unwritten = new Set<string>();
  private readonly owned = new Set<string>();
  private meshWrites = 0;
  private meshConflicts = 0;

  constructor(private readonly config: FanOutConfig) {
    this.baselines = new BoundedMap(config.max_endpoints);
    this.alerts = new BoundedMap(config.max_endpoints);
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    const traceId = r.trace?.traceId;
    if (!traceId) return;
    if (r.ts > this.now) {
      this.now = r.ts;
      this.closeExpired();
    }
    let t = this.pending.peek(traceId);
    if (!t) {
      t = { opened: r.ts, calls: 0, alerted: false };
      this.pending.set(traceId, t, r.ts);
      if (this.pending.size > this.config.max_pending) {
        this.close(this.pending.oldestKey()!, this.pending.oldestValue()!);
        this.closedEarly++;
      }
    }
    const isRoot = !r.trace?.parentSpanId && !isMeshHop(r);
    if (isRoot) {
      t.root = { id: r.id, ts: r.ts, service: r.service, endpoint: ctx.endpointOf(r), subject: actorOf(r) };
    } else {
      t.calls++;
      if (t.alert !== undefined) {
        this.extend(t, t.alert, r, ctx);
        return;
      }
    }
    if (t.root && !t.alerted && t.calls >= this.config.min_calls) this.check(t, traceId, ctx, r);
  }

  private threshold(b: Ewma | undefined): number | undefined {
    if (!b || b.n < this.config.min_traces) return undefined;
    return Math.max(this.config.min_calls, b.mean * this.config.factor, b.mean + this.config.sigma_k * b.std);
  }

  /** an open trace's call: past the threshold, the trace counts into its endpoint and subject's alert */
  private check(t: PendingTrace, traceId: string, ctx: DetectorContext, r: ApiCallRecord): void {
    const root = t.root!;
    const b = this.baselines.peek(root.endpoint);
    const limit = this.threshold(b);
    if (limit === undefined || t.calls <= limit) return;
    t.alerted = true;
    const key = alertKeyOf(root);
    t.alert = key;
    const live = this.alerts.peek(key);
    if (live !== undefined && this.stillLive(live, r.ts, ctx)) {
      // another amplified request while the alert is live: it counts into it
      live.requests++;
      if (live.traces.length < MAX_TRACES) live.traces = appendTo(live.traces, traceId);
      live.evidence = pushEvidence(pushEvidence(live.evidence, root.id), r.id);
      live.calls += t.calls - 1;
      this.extend(t, key, r, ctx);
      return;
    }
    const a: AmplificationAlert = {
      service: root.service,
      endpoint: root.endpoint,
      subject: root.subject,
      from: root.ts,
      to: r.ts,
      signalledAt: -1,
      requests: 1,
      calls: t.calls,
      max: t.calls,
      traces: [traceId],
      evidence: r.id === root.id ? [root.id] : [root.id, r.id],
      mean: b!.mean,
      std: b!.std,
      threshold: limit,
    };
    this.alerts.set(key, a, r.ts);
    if (this.mesh) this.unwritten.add(key);
    else this.signal(a, ctx);
  }

  /**
   * whether an amplified request at `ts` counts into the alert: it is open. Across partitions, open while any
   * partition's calls count into its episode (as this shard last read it)
   */
  private stillLive(a: AmplificationAlert, ts: number, ctx: DetectorContext): boolean {
    if (!this.mesh) return isLive(a.signalledAt, ts, ctx);
    return ctx.resolveAfterMs === undefined || ts - Math.max(a.to, a.last ?? a.to) < ctx.resolveAfterMs;
  }

  /** a backend call of an alerted trace: counted into its alert, refreshed when due */
  private extend(t: PendingTrace, key: string, r: ApiCallRecord, ctx: DetectorContext): void {
    const a = this.alerts.peek(key);
    if (a === undefined) return;
    a.calls++;
    if (t.calls > a.max) a.max = t.calls;
    if (r.ts > a.to) a.to = r.ts;
    if (this.mesh) this.unwritten.add(key);
    else if (this.unreported.refresh(key, a.service, a.endpoint, r.ts, a.signalledAt)) this.signal(a, ctx);
  }

  /** a service's window closed: its endpoints' alerts report the calls they have not yet */
  onWindow(w: WindowMetrics, ctx: DetectorContext): void {
    this.unreported.onWindow(w, (key) => {
      const a = this.alerts.peek(key);
      if (a && a.to > a.signalledAt) this.signal(a, ctx);
    });
  }

  /**
   * raises or refreshes the alert with all it counts, at its last call; across partitions (`shared`), with what every
   * partition counted into its episode (the evidence records stay this shard's)
   */
  private signal(a: AmplificationAlert, ctx: DetectorContext, shared?: EpisodeTotals): void {
    const { requests, calls, max, from, to } = shared
      ? { ...shared, from: shared.since, to: shared.last }
      : { requests: a.requests, calls: a.calls, max: a.max, from: a.from, to: a.to };
    const traces = shared ? [...new Set([...a.traces, ...shared.traces])].slice(0, MAX_TRACES) : a.traces;
    a.signalledAt = to;
    const usually = a.mean.toFixed(1);
    ctx.emit({
      kind: 'fan_out',
      severity: 'medium',
      service: a.service,
      endpoint: a.endpoint,
      subject: a.subject,
      at: to,
      ...(shared ? { since: shared.since } : {}),
      summary:
        requests === 1
          ? `one ${a.endpoint} request caused ${calls} backend calls (usually ${usually})`
          : `${requests} ${a.endpoint} requests caused ${calls} backend calls, up to ${max} for one (usually ${usually} per request)`,
      expected: `about ${usually} ± ${a.std.toFixed(1)} backend calls per request (threshold ${Math.ceil(a.threshold)})`,
      observed: `${calls} backend calls in ${requests === 1 ? `trace ${traces[0]}` : `${requests} traces (${traces.join(', ')}${requests > traces.length ? ', …' : ''})`} from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`,
      recordIds: [...a.evidence],
      metrics: {
        backend_calls: calls,
        requests,
        max_backend_calls: max,
        span_s: (to - from) / 1000,
        baseline_mean: a.mean,
        baseline_std: a.std,
        threshold: a.threshold,
        ...(shared && shared.partitions > 1 ? { partitions: shared.partitions } : {}),
      },
    });
  }

  joinMesh(scope: MeshScope): void {
    this.mesh = scope;
  }

  /**
   * Across partitions: writes the part of each alert that counted calls since the last sync into its episode, and
   * signals those this partition signals whose totals changed (its own part or another's). A store failure throws;
   * what was not written is written at the next sync
   */
  async syncMesh(ctx: DetectorContext): Promise<void> {
    const mesh = this.mesh;
    if (!mesh) return;
    await inChunks([...new Set([...this.unwritten, ...this.owned])], (key) => this.syncAlert(mesh, key, ctx));
  }

  private async syncAlert(mesh: MeshScope, key: string, ctx: DetectorContext): Promise<void> {
    const a = this.alerts.peek(key);
    if (a === undefined) {
      this.unwritten.delete(key);
      this.owned.delete(key);
      return;
    }
    const storeKey = episodeKey(mesh, key);
    let episode: Awaited<ReturnType<typeof readEpisode>>;
    if (this.unwritten.delete(key)) {
      const part: Part = [a.requests, a.calls, a.max, a.traces[0]];
      try {
        const written = await writePart(
          mesh,
          storeKey,
          { from: a.from, to: a.to, part, episode: a.episode },
          ctx.resolveAfterMs,
          episodeTtlMs(ctx),
        );
        this.meshWrites++;
        this.meshConflicts += written.conflicts;
        episode = written.episode;
      } catch (err) {
        this.unwritten.add(key);
        throw err;
      }
      a.episode = episode.since;
      a.owner = episode.p === mesh.partition;
    } else {
      episode = await readEpisode(mesh, storeKey);
      // replaced by a later episode, or expired: this partition signals it no more
      if (episode === undefined || episode.since !== a.episode) {
        this.owned.delete(key);
        return;
      }
    }
    a.last = episode.last;
    if (!a.owner) {
      this.owned.delete(key);
      return;
    }
    // an ended episode is read no more; a later call of this partition's writes (and reads) it again
    if (ctx.resolveAfterMs !== undefined && this.now - episode.last >= ctx.resolveAfterMs) this.owned.delete(key);
    else this.owned.add(key);
    const totals = totalsOf(episode, mesh.partition);
    const said = `${totals.requests}:${totals.calls}:${totals.max}:${totals.last}`;
    if (said === a.said) return;
    a.said = said;
    this.signal(a, ctx, totals);
  }

  private closeExpired(): void {
    for (let t = this.pending.oldestValue(); t !== undefined; t = this.pending.oldestValue()) {
      if (this.now - t.opened <= this.config.trace_ttl_ms) break;
      this.close(this.pending.oldestKey()!, t);
    }
  }

  private close(id: string, t: PendingTrace): void {
    this.pending.delete(id);
    if (!t.root) {
      this.orphans++;
      return;
    }
    // anomalous traces stay out of the baseline so an attack cannot teach it
    if (!t.alerted) this.baselines.upsert(t.root.endpoint, t.root.ts, () => new Ewma(EWMA_ALPHA)).push(t.calls);
  }

  snapshot(): unknown {
    return {
      v: 1,
      now: this.now,
      pending: [...this.pending.entries()],
      baselines: this.baselines.dump((b) => b.toJSON()),
      alerts: this.alerts.dump((a) => a),
      unreported: this.unreported.dump(),
      unwritten: [...this.unwritten],
      owned: [...this.owned],
      closedEarly: this.closedEarly,
      orphans: this.orphans,
    };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        this.pending.clear();
        for (const [k, v] of s.pending as [string, PendingTrace][]) this.pending.set(k, v, 0);
        this.baselines.load(s.baselines as [string, [number, number, number], number][], (j) =>
          Ewma.from(EWMA_ALPHA, j),
        );
        // absent in a checkpoint of the previous version: an alert it raised is not refreshed (its trace closes
        // within trace_ttl_ms), and the next amplified request raises anew
        this.alerts.load((s.alerts ?? []) as [string, AmplificationAlert, number][], (a) => a);
        this.unreported.load(s.unreported);
        this.unwritten.clear();
        this.owned.clear();
        for (const k of (s.unwritten ?? []) as string[]) this.unwritten.add(k);
        for (const k of (s.owned ?? []) as string[]) this.owned.add(k);
        this.now = Number(s.now) || 0;
        this.closedEarly = Number(s.closedEarly) || 0;
        this.orphans = Number(s.orphans) || 0;
      },
      () => {
        this.pending.clear();
        this.baselines.clear();
        this.alerts.clear();
        this.unreported.clear();
        this.unwritten.clear();
        this.owned.clear();
        this.now = 0;
      },
    );
  }

  stats(): Record<string, number> {
    return {
      open_traces: this.pending.size,
      traces_closed_early: this.closedEarly,
      traces_without_root: this.orphans,
      endpoints: this.baselines.size,
      endpoints_evicted: this.baselines.evicted,
      ...(this.mesh
        ? {
            shared_unwritten: this.unwritten.size,
            shared_signalling: this.owned.size,
            shared_writes: this.meshWrites,
            shared_conflicts: this.meshConflicts,
          }
        : {}),
    };
  }
}

/** an episode outlives its alert's resolve window (event time) in the store (wall time): at least an hour */
const episodeTtlMs = (ctx: DetectorContext): number => Math.max(2 * (ctx.resolveAfterMs ?? 0), 3_600_000);
