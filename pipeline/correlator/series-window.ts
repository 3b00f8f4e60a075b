import { DDSketch } from '@datadog/sketches-js';
import type { WindowMetrics } from '../detectors/detector.js';

/** relative accuracy of the latency quantiles (2%) */
const SKETCH_ACCURACY = 0.02;
const SAMPLE_IDS = 5;
/** windows with at most this many calls keep exact latencies; busier ones move to a DDSketch */
const EXACT_LIMIT = 32;

export interface SeriesSnapshot {
  service: string;
  endpoint?: string;
  start: number;
  count: number;
  errors: number;
  lastTs: number;
  sampleIds: string[];
  /** the current window's latency sketch, protobuf as base64 */
  sketch: string | null;
  /** exact latencies while the window is small */
  exact?: number[];
}

/**
 * One RED series (a service, or one endpoint of it) over tumbling event-time windows. Only the open window is held:
 * a count, an error count, a DDSketch of latency, and a few record ids as evidence.
 */
export class SeriesWindow {
  start: number;
  count = 0;
  errors = 0;
  lastTs: number;
  sampleIds: string[] = [];
  /** exact latencies of a quiet window (most series are quiet): no sketch allocated until it gets busy */
  private exact: number[] = [];
  private sketch: DDSketch | null = null;

  constructor(
    readonly service: string,
    readonly endpoint: string | undefined,
    start: number,
  ) {
    this.start = start;
    this.lastTs = start;
  }

  add(ts: number, durationMs: number, isError: boolean, id: string): void {
    this.count++;
    if (ts > this.lastTs) this.lastTs = ts;
    if (isError) {
      this.errors++;
      // evidence prefers failing calls: replace a non-error sample when full
      if (this.sampleIds.length < SAMPLE_IDS) this.sampleIds.push(id);
      else if (this.errors <= SAMPLE_IDS) this.sampleIds[this.errors - 1] = id;
    } else if (this.sampleIds.length < SAMPLE_IDS) this.sampleIds.push(id);
    // not Math.max: a NaN duration must count as 0, and Math.max would pass it on
    // biome-ignore lint/complexity/useMathMinMax: NaN handling differs
    const v = durationMs > 0 ? durationMs : 0;
    if (this.sketch !== null) this.sketch.accept(v);
    else if (this.exact.length < EXACT_LIMIT) this.exact.push(v);
    else {
      this.sketch = new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
      for (const x of this.exact) this.sketch.accept(x);
      this.sketch.accept(v);
      this.exact.length = 0;
    }
  }

  /** closes the open window and opens the next one at `nextStart` */
  close(widthMs: number, nextStart: number): WindowMetrics {
    const s = this.sketch;
    const exact = this.exact.length > 0 ? this.exact.sort((a, b) => a - b) : null;
    const q = (p: number) =>
      s
        ? round3(s.getValueAtQuantile(p))
        : exact
          ? round3(exact[Math.min(exact.length - 1, Math.floor(p * exact.length))])
          : 0;
    const w: WindowMetrics = {
      service: this.service,
      endpoint: this.endpoint,
      start: this.start,
      widthMs,
      count: this.count,
      errors: this.errors,
      rate: this.count / (widthMs / 1000),
      errorRatio: this.count > 0 ? this.errors / this.count : 0,
      p50: q(0.5),
      p95: q(0.95),
      p99: q(0.99),
      sampleIds: this.sampleIds,
    };
    this.start = nextStart;
    this.count = 0;
    this.errors = 0;
    this.sampleIds = [];
    this.sketch = null;
    this.exact = [];
    return w;
  }

  snapshot(): SeriesSnapshot {
    return {
      service: this.service,
      endpoint: this.endpoint,
      start: this.start,
      count: this.count,
      errors: this.errors,
      lastTs: this.lastTs,
      sampleIds: [...this.sampleIds],
      sketch: this.sketch ? Buffer.from(this.sketch.toProto()).toString('base64') : null,
      ...(this.exact.length > 0 ? { exact: [...this.exact] } : {}),
    };
  }

  static restore(s: SeriesSnapshot): SeriesWindow {
    const w = new SeriesWindow(s.service, s.endpoint, s.start);
    w.count = s.count;
    w.errors = s.errors;
    w.lastTs = s.lastTs;
    w.sampleIds = [...s.sampleIds];
    w.sketch = s.sketch ? (DDSketch.fromProto(Buffer.from(s.sketch, 'base64')) as DDSketch) : null;
    w.exact = s.exact ? [...s.exact] : [];
    return w;
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
