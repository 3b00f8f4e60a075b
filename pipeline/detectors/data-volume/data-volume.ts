import type { AlertSubject } from '../../core/alert.js';
import { byteSizeText } from '../../core/byte-size-text.js';
import { durationText } from '../../core/duration-text.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext, WindowMetrics } from '../detector.js';
import { counter } from '../../core/metrics.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { flat } from '../shared/key-interner.js';
import { isLive, PendingRefreshes } from '../shared/live-alert.js';
import { actorOf, pushEvidence } from '../shared/record-fields.js';
import type { DataVolumeConfig } from './config.js';
import { EndpointBaseline, type EndpointBaselineJson } from './endpoint-baseline.js';

export type VolumeKind = 'bulk_data_access' | 'excessive_calls';

/** record ids kept per window (the first ones), and per episode */
const WINDOW_EVIDENCE = 10;
const EPISODE_EVIDENCE = 20;
/** windows past their end closed per record (the rest on the next records) */
const SWEEP_PER_RECORD = 4;
/** `raised` bits of a window: which kinds' episodes it raised or carried */
const CALLS = 1;
const BULK = 2;

/**
 * An episode: what one subject took from one endpoint from the start of the window that crossed a threshold, on
 * through the windows after while its alert is live (refreshed, so it stays open while the taking goes on)
 */
interface Episode {
  kind: VolumeKind;
  service: string;
  endpoint: string;
  subject: AlertSubject;
  /** event time of the crossing window's first request, and of the last request counted */
  from: number;
  to: number;
  requests: number;
  bytes: number;
  /** the largest window total of the episode's metric (bytes or requests) */
  peak: number;
  /** event time of the alert's last signal (-1: never) */
  signalledAt: number;
  evidence: string[];
  /** the endpoint's quantile of the metric per subject per window, and the threshold, when it was raised */
  quantile: number;
  threshold: number;
}

/** one subject's requests to one endpoint in a window of window_ms from the first (fields always in this order) */
interface PairWindow {
  start: number;
  requests: number;
  bytes: number;
  /** CALLS | BULK: kinds whose episode it raised or carried; such a window raises that kind no more and stays out of the baseline */
  raised: number;
  evidence: string[];
  calls: Episode | undefined;
  bulk: Episode | undefined;
}

const newWindow = (start: number, calls: Episode | undefined, bulk: Episode | undefined): PairWindow => ({
  start,
  requests: 0,
  bytes: 0,
  raised: (calls ? CALLS : 0) | (bulk ? BULK : 0),
  evidence: [],
  calls,
  bulk,
});

const episodes = counter(
  'meshward_data_volume_episodes_total',
  'episodes raised by the data_volume detector (a subject taking far more from an endpoint than its callers do)',
  ['kind'],
);
const heldOut = counter(
  'meshward_data_volume_windows_held_out_total',
  "windows of the data_volume detector kept out of their endpoint's baseline (they raised or carried an alert)",
);
const evictions = counter(
  'meshward_data_volume_evictions_total',
  'windows of (subject, endpoint) pairs evicted from the data_volume detector before they closed (max_subjects)',
);

/** module-level: `upsert` allocates no closure per closed window */
const newBaseline = (): EndpointBaseline => new EndpointBaseline();
const pct = (q: number): string => `p${Math.round(q * 1000) / 10}`;
const times = (x: number): string => (x >= 10 ? `${Math.round(x)}×` : `${Math.round(x * 10) / 10}×`);

/**
 * Unrestricted resource consumption and excessive data exposure (OWASP API4 / API3): one subject taking far more data
 * (`bulk_data_access`, response bytes) or making far more calls (`excessive_calls`) from one endpoint within a window
 * than the endpoint's subjects usually do, even when every object is its own (a scraper, an account bulk-exporting,
 * an integration gone wild). Each (subject, endpoint) pair counts requests and bytes in a window of `window_ms` from
 * its first request; a closed window feeds the endpoint's baseline (quantile sketches of the per-subject window
 * totals, `endpoint-baseline.ts`) unless it raised or carried an alert, so an attacker does not teach the endpoint its
 * own size. Windows are closed when their pair is seen again past their end, or by a sweep of the oldest ones as
 * records come in (a subject seen once still teaches the baseline).
 *
 * The alert counts the whole episode: raised when a window crosses the threshold, refreshed by the subject's later
 * requests (at most once a second of event time, the rest when the service's metrics window closes) through the
 * windows after, so it stays open while the taking goes on; once quiet for the resolve window it resolves, and the
 * pair's next window starts afresh.
 */
export class DataVolumeDetector implements Detector {
  readonly type = 'data_volume';
  private readonly windows: BoundedMap<string, PairWindow>;
  private readonly baselines: BoundedMap<string, EndpointBaseline>;
  /** episodes (by kind letter + pair key) whose live alert counted requests it does not report yet */
  private readonly unreported = new PendingRefreshes<number>();
  private closed = 0;
  private heldOut = 0;
  private raisedCount = 0;

  constructor(private readonly config: DataVolumeConfig) {
    this.windows = new BoundedMap(config.max_subjects, config.window_ms * 2);
    this.baselines = new BoundedMap(config.max_endpoints);
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    const ts = r.ts;
    this.sweep(ts, ctx);
    const subject = actorOf(r);
    if (!subject) return;
    if (!this.config.workload_subjects && (subject.type === 'principal' || subject.type === 'service')) return;
    const endpoint = ctx.endpointOf(r);
    const key = `${subject.type}:${subject.value}\u0000${endpoint}`;
    let w = this.windows.get(key, ts);
    if (w !== undefined && ts - w.start > this.config.window_ms) {
      w = this.roll(key, w, ts, ctx);
      if (w !== undefined) this.windows.set(key, w, ts);
    }
    if (w === undefined) {
      w = newWindow(ts, undefined, undefined);
      const evicted = this.windows.evicted;
      this.windows.set(flat(key), w, ts);
      if (this.windows.evicted !== evicted) evictions.inc();
    }
    const bytes = Math.max(r.respBytes, 0);
    w.requests++;
    w.bytes += bytes;
    if (w.evidence.length < WINDOW_EVIDENCE) w.evidence = pushEvidence(w.evidence, r.id, WINDOW_EVIDENCE);
    if (w.calls !== undefined) {
      if (isLive(w.calls.signalledAt, ts, ctx)) this.extend(w.calls, w.requests, bytes, key, r, ctx);
      else w.calls = undefined;
    }
    if (w.bulk !== undefined) {
      if (isLive(w.bulk.signalledAt, ts, ctx)) this.extend(w.bulk, w.bytes, bytes, key, r, ctx);
      else w.bulk = undefined;
    }
    if (w.raised === (CALLS | BULK)) return;
    const b = this.baselines.get(endpoint, ts);
    if (b === undefined) return;
    if ((w.raised & CALLS) === 0 && w.requests > b.requestsThreshold) {
      w.raised |= CALLS;
      w.calls = this.episode(
        'excessive_calls',
        w,
        w.requests,
        b.requestsQuantile,
        b.requestsThreshold,
        r,
        endpoint,
        subject,
      );
      this.signal(w.calls, ctx);
    }
    if ((w.raised & BULK) === 0 && w.bytes > b.bytesThreshold) {
      w.raised |= BULK;
      w.bulk = this.episode('bulk_data_access', w, w.bytes, b.bytesQuantile, b.bytesThreshold, r, endpoint, subject);
      this.signal(w.bulk, ctx);
    }
  }

  private episode(
    kind: VolumeKind,
    w: PairWindow,
    peak: number,
    quantile: number,
    threshold: number,
    r: ApiCallRecord,
    endpoint: string,
    subject: AlertSubject,
  ): Episode {
    this.raisedCount++;
    episodes.inc({ kind });
    return {
      kind,
      service: r.service,
      endpoint,
      subject,
      from: w.start,
      to: r.ts,
      requests: w.requests,
      bytes: w.bytes,
      peak,
      signalledAt: -1,
      evidence: [...w.evidence],
      quantile,
      threshold,
    };
  }

  /** a request of a pair whose episode is live: counted into it, and the alert refreshed when due */
  private extend(
    e: Episode,
    windowTotal: number,
    bytes: number,
    key: string,
    r: ApiCallRecord,
    ctx: DetectorContext,
  ): void {
    e.requests++;
    e.bytes += bytes;
    e.to = r.ts;
    if (windowTotal > e.peak) e.peak = windowTotal;
    e.evidence = pushEvidence(e.evidence, r.id, EPISODE_EVIDENCE);
    const letter = e.kind === 'excessive_calls' ? 'c' : 'b';
    if (this.unreported.refresh(letter + key, e.service, 0, r.ts, e.signalledAt)) this.signal(e, ctx);
  }

  /**
   * a window past its end: it feeds the baseline (unless it raised or carried an alert), and the pair's next window
   * carries its live episodes (undefined when none is live: the pair starts afresh at its next request)
   */
  private roll(key: string, w: PairWindow, ts: number, ctx: DetectorContext): PairWindow | undefined {
    this.closed++;
    if (w.raised !== 0) {
      this.heldOut++;
      heldOut.inc();
    } else {
      const sep = key.indexOf('\u0000');
      const endpoint = key.slice(sep + 1);
      const b = this.baselines.upsert(endpoint, ts, newBaseline);
      b.push(key.slice(0, sep), w.bytes, w.requests, this.config);
    }
    const calls = w.calls !== undefined && isLive(w.calls.signalledAt, ts, ctx) ? w.calls : undefined;
    const bulk = w.bulk !== undefined && isLive(w.bulk.signalledAt, ts, ctx) ? w.bulk : undefined;
    return calls === undefined && bulk === undefined ? undefined : newWindow(ts, calls, bulk);
  }

  /** closes the oldest windows past their end (windows are kept roughly in the order they opened) */
  private sweep(ts: number, ctx: DetectorContext): void {
    for (let n = 0; n < SWEEP_PER_RECORD; n++) {
      const w = this.windows.oldestValue();
      if (w === undefined || ts - w.start <= this.config.window_ms) return;
      const key = this.windows.oldestKey() as string;
      const next = this.roll(key, w, ts, ctx);
      if (next === undefined) this.windows.delete(key);
      else this.windows.set(key, next, ts);
    }
  }

  /** a service's window closed: its episodes' alerts report the requests they have not yet */
  onWindow(w: WindowMetrics, ctx: DetectorContext): void {
    this.unreported.onWindow(w, (key) => {
      const pair = this.windows.peek(key.slice(1));
      const e = key.charCodeAt(0) === 99 /* c */ ? pair?.calls : pair?.bulk;
      if (e && e.to > e.signalledAt) this.signal(e, ctx);
    });
  }

  /** raises or refreshes the episode's alert with all it counts, at its last request */
  private signal(e: Episode, ctx: DetectorContext): void {
    e.signalledAt = e.to;
    const span = e.to - e.from;
    const { subject, endpoint } = e;
    const per = durationText(this.config.window_ms);
    const q = pct(this.config.quantile);
    const ratio = e.quantile > 0 ? e.peak / e.quantile : Number.POSITIVE_INFINITY;
    const bulk = e.kind === 'bulk_data_access';
    const usual = bulk ? `${byteSizeText(e.quantile)}` : `${Math.round(e.quantile * 10) / 10} calls`;
    const took = bulk
      ? `took ${byteSizeText(e.bytes)} from ${endpoint} in ${durationText(span)}`
      : `made ${e.requests} calls to ${endpoint} in ${durationText(span)}`;
    const what = bulk ? 'what its callers take' : 'what its callers make';
    const peak = bulk ? byteSizeText(e.peak) : `${e.peak} calls`;
    ctx.emit({
      kind: e.kind,
      severity: bulk ? 'high' : 'medium',
      service: e.service,
      endpoint,
      subject,
      at: e.to,
      summary: `${subject.type} ${subject.value} ${took}, ${Number.isFinite(ratio) ? times(ratio) : 'far more than'} ${what} (${q} ${usual} per ${per})`,
      expected: `at most ${usual} per subject per ${per} window (${q} of the endpoint's subjects; threshold ${bulk ? byteSizeText(e.threshold) : Math.ceil(e.threshold)})`,
      observed: `${byteSizeText(e.bytes)} in ${e.requests} requests from ${new Date(e.from).toISOString()} to ${new Date(e.to).toISOString()}; at most ${peak} in one ${per} window`,
      recordIds: [...e.evidence],
      metrics: {
        bytes: e.bytes,
        requests: e.requests,
        span_s: span / 1000,
        peak_window: e.peak,
        // absent when the endpoint's callers usually take nothing (a quantile of 0)
        ...(Number.isFinite(ratio) ? { ratio: Math.round(ratio * 10) / 10 } : {}),
        baseline_quantile: e.quantile,
        threshold: e.threshold,
        window_s: this.config.window_ms / 1000,
      },
    });
  }

  snapshot(): unknown {
    return {
      v: 1,
      windows: this.windows.dump((w) => ({
        start: w.start,
        requests: w.requests,
        bytes: w.bytes,
        raised: w.raised,
        evidence: w.evidence,
        ...(w.calls ? { calls: w.calls } : {}),
        ...(w.bulk ? { bulk: w.bulk } : {}),
      })),
      baselines: this.baselines.dump((b) => b.toJSON()),
      unreported: this.unreported.dump(),
    };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        if (s.v !== 1) throw new TypeError('unknown checkpoint version');
        this.windows.load(s.windows as [string, PairWindow, number][], (j) => ({
          start: j.start,
          requests: j.requests,
          bytes: j.bytes,
          raised: j.raised,
          evidence: j.evidence,
          calls: j.calls ? { ...j.calls } : undefined,
          bulk: j.bulk ? { ...j.bulk } : undefined,
        }));
        this.baselines.load(s.baselines as [string, EndpointBaselineJson, number][], (j) =>
          EndpointBaseline.from(j, this.config),
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
      windows_closed: this.closed,
      windows_held_out: this.heldOut,
      endpoints: this.baselines.size,
      endpoints_evicted: this.baselines.evicted,
      episodes_raised: this.raisedCount,
    };
  }
}
