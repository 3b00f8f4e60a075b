import type { Alert, AlertSignal } from '../core/alert.js';
import { counter } from '../core/metrics.js';
import type { ApiCallRecord } from '../core/record.js';
import type { Detector, DetectorContext, DetectorDocument, MeshScope, WindowMetrics } from '../detectors/detector.js';
import { KeyInterner } from '../detectors/shared/key-interner.js';
import { templatePath } from '../inventory/path-template.js';
import { AlertManager, type AlertManagerOptions } from './alert-manager.js';
import { CallGraph } from './root-cause/call-graph.js';
import { ServiceEdges } from './root-cause/service-edges.js';
import { parseRootCauseConfig, type RootCauseConfig } from './root-cause/config.js';
import { SubjectFolder, type SubjectFolderState } from './root-cause/subject-folder.js';
import { type FolderState, SymptomFolder } from './root-cause/symptom-folder.js';
import { type SeriesSnapshot, SeriesWindow } from './series-window.js';

export interface ShardOptions extends AlertManagerOptions {
  /** window width (default 60 s) */
  windowMs?: number;
  /** how far behind the newest record a window stays open for late records (default 5 s) */
  latenessMs?: number;
  /** endpoint-level series as well as service-level (default true) */
  endpointSeries?: boolean;
  /** cap on tracked series in this shard (default 50,000) */
  maxSeries?: number;
  /** a series quiet this long (event time) is dropped (default 1 h); quiet windows before that count as zero */
  idleMs?: number;
  /** folding of symptoms into their root cause's alert (root-cause/config.ts; on by default) */
  rootCause?: Partial<RootCauseConfig>;
  /**
   * joined to the mesh, write the calls to this shard's services into the mesh's call graph in the store, for folding
   * symptoms across partitions (root-cause/service-edges.ts; default true; off on the keyed streams, whose records
   * the calls topic's shards see too)
   */
  publishCallGraph?: boolean;
  /**
   * told of a detector that threw on a record or a window (counted in meshward_detector_errors_total; the record or
   * window goes on to the other detectors): the correlator logs it
   */
  onDetectorError?: (detector: string, err: unknown) => void;
}

export interface ShardSnapshot {
  v: 1;
  watermark: number;
  closedUpTo: number;
  series: SeriesSnapshot[];
  detectors: Record<string, unknown>;
  alerts: Alert[];
  /**
   * root-cause folding: signals waiting for their windows to close, recent root causes, the call graph; generic
   * signals held or folded into a specific alert of their subject (absent in checkpoints before subject folding)
   */
  rootCause?: { folder: FolderState; edges: [string, string, number][]; subjects?: SubjectFolderState };
}

export interface ShardOutput {
  alerts: Alert[];
  windows: WindowMetrics[];
}

export interface ShardStats {
  series: number;
  openAlerts: number;
  lateRecords: number;
  evictedSeries: number;
}

const isError = (status: number) => status >= 500 || status === 0;

const detectorErrors = counter(
  'meshward_detector_errors_total',
  "records or windows a detector threw on (a detector's bug): that input is skipped by that detector only",
  ['detector', 'input'],
);

/**
 * The correlator state of one partition: RED windows per service and endpoint, the detectors, and the alert manager.
 * Event time only (record timestamps, and the times advanceTo is given), so the same records in the same order (with
 * the same advances between them) always give the same alerts.
 */
export class Shard {
  private readonly windowMs: number;
  private readonly latenessMs: number;
  private readonly endpointSeries: boolean;
  private readonly maxSeries: number;
  private readonly idleMs: number;
  private readonly series = new Map<string, SeriesWindow>();
  private readonly alerts: AlertManager;
  private readonly graph: CallGraph | undefined;
  /** joined to the mesh: the calls to this shard's services, for the mesh's call graph */
  private edges: ServiceEdges | undefined;
  /** joined to the mesh, the edges it publishes at most (undefined: it publishes none) */
  private readonly publishedEdges: number | undefined;
  private readonly folder: SymptomFolder | undefined;
  private readonly subjectFolder: SubjectFolder | undefined;
  private readonly observers: Detector[];
  private readonly windowed: Detector[];
  private readonly onDetectorError: ((detector: string, err: unknown) => void) | undefined;
  /** detectors that know route templates (the catalogue's) */
  private readonly routers: Detector[];
  private readonly closedWindows: WindowMetrics[] = [];
  private readonly ctx: DetectorContext;
  /** endpoint ids and series keys as the same strings for the same endpoint: hashed once, compared by identity */
  private readonly endpointIds = new KeyInterner(' ');
  private readonly seriesKeys = new KeyInterner('\u0000');
  private watermark = 0;
  private lastRecord: ApiCallRecord | undefined;
  private lastEndpoint = '';
  private closedUpTo = 0;
  private lateRecords = 0;
  private evictedSeries = 0;

  constructor(
    readonly detectors: Detector[],
    opts: ShardOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.latenessMs = opts.latenessMs ?? 5_000;
    this.endpointSeries = opts.endpointSeries ?? true;
    this.maxSeries = opts.maxSeries ?? 50_000;
    this.idleMs = opts.idleMs ?? 3_600_000;
    this.onDetectorError = opts.onDetectorError;
    this.alerts = new AlertManager(opts);
    this.observers = detectors.filter((d) => typeof d.observe === 'function');
    this.windowed = detectors.filter((d) => typeof d.onWindow === 'function');
    this.routers = detectors.filter((d) => typeof d.routeOf === 'function');
    const rootCause = parseRootCauseConfig(opts.rootCause ?? {});
    const publishes = rootCause.enabled && rootCause.across_services !== true && opts.publishCallGraph !== false;
    this.publishedEdges = publishes ? rootCause.max_edges : undefined;
    if (rootCause.enabled) {
      if (rootCause.across_services === true)
        this.graph = new CallGraph({ maxEdges: rootCause.max_edges, traceSample: rootCause.trace_sample });
      this.folder = new SymptomFolder(rootCause, this.graph);
      this.subjectFolder = new SubjectFolder(rootCause, this.graph, this.alerts);
    }
    const alerts = this.alerts;
    const folder = this.folder;
    const subjects = this.subjectFolder;
    this.ctx = {
      emit:
        folder && subjects
          ? (s: AlertSignal) => {
              if (folder.folds(s.kind)) folder.add(s);
              else if (subjects.folds(s.kind)) subjects.add(s);
              else alerts.signal(subjects.decorate(s));
            }
          : (s: AlertSignal) => alerts.signal(s),
      // every detector asks for the endpoint of the record in hand: template its path once
      endpointOf: (r: ApiCallRecord) => {
        if (r !== this.lastRecord) {
          this.lastRecord = r;
          this.lastEndpoint = this.endpointIds.key(r.method, r.route ?? this.knownRoute(r) ?? templatePath(r.path));
        }
        return this.lastEndpoint;
      },
      resolveAfterMs: alerts.resolveAfterMs,
    };
  }

  /** the route a detector knows for the record (a catalogued endpoint's template), else null */
  private knownRoute(r: ApiCallRecord): string | null {
    for (let i = 0; i < this.routers.length; i++) {
      const route = this.routers[i].routeOf?.(r);
      if (route) return route;
    }
    return null;
  }

  process(r: ApiCallRecord): void {
    if (r.ts > this.watermark) this.advanceTo(r.ts);
    const err = isError(r.status);
    this.addTo(r.service, undefined, r, err);
    if (this.endpointSeries) this.addTo(r.service, this.ctx.endpointOf(r), r, err);
    if (this.graph?.sampled(r)) this.graph.observe(r, this.ctx.endpointOf(r));
    if (this.edges !== undefined && r.source.service !== undefined) this.edges.observe(r);
    for (let i = 0; i < this.observers.length; i++) {
      const d = this.observers[i];
      try {
        d.observe?.(r, this.ctx);
      } catch (err) {
        this.detectorFailed(d, 'record', err);
      }
    }
  }

  /** the event time the shard has reached: the newest record's timestamp, or where advanceTo moved it (0: none yet) */
  eventTime(): number {
    return this.watermark;
  }

  /**
   * Moves event time to `eventTime` as a record of that timestamp would, without one: the windows it passes close
   * (quiet series as zero windows), waiting symptoms and held signals are released, quiet alerts resolve. The
   * correlator's idle watermark calls it for a partition whose traffic stopped; a time not past the watermark is a
   * no-op.
   */
  advanceTo(eventTime: number): void {
    if (eventTime <= this.watermark) return;
    this.watermark = eventTime;
    const boundary = Math.floor((this.watermark - this.latenessMs) / this.windowMs) * this.windowMs;
    if (boundary > this.closedUpTo) this.closeUpTo(boundary);
    else if (this.watermark >= (this.subjectFolder?.nextDue ?? Number.POSITIVE_INFINITY))
      this.subjectFolder?.flush(this.watermark);
  }

  /**
   * a detector's bug on one input (a record or a window it did not expect) costs that input for that detector only:
   * thrown out of the shard, it would fail the whole batch, which the bus hands back again and again
   */
  private detectorFailed(d: Detector, input: 'record' | 'window', err: unknown): void {
    detectorErrors.inc({ detector: d.type, input });
    this.onDetectorError?.(d.type, err);
  }

  private addTo(service: string, endpoint: string | undefined, r: ApiCallRecord, err: boolean): void {
    const key = endpoint === undefined ? service : this.seriesKeys.key(service, endpoint);
    let s = this.series.get(key);
    const start = Math.floor(r.ts / this.windowMs) * this.windowMs;
    if (s === undefined) {
      if (this.series.size >= this.maxSeries) this.evictIdlest();
      s = new SeriesWindow(service, endpoint, Math.max(start, this.closedUpTo));
      this.series.set(key, s);
    }
    if (r.ts < s.start) {
      this.lateRecords++;
      return;
    }
    if (r.ts >= s.start + this.windowMs) this.roll(s, start);
    s.add(r.ts, r.durationMs, err, r.id);
  }

  /** closes the series' windows up to (not including) `until`, quiet ones as zero windows */
  private roll(s: SeriesWindow, until: number): void {
    const maxGap = 60;
    let emitted = 0;
    while (s.start + this.windowMs <= until) {
      const w = s.close(this.windowMs, s.start + this.windowMs);
      this.onWindow(w);
      if (++emitted >= maxGap && s.start + this.windowMs <= until) {
        s.start = until; // a long silence: skip the rest of the gap
        break;
      }
    }
  }

  private onWindow(w: WindowMetrics): void {
    this.closedWindows.push(w);
    for (let i = 0; i < this.windowed.length; i++) {
      const d = this.windowed[i];
      try {
        d.onWindow?.(w, this.ctx);
      } catch (err) {
        this.detectorFailed(d, 'window', err);
      }
    }
  }

  private closeUpTo(boundary: number): void {
    this.closedUpTo = boundary;
    for (const [key, s] of this.series) {
      if (s.lastTs < boundary - this.idleMs) {
        this.series.delete(key);
        continue;
      }
      if (s.start + this.windowMs <= boundary) this.roll(s, boundary);
    }
    if (this.folder)
      for (const s of this.folder.flush(boundary)) this.alerts.signal(this.subjectFolder?.decorate(s) ?? s);
    this.alerts.sweep(this.watermark);
    this.subjectFolder?.flush(this.watermark);
  }

  private evictIdlest(): void {
    // drop the quietest tenth: amortises the scan over many insertions
    const byLast = [...this.series.entries()].sort((a, b) => a[1].lastTs - b[1].lastTs);
    const n = Math.max(1, Math.floor(byLast.length / 10));
    for (let i = 0; i < n; i++) this.series.delete(byLast[i][0]);
    this.evictedSeries += n;
  }

  /** alerts changed and windows closed since the last drain */
  drain(): ShardOutput {
    const windows = this.closedWindows.splice(0);
    return { alerts: this.alerts.drain(), windows };
  }

  /** at each checkpoint: the detectors take up what changed outside the records (Detector.refresh) */
  refresh(): void {
    for (const d of this.detectors) d.refresh?.();
  }

  /**
   * the correlator has several partitions: the detectors that count across them learn where the shards meet (before
   * restore and the first record), and the shard writes the calls to its services into the mesh's call graph
   */
  joinMesh(scope: MeshScope): void {
    for (const d of this.detectors) d.joinMesh?.(scope);
    if (this.publishedEdges !== undefined) this.edges = new ServiceEdges(scope, this.publishedEdges);
  }

  /**
   * the detectors write their shares of the counts across partitions and signal what the totals reached (drain takes
   * the alerts); the calls seen since the last sync go to the mesh's call graph. A store failure stops it and throws: the next sync writes what is left
   */
  async syncMesh(): Promise<void> {
    for (const d of this.detectors) await d.syncMesh?.(this.ctx);
    await this.edges?.publish();
  }

  /** the store hashes of analysts' feedback the detectors learn from */
  feedbackKeys(): string[] {
    return [...new Set(this.detectors.flatMap((d) => (d.feedbackKey ? [d.feedbackKey] : [])))];
  }

  feedback(key: string, entries: Record<string, string>): void {
    for (const d of this.detectors) {
      if (d.feedbackKey !== key || !d.onFeedback) continue;
      for (const [id, raw] of Object.entries(entries)) {
        try {
          d.onFeedback(id, JSON.parse(raw));
        } catch {
          // a malformed feedback entry is skipped; the API validates what it writes
        }
      }
    }
  }

  /** detector documents changed since the last call (inventory entries, …) */
  documents(): DetectorDocument[] {
    const out: DetectorDocument[] = [];
    for (const d of this.detectors) if (d.documents) out.push(...d.documents());
    return out;
  }

  stats(): ShardStats {
    return {
      series: this.series.size,
      openAlerts: this.alerts.openCount,
      lateRecords: this.lateRecords,
      evictedSeries: this.evictedSeries,
    };
  }

  snapshot(): ShardSnapshot {
    const detectors: Record<string, unknown> = {};
    for (const d of this.detectors) detectors[d.type] = d.snapshot();
    return {
      v: 1,
      watermark: this.watermark,
      closedUpTo: this.closedUpTo,
      series: [...this.series.values()].map((s) => s.snapshot()),
      detectors,
      alerts: this.alerts.snapshot(),
      ...(this.folder
        ? {
            rootCause: {
              folder: this.folder.snapshot(),
              edges: this.graph?.snapshot() ?? [],
              ...(this.subjectFolder ? { subjects: this.subjectFolder.snapshot() } : {}),
            },
          }
        : {}),
    };
  }

  restore(snap: ShardSnapshot): void {
    this.watermark = snap.watermark;
    this.closedUpTo = snap.closedUpTo;
    this.series.clear();
    for (const s of snap.series) {
      const key = s.endpoint === undefined ? s.service : `${s.service}\u0000${s.endpoint}`;
      this.series.set(key, SeriesWindow.restore(s));
    }
    for (const d of this.detectors) if (snap.detectors[d.type] !== undefined) d.restore(snap.detectors[d.type]);
    this.alerts.restore(snap.alerts);
    this.folder?.restore(snap.rootCause?.folder);
    this.subjectFolder?.restore(snap.rootCause?.subjects);
    this.graph?.restore(snap.rootCause?.edges ?? []);
  }
}
