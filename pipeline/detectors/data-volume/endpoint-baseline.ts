import { DDSketch } from '@datadog/sketches-js';
import { DenseStore } from '@datadog/sketches-js/dist/ddsketch/store/index.js';
import { hash32 } from '../shared/hash.js';

/** relative accuracy of the quantile sketches: a p99 of 20 MB is read as 19–21 MB */
const SKETCH_ACCURACY = 0.05;

/**
 * once trusted, the quantiles are read again every this many windows (reading them costs more than the rest of a
 * window's close; a few windows move a quantile of 50 or more by little)
 */
const SETTLE_EVERY = 16;

/** the value → bin mapping every sketch shares (the library gives each its own; it holds only constants) */
const MAPPING = new DDSketch({ relativeAccuracy: SKETCH_ACCURACY }).mapping;
/** bins a store grows by: a baseline's totals span a few dozen bins, where the library's default grows by 128 */
const STORE_CHUNK = 8;
/** a sketch of the library's, holding the shared mapping and stores that grow a few bins at a time */
function compact(s: DDSketch): DDSketch {
  if (s.mapping.gamma === MAPPING.gamma) s.mapping = MAPPING;
  if (s.store.length() === 0) s.store = new DenseStore(STORE_CHUNK);
  if (s.negativeStore.length() === 0) s.negativeStore = new DenseStore(STORE_CHUNK);
  return s;
}
const newSketch = () => compact(new DDSketch({ relativeAccuracy: SKETCH_ACCURACY }));
const sketchToJson = (s: DDSketch): string => Buffer.from(s.toProto()).toString('base64');
const sketchFromJson = (j: string): DDSketch => compact(DDSketch.fromProto(Buffer.from(j, 'base64')) as DDSketch);

/**
 * One metric's per-subject window totals on an endpoint, in two generations of `perGeneration` windows: the current
 * sketch takes each window in; once full it becomes the previous one and a new one starts. Its quantile is read from
 * the current generation once that holds half a generation, else from the previous one: the baseline follows the
 * endpoint's last perGeneration to 2 × perGeneration windows, and is never read from a handful of them after a turn.
 * The previous one is let go once the current one holds half a generation: it would not be read again.
 */
class Generations {
  constructor(
    public cur: DDSketch,
    public prev: DDSketch | null,
  ) {}

  push(x: number, perGeneration: number): void {
    this.cur.accept(x);
    if (this.cur.count >= perGeneration) {
      this.prev = this.cur;
      this.cur = newSketch();
    } else if (this.prev !== null && this.cur.count * 2 >= perGeneration) this.prev = null; // never read again
  }

  quantile(q: number, perGeneration: number): number {
    const s = this.prev === null || this.cur.count * 2 >= perGeneration ? this.cur : this.prev;
    return s.count === 0 ? 0 : Math.max(0, s.getValueAtQuantile(q));
  }

  toJSON(): [string, string | null] {
    return [sketchToJson(this.cur), this.prev ? sketchToJson(this.prev) : null];
  }

  static from(j: [string, string | null]): Generations {
    return new Generations(sketchFromJson(j[0]), j[1] === null ? null : sketchFromJson(j[1]));
  }
}

export interface BaselineSettings {
  quantile: number;
  bytes_factor: number;
  min_bytes: number;
  requests_factor: number;
  min_requests: number;
  min_subjects: number;
  min_windows: number;
  baseline_windows: number;
}

export type EndpointBaselineJson = {
  windows: number;
  subjects: number[] | null;
  /** the quantiles as last read, and the window count then (absent: read them at restore) */
  settled?: [windows: number, bytes: number, requests: number];
  bytes: [string, string | null];
  requests: [string, string | null];
};

/**
 * What one endpoint's subjects take in a window: quantile sketches of the response bytes and the requests of each
 * closed (subject, endpoint) window that was not an alert's. The thresholds are worked out when a window is taken in
 * (not per record): Infinity until `min_subjects` distinct subjects and `min_windows` windows fed the baseline (a young
 * endpoint alerts nothing), then max(floor, factor × quantile) for each metric.
 */
export class EndpointBaseline {
  /** closed windows taken in, ever */
  windows = 0;
  /** hashes of the distinct subjects seen until there are min_subjects of them; null once there are */
  subjects: number[] | null = [];
  bytesQuantile = 0;
  requestsQuantile = 0;
  bytesThreshold = Number.POSITIVE_INFINITY;
  requestsThreshold = Number.POSITIVE_INFINITY;
  /** `windows` when the quantiles were last read (-1: never) */
  private settledAt = -1;

  constructor(
    private readonly bytes: Generations = new Generations(newSketch(), null),
    private readonly requests: Generations = new Generations(newSketch(), null),
  ) {}

  /** a closed window of `subject` (its key) that took `bytes` in `requests` */
  push(subject: string, bytes: number, requests: number, s: BaselineSettings): void {
    this.windows++;
    if (this.subjects !== null) {
      const h = hash32(subject);
      if (!this.subjects.includes(h)) this.subjects.push(h);
      if (this.subjects.length >= s.min_subjects) this.subjects = null;
    }
    this.bytes.push(bytes, s.baseline_windows);
    this.requests.push(requests, s.baseline_windows);
    this.settle(s);
  }

  get trusted(): boolean {
    return this.bytesThreshold !== Number.POSITIVE_INFINITY;
  }

  private settle(s: BaselineSettings): void {
    if (this.subjects !== null || this.windows < s.min_windows) return;
    if (this.settledAt >= 0 && this.windows - this.settledAt < SETTLE_EVERY) return;
    this.settledAt = this.windows;
    // rounded: a sketch read back from a checkpoint answers the same to within 1e-12, and a restore must alert the same
    this.bytesQuantile = Math.round(this.bytes.quantile(s.quantile, s.baseline_windows));
    this.requestsQuantile = Math.round(this.requests.quantile(s.quantile, s.baseline_windows) * 100) / 100;
    this.thresholds(s);
  }

  private thresholds(s: BaselineSettings): void {
    this.bytesThreshold = Math.max(s.min_bytes, s.bytes_factor * this.bytesQuantile);
    this.requestsThreshold = Math.max(s.min_requests, s.requests_factor * this.requestsQuantile);
  }

  toJSON(): EndpointBaselineJson {
    return {
      windows: this.windows,
      subjects: this.subjects,
      ...(this.settledAt >= 0
        ? { settled: [this.settledAt, this.bytesQuantile, this.requestsQuantile] as [number, number, number] }
        : {}),
      bytes: this.bytes.toJSON(),
      requests: this.requests.toJSON(),
    };
  }

  static from(j: EndpointBaselineJson, s: BaselineSettings): EndpointBaseline {
    const b = new EndpointBaseline(Generations.from(j.bytes), Generations.from(j.requests));
    b.windows = j.windows;
    b.subjects = j.subjects === null ? null : [...j.subjects];
    if (j.settled) {
      // the quantiles as the checkpointed detector had them (read again at the same window as it would have)
      [b.settledAt, b.bytesQuantile, b.requestsQuantile] = j.settled;
      b.thresholds(s);
    } else b.settle(s);
    return b;
  }
}
