import type { AlertSubject } from '../../core/alert.js';
import { durationText } from '../../core/duration-text.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext, WindowMetrics } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { CountMinSketch } from '../shared/count-min.js';
import { Ewma, safeRestore } from '../shared/detector-kit.js';
import {
  addDistinct,
  copyDistinct,
  countDistinct,
  type DistinctSet,
  type DistinctSetJson,
  distinctFromJson,
  distinctToJson,
  emptyDistinct,
} from '../shared/distinct-set.js';
import { flat } from '../shared/key-interner.js';
import { isLive, PendingRefreshes } from '../shared/live-alert.js';
import { actorOf, pushEvidence } from '../shared/record-fields.js';
import { RouteShapes } from '../shared/route-shapes.js';
import type { EnumerationConfig } from './config.js';

/** one subject's requests naming objects on one endpoint, in a window of window_ms from the first */
interface SubjectWindow extends DistinctSet {
  start: number;
  /** requests in the window naming an object */
  requests: number;
  /**
   * it raised an alert, or belongs to a walk whose alert was live when it opened: it raises none, and stays out of
   * the endpoint's baseline once that is past its warm-up
   */
  alerted: boolean;
  evidence: string[];
  /** the walk's alert while it is live: raised in this window or an earlier one, carried on as windows roll */
  alert: WalkAlert | undefined;
}

/**
 * The walk an alert stands for: every object the subject named on the endpoint from the start of the window that
 * raised it, on through the windows after while the alert is live (refreshed, so it stays open while the walk goes on)
 */
interface WalkAlert extends DistinctSet {
  service: string;
  endpoint: string;
  subject: AlertSubject;
  /** event time of the window's first request, and of the last request counted */
  from: number;
  to: number;
  requests: number;
  /** event time of the alert's last signal */
  signalledAt: number;
  evidence: string[];
  /** the endpoint's usual per-subject count per window, and the threshold, when it was raised */
  mean: number;
  std: number;
  threshold: number;
}

type WalkAlertJson = Omit<WalkAlert, 'hll' | 'hashes'> & DistinctSetJson;

/** a window as a checkpoint holds it; one written before alerts counted their walk has no requests and no alert */
type WindowJson = Omit<SubjectWindow, 'hll' | 'hashes' | 'requests' | 'alert'> &
  DistinctSetJson & { requests?: number; alert?: WalkAlertJson };

const EWMA_ALPHA = 0.02;
/**
 * closed windows an endpoint's baseline takes in, those of walks too, before a walk's windows stay out of it: while
 * the EWMA is the plain mean of the windows so far (1 / alpha), it learns what is usual on the endpoint, such as
 * subjects that each touch more than `min_distinct` objects
 */
const WARMUP_WINDOWS = Math.round(1 / EWMA_ALPHA);

/** a window (fields always in this order: one object shape) */
const windowOf = (
  start: number,
  requests: number,
  alerted: boolean,
  evidence: string[],
  ids: DistinctSet,
  alert: WalkAlert | undefined,
): SubjectWindow => ({
  start,
  requests,
  alerted,
  evidence,
  exact: ids.exact,
  hashes: ids.hashes,
  hll: ids.hll,
  distinct: ids.distinct,
  alert,
});

/** a new window of a pair; carrying its walk's live alert, it raises none of its own */
const newWindow = (start: number, alert: WalkAlert | undefined): SubjectWindow =>
  windowOf(start, 0, alert !== undefined, [], emptyDistinct(), alert);

function walkToJson(walk: WalkAlert): WalkAlertJson {
  const { hashes: _, ...rest } = walk;
  return { ...rest, ...distinctToJson(walk) };
}

/**
 * Broken object-level authorisation probing (OWASP API1): one subject touching an abnormal number of distinct object
 * ids on one endpoint within a window. Distinct ids are kept exactly up to `exact_limit`, then in a 256-byte
 * HyperLogLog; (subject, endpoint) pairs live in an LRU with a cap. The threshold is relative to the endpoint's usual
 * per-subject distinct count (an EWMA over closed windows), never below `min_distinct`. Past the baseline's first
 * WARMUP_WINDOWS, a window that raised an alert or carried one stays out of it, so a walk does not raise the threshold
 * for the next one.
 *
 * The alert counts the whole walk: raised when a window crosses the threshold, it is refreshed by the subject's later
 * requests (at most once a second of event time, the rest when the service's metrics window closes) with the distinct
 * objects and requests since the start of that window, through the windows after, so it stays open while the walk
 * goes on and says how many, from when to when. Once the walk stops for the resolve window, the alert resolves; the
 * next window of the pair starts afresh, and may raise the next alert.
 */
export class EnumerationDetector implements Detector {
  readonly type = 'enumeration';
  private readonly windows: BoundedMap<string, SubjectWindow>;
  private readonly baselines: BoundedMap<string, Ewma>;
  private readonly idParams: string[];
  private readonly routes = new RouteShapes();
  /** pairs (by key) whose live alert counted requests it does not report yet: their service, and endpoint */
  private readonly unreported = new PendingRefreshes<string>();

  constructor(private readonly config: EnumerationConfig) {
    this.windows = new BoundedMap(config.max_subjects, config.window_ms * 2);
    this.baselines = new BoundedMap(config.max_endpoints);
    this.idParams = config.id_params;
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    const subject = actorOf(r);
    if (!subject) return;
    if (!this.config.workload_subjects && (subject.type === 'principal' || subject.type === 'service')) return;
    const endpoint = ctx.endpointOf(r);
    const ids = this.routes.placeholderValues(endpoint, r.path);
    if (r.params) {
      for (const p of this.idParams) {
        const v = r.params[p];
        if (v !== undefined && v !== null) ids.push(String(v));
      }
    }
    if (ids.length === 0) return;
    const key = `${subject.type}:${subject.value}\u0000${endpoint}`;
    let w = this.windows.get(key, r.ts);
    if (w && r.ts - w.start > this.config.window_ms) {
      // past its warm-up, a window of a walk stays out of the baseline, else each walk would raise the threshold for
      // the next one
      const b = this.baseline(endpoint);
      if (!w.alerted || b.n < WARMUP_WINDOWS) b.push(countDistinct(w));
      // a live alert goes on counting the walk into the next window, which raises none of its own
      const alert = w.alert !== undefined && isLive(w.alert.signalledAt, r.ts, ctx) ? w.alert : undefined;
      w = newWindow(r.ts, alert);
      this.windows.set(key, w, r.ts);
    }
    if (!w) {
      w = newWindow(r.ts, undefined);
      this.windows.set(flat(key), w, r.ts);
    }
    w.requests++;
    const limit = this.config.exact_limit;
    let grew = false;
    // once the window raised (or carries) an alert, its sketch is estimated only when it closes (if the baseline
    // takes it in)
    for (const id of ids) grew = addDistinct(w, id, limit, !w.alerted) || grew;
    const walk = w.alert;
    if (walk !== undefined) {
      if (isLive(walk.signalledAt, r.ts, ctx)) {
        this.extend(walk, key, ids, r, ctx);
        return;
      }
      // its alert went quiet: the walk is over (the window it ended in raises nothing more)
      w.alert = undefined;
    }
    if (!grew || w.alerted) return;
    w.evidence = pushEvidence(w.evidence, r.id);
    if (w.distinct < this.config.min_distinct) return;
    const b = this.baselines.get(endpoint, r.ts);
    const mean = b?.mean ?? 0;
    const std = b?.std ?? 0;
    const threshold = Math.max(
      this.config.min_distinct,
      mean * this.config.relative_factor,
      mean + this.config.sigma_k * std,
    );
    if (w.distinct < threshold) return;
    w.alerted = true;
    w.alert = {
      ...copyDistinct(w),
      service: r.service,
      endpoint,
      subject,
      from: w.start,
      to: r.ts,
      requests: w.requests,
      signalledAt: -1,
      evidence: [...w.evidence],
      mean,
      std,
      threshold,
    };
    this.signal(w.alert, ctx);
  }

  /** a request of a walk whose alert is live: counted into it, and the alert refreshed when due */
  private extend(walk: WalkAlert, key: string, ids: string[], r: ApiCallRecord, ctx: DetectorContext): void {
    walk.requests++;
    walk.to = r.ts;
    const limit = this.config.exact_limit;
    let grew = false;
    for (const id of ids) grew = addDistinct(walk, id, limit, false) || grew;
    if (grew) walk.evidence = pushEvidence(walk.evidence, r.id);
    if (this.unreported.refresh(key, walk.service, walk.endpoint, r.ts, walk.signalledAt)) this.signal(walk, ctx);
  }

  /** a service's window closed: its walks' alerts report the requests they have not yet */
  onWindow(w: WindowMetrics, ctx: DetectorContext): void {
    this.unreported.onWindow(w, (key) => {
      const walk = this.windows.peek(key)?.alert;
      if (walk && walk.to > walk.signalledAt) this.signal(walk, ctx);
    });
  }

  /** raises or refreshes the walk's alert with all it counts, at its last request */
  private signal(walk: WalkAlert, ctx: DetectorContext): void {
    walk.signalledAt = walk.to;
    const distinct = Math.round(countDistinct(walk));
    const span = walk.to - walk.from;
    const { subject, endpoint } = walk;
    ctx.emit({
      kind: 'enumeration',
      severity: 'high',
      service: walk.service,
      endpoint,
      subject,
      at: walk.to,
      summary: `${subject.type} ${subject.value} touched ${distinct} distinct objects on ${endpoint} in ${durationText(span)}`,
      expected: `about ${walk.mean.toFixed(1)} distinct objects per subject per ${durationText(this.config.window_ms)} window (threshold ${Math.ceil(walk.threshold)})`,
      observed: `${distinct} distinct objects in ${walk.requests} requests from ${new Date(walk.from).toISOString()} to ${new Date(walk.to).toISOString()}`,
      recordIds: [...walk.evidence],
      metrics: {
        distinct_ids: distinct,
        requests: walk.requests,
        span_s: span / 1000,
        baseline_mean: walk.mean,
        baseline_std: walk.std,
        threshold: walk.threshold,
      },
    });
  }

  private baseline(endpoint: string): Ewma {
    return this.baselines.upsert(endpoint, 0, () => new Ewma(EWMA_ALPHA));
  }

  snapshot(): unknown {
    return {
      v: 1,
      windows: this.windows.dump(
        (w): WindowJson => ({
          start: w.start,
          requests: w.requests,
          alerted: w.alerted,
          evidence: w.evidence,
          ...distinctToJson(w),
          ...(w.alert ? { alert: walkToJson(w.alert) } : {}),
        }),
      ),
      baselines: this.baselines.dump((b) => b.toJSON()),
      unreported: this.unreported.dump(),
    };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        // a checkpoint written before alerts counted their walk kept the requests in a count-min sketch per
        // window_ms of event time: a window's requests are its estimate. An alert it had raised is not refreshed
        // (the previous version did not); the pair's next window raises anew, with its own objects
        const sketch = s.requests ? CountMinSketch.fromJSON(s.requests as never) : undefined;
        this.windows.load(s.windows as [string, WindowJson, number][], (j) =>
          windowOf(
            j.start,
            j.requests ?? 0,
            j.alerted,
            j.evidence,
            distinctFromJson(j),
            j.alert ? { ...j.alert, ...distinctFromJson(j.alert) } : undefined,
          ),
        );
        if (sketch)
          for (const [key, w] of this.windows.entries())
            if (w.requests === 0) w.requests = Math.max(Math.round(w.distinct), sketch.estimate(key));
        this.baselines.load(s.baselines as [string, [number, number, number], number][], (j) =>
          Ewma.from(EWMA_ALPHA, j),
        );
        this.unreported.load(s.unreported);
      },
      () => {
        this.windows.clear();
        this.baselines.clear();
        this.unreported.clear();
      },
    );
  }

  stats(): Record<string, number> {
    return {
      subjects: this.windows.size,
      subjects_evicted: this.windows.evicted,
      subjects_expired: this.windows.expired,
      endpoints: this.baselines.size,
      endpoints_evicted: this.baselines.evicted,
    };
  }
}
