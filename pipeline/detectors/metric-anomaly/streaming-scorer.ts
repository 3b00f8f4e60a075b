/**
 * A causal streaming anomaly scorer for one time series: `update(t, x)` returns a score in [0, 1] that uses only
 * this row and earlier ones. Five views of "unusual":
 *  - level: robust z-score of x against the rolling median / IQR of the last values,
 *  - seasonal: residual of x against a time-of-day profile (smoothed mean and mean absolute deviation per bucket),
 *  - shape: mean distance of the recent window (an embedding) to its nearest past windows (KNN-CAD-like),
 *  - rarity: how rarely x's bin of the observed range was visited (a new extreme is the rarest of all),
 *  - drift: the mean of the last drift_rows values against the rolling median, in standard errors (slow shifts).
 * Each view is compared with its own record (the largest value it has taken, decaying with a half-life that grows
 * with the series' age): the raw score is r / (1 + r) for the largest ratio r, so 0.5 means "as unusual as the most
 * unusual thing seen lately". A view votes only once it has spoken for min_baseline / 2 rows (the seasonal view
 * starts late, bucket by bucket, and its first records would otherwise be set by a handful of rows).
 * The winning ratio is then discounted when the value is of a kind already met: range novelty (range-novelty.ts)
 * asks, on several grids over the observed range, whether any earlier row visited the value's bin; the ratio is
 * multiplied by novelty_discount ** (1 - share of grids where the bin is new). Recurring spikes and returns to known
 * levels, the bulk of the false positives of the views alone, are discounted; a new kind of event is not.
 * Two gates follow: confidence (no score before `min_baseline` rows) and onset suppression (a score counts only
 * when it beats every raw score of the last `suppress_rows` rows, so a burst is flagged once, at its start).
 * A sustained level shift re-baselines by itself: the rolling median moves to the new level within half the
 * baseline, the seasonal profile follows at its smoothing rate. A caller can hold a row out of the expectation
 * (`update(t, x, true)`): it is scored, but learnt only if `learnHeld()` follows before the next update, so an
 * incident's rows need not become its own baseline. Memory is fixed by the options (`bytes`).
 */
import { RangeNovelty, type RangeNoveltyState } from './range-novelty.js';
import { SortedWindow } from './sorted-window.js';
import { WeekdayProfile, type WeekdayProfileState } from './weekday-profile.js';

export interface ScorerOptions {
  /** values in the rolling level baseline */
  baseline_size: number;
  /** past values kept for the shape (kNN) view */
  history_size: number;
  /** embedding length (rows) of the shape view */
  embed_size: number;
  /** neighbours averaged in the shape view */
  neighbours: number;
  /** time-of-day buckets per day in the seasonal view */
  season_buckets: number;
  /** smoothing weight of the seasonal profile */
  season_alpha: number;
  /** days a bucket needs before the seasonal view speaks */
  season_min_days: number;
  /** bins of the rarity histogram over the observed range */
  rarity_bins: number;
  /** rows during which a raw score suppresses lower or equal later ones */
  suppress_rows: number;
  /** rows averaged by the drift view (a slow, sustained move away from the median); at most history_size */
  drift_rows: number;
  /** rows before the scorer speaks (confidence reaches 1) */
  min_baseline: number;
  /** shortest half-life (rows) of each view's record */
  record_half_life: number;
  /** longest half-life (rows) of each view's record */
  record_half_life_max: number;
  /** the half-life grows with the age of the series: age * record_growth, within the bounds above */
  record_growth: number;
  /** resolutions (grids over the observed range) of the range-novelty gate; 0 turns the gate off */
  novelty_grids: number;
  /** bins of the coarsest novelty grid */
  novelty_bins_min: number;
  /** bins of the finest novelty grid (the grids in between are spaced geometrically) */
  novelty_bins_max: number;
  /** the novelty grids are laid again (forgetting their visits) when the range grows past this factor */
  novelty_regrow: number;
  /** the winning ratio is multiplied by this when every grid has seen the value's bin before (1 when none has) */
  novelty_discount: number;
  /** learn a factor per day of the week (weekday-profile.ts) that scales the time-of-day profile; false = daily only */
  weekly: boolean;
  /** days of each weekday seen before the weekly factor applies */
  weekly_min_weeks: number;
  /** smoothing weight of a new day against its weekday's level */
  weekly_alpha: number;
}

/** one parameter set for every series (the NAB evaluation uses exactly these) */
export const DEFAULT_SCORER_OPTIONS: Readonly<ScorerOptions> = {
  baseline_size: 256,
  history_size: 400,
  embed_size: 10,
  neighbours: 3,
  season_buckets: 24,
  season_alpha: 0.1,
  season_min_days: 2,
  rarity_bins: 40,
  suppress_rows: 150,
  drift_rows: 32,
  min_baseline: 200,
  record_half_life: 2000,
  record_half_life_max: 20000,
  record_growth: 0.5,
  novelty_grids: 8,
  novelty_bins_min: 6,
  novelty_bins_max: 20,
  novelty_regrow: 1.5,
  novelty_discount: 0.5,
  weekly: true,
  weekly_min_weeks: 2,
  weekly_alpha: 0.3,
};

export interface ScoreDetail {
  /** the score returned by update */
  score: number;
  /** score before the confidence gate and onset suppression */
  raw: number;
  /** age of the baseline in [0, 1]: rows seen / min_baseline */
  confidence: number;
  /** expected value: the seasonal profile once mature, else the rolling median */
  expected: number;
  /** typical deviation around the expected value */
  spread: number;
  /** the view with the largest ratio to its record */
  view: 'level' | 'seasonal' | 'shape' | 'rarity' | 'drift' | 'none';
  /** share of the range-novelty grids on which this value's bin had never been visited (0 while the gate is off) */
  novelty: number;
}

const VIEW_NAMES = ['level', 'seasonal', 'shape', 'rarity', 'drift'] as const;
const VIEWS = VIEW_NAMES.length;
const DAY_MS = 86_400_000;

/** JSON form of the scorer's state (numbers only; infinities as null) */
export interface ScorerState {
  v: 1;
  n: number;
  lastTs: number | null;
  intervalMs: number | null;
  lo: number | null;
  hi: number | null;
  baseline: number[];
  history: number[];
  seasonMean: number[];
  seasonDev: number[];
  seasonCount: number[];
  rarity: number[];
  rarityTotal: number;
  records: number[];
  viewAge: number[];
  recentRaw: number[];
  /** absent in snapshots taken before the gate existed: it then starts afresh */
  novelty?: RangeNoveltyState;
  /** absent in snapshots taken before the weekly factor existed: it then starts afresh */
  weekday?: WeekdayProfileState;
  /** the last row, when it was held and not learnt yet (absent: none) */
  held?: { t: number; x: number };
}

export class StreamingScorer {
  readonly options: Readonly<ScorerOptions>;
  private n = 0;
  private lastTs = Number.NaN;
  private intervalMs = Number.POSITIVE_INFINITY;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;
  private readonly baseline: SortedWindow;
  private readonly history: Float64Array;
  private histHead = 0;
  private histCount = 0;
  private readonly embedding: Float64Array;
  private readonly nearest: Float64Array;
  private readonly seasonMean: Float64Array;
  private readonly seasonDev: Float64Array;
  private readonly seasonCount: Float64Array;
  private readonly rarity: Float64Array;
  private rarityTotal = 0;
  private readonly records = new Float64Array(VIEWS);
  private readonly viewAge = new Float64Array(VIEWS);
  private readonly views = new Float64Array(VIEWS);
  private readonly recentRaw: Float64Array;
  private recentHead = 0;
  /** where the largest of recentRaw sits (kept up to date so the window max costs O(1) amortised) */
  private recentMaxAt = 0;
  private readonly novelty: RangeNovelty | null;
  private readonly weekday: WeekdayProfile | null;
  /** the weekly factor of the row being scored (1 without the weekly profile) */
  private weekFactor = 1;
  /** the last row while it is held out of the expectation (NaN: none) */
  private heldTs = Number.NaN;
  private heldValue = Number.NaN;
  private last: ScoreDetail = {
    score: 0,
    raw: 0,
    confidence: 0,
    expected: Number.NaN,
    spread: Number.NaN,
    view: 'none',
    novelty: 0,
  };

  constructor(options: Partial<ScorerOptions> = {}) {
    const o = { ...DEFAULT_SCORER_OPTIONS, ...options };
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'boolean') continue;
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`scorer option ${k} must be a finite number >= 0`);
    }
    for (const k of [
      'baseline_size',
      'history_size',
      'embed_size',
      'neighbours',
      'season_buckets',
      'rarity_bins',
    ] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`scorer option ${k} must be a positive integer`);
    }
    this.options = o;
    this.baseline = new SortedWindow(o.baseline_size);
    this.history = new Float64Array(o.history_size);
    this.embedding = new Float64Array(o.embed_size);
    this.nearest = new Float64Array(o.neighbours);
    this.seasonMean = new Float64Array(o.season_buckets);
    this.seasonDev = new Float64Array(o.season_buckets);
    this.seasonCount = new Float64Array(o.season_buckets);
    this.rarity = new Float64Array(o.rarity_bins);
    this.recentRaw = new Float64Array(Math.max(1, Math.floor(o.suppress_rows)));
    if (!Number.isInteger(o.novelty_grids)) throw new RangeError('scorer option novelty_grids must be an integer');
    if (o.novelty_discount > 1) throw new RangeError('scorer option novelty_discount must be at most 1');
    this.novelty =
      o.novelty_grids > 0
        ? new RangeNovelty(o.novelty_grids, o.novelty_bins_min, o.novelty_bins_max, o.novelty_regrow)
        : null;
    if (!(o.weekly_alpha > 0 && o.weekly_alpha <= 1))
      throw new RangeError('scorer option weekly_alpha must be in (0, 1]');
    if (!(o.weekly_min_weeks >= 1)) throw new RangeError('scorer option weekly_min_weeks must be at least 1');
    this.weekday = o.weekly ? new WeekdayProfile(o.weekly_alpha, o.weekly_min_weeks) : null;
  }

  /** bytes of the per-series state held in typed arrays (the scorer's memory, a few object headers aside) */
  get bytes(): number {
    const arrays = [
      this.history,
      this.embedding,
      this.nearest,
      this.seasonMean,
      this.seasonDev,
      this.seasonCount,
      this.rarity,
      this.records,
      this.viewAge,
      this.views,
      this.recentRaw,
    ];
    return (
      arrays.reduce((n, a) => n + a.byteLength, 0) +
      this.baseline.capacity * 16 +
      (this.novelty?.bytes ?? 0) +
      (this.weekday ? 8 * 16 + 32 : 0)
    );
  }

  /** the detail of the last update */
  get detail(): Readonly<ScoreDetail> {
    return this.last;
  }

  /** whether the last row is held out of the expectation (not learnt yet) */
  get holding(): boolean {
    return !Number.isNaN(this.heldTs);
  }

  /** rows learnt so far */
  get rows(): number {
    return this.n;
  }

  /**
   * score one row (timestamps in ms, non-decreasing); a non-finite value scores 0 and is not learnt. A held row is
   * scored the same way but kept out of what the expectation is made of (rolling median, time-of-day and weekday
   * profiles, range, rarity, the kNN/drift history, the row count) until `learnHeld()`; the next update drops it for
   * good. What the score itself remembers (view records, onset suppression, range-novelty visits, the sampling
   * interval) takes it in either way.
   */
  update(timestamp: number, value: number, hold = false): number {
    this.heldTs = Number.NaN;
    this.heldValue = Number.NaN;
    if (!Number.isFinite(value) || !Number.isFinite(timestamp)) {
      this.last = { ...this.last, score: 0, raw: 0, novelty: 0 };
      return 0;
    }
    const o = this.options;
    if (Number.isFinite(this.lastTs)) {
      const dt = timestamp - this.lastTs;
      if (dt > 0 && dt < this.intervalMs) this.intervalMs = dt;
    }
    this.lastTs = timestamp;
    const range = this.hi - this.lo;
    const eps = range > 0 ? range * 1e-3 : Math.abs(value) * 1e-3 + 1e-9;
    const views = this.views;
    views.fill(0);

    let expected = value;
    let spread = 0;
    if (this.baseline.size >= 8) {
      const med = this.baseline.quantile(0.5);
      spread = Math.max((this.baseline.quantile(0.75) - this.baseline.quantile(0.25)) / 1.349, eps);
      expected = med;
      views[0] = Math.abs(value - med) / spread;
      views[4] = this.drift(value, med, spread);
    }

    const bucket = this.bucketOf(timestamp);
    // the time-of-day profile holds values divided by the weekday's factor: scale it back for this day
    const week = bucket >= 0 && this.weekday ? this.weekday.factor(timestamp) : 1;
    this.weekFactor = week;
    if (bucket >= 0 && this.seasonCount[bucket] >= o.season_min_days) {
      const dev = Math.max(this.seasonDev[bucket] * week, eps);
      expected = this.seasonMean[bucket] * week;
      views[1] = Math.abs(value - expected) / dev;
      spread = dev;
    }

    views[2] = this.shapeDistance(value, range > 0 ? range : eps);

    if (this.rarityTotal > 0 && range > 0) {
      const bin = this.binOf(value);
      const total = this.rarityTotal + o.rarity_bins;
      views[3] = bin < 0 ? Math.log(total) + 1 : Math.log(total / (this.rarity[bin] + 1));
    }

    // each view against its decaying record; the largest ratio wins
    const halfLife = Math.min(o.record_half_life_max, Math.max(o.record_half_life, this.n * o.record_growth));
    const decay = 0.5 ** (1 / Math.max(1, halfLife));
    let ratio = 0;
    let view = -1;
    for (let v = 0; v < VIEWS; v++) {
      const x = views[v];
      const rec = this.records[v];
      if (x > 0) this.viewAge[v]++;
      if (this.n >= o.min_baseline && this.viewAge[v] > o.min_baseline / 2 && rec > 0 && x / rec > ratio) {
        ratio = x / rec;
        view = v;
      }
      this.records[v] = this.n >= o.min_baseline / 2 ? Math.max(x, rec * decay) : 0;
    }
    // a value whose bin of the range every grid has seen before is of a kind already met: its ratio is discounted
    let novelty = 0;
    if (this.novelty && this.n >= o.min_baseline / 2) {
      novelty = this.novelty.visit(value, Math.min(this.lo, value), Math.max(this.hi, value));
      ratio *= o.novelty_discount ** (1 - novelty);
    }
    const raw = ratio / (1 + ratio);
    const confidence = Math.min(1, this.n / Math.max(1, o.min_baseline));

    // onset suppression against the raw scores of the recent past
    const score = confidence >= 1 && raw > this.recentRaw[this.recentMaxAt] ? raw : 0;
    this.pushRecent(raw);

    if (hold) {
      this.heldTs = timestamp;
      this.heldValue = value;
    } else this.learnRow(timestamp, value, bucket);
    this.last = {
      score,
      raw,
      confidence,
      expected,
      spread,
      view: view < 0 ? 'none' : VIEW_NAMES[view],
      novelty,
    };
    return score;
  }

  /** learn the row the last update held (nothing when it held none) */
  learnHeld(): void {
    if (Number.isNaN(this.heldTs)) return;
    this.learnRow(this.heldTs, this.heldValue, this.bucketOf(this.heldTs));
    this.heldTs = Number.NaN;
    this.heldValue = Number.NaN;
  }

  snapshot(): ScorerState {
    const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);
    const recentRaw: number[] = [];
    for (let i = 0; i < this.recentRaw.length; i++)
      recentRaw.push(this.recentRaw[(this.recentHead + i) % this.recentRaw.length]);
    const history: number[] = [];
    const H = this.history.length;
    for (let i = this.histCount; i >= 1; i--) history.push(this.history[(this.histHead - i + H) % H]);
    return {
      v: 1,
      n: this.n,
      lastTs: fin(this.lastTs),
      intervalMs: fin(this.intervalMs),
      lo: fin(this.lo),
      hi: fin(this.hi),
      baseline: this.baseline.toArray(),
      history,
      seasonMean: Array.from(this.seasonMean),
      seasonDev: Array.from(this.seasonDev),
      seasonCount: Array.from(this.seasonCount),
      rarity: Array.from(this.rarity),
      rarityTotal: this.rarityTotal,
      records: Array.from(this.records),
      viewAge: Array.from(this.viewAge),
      recentRaw,
      novelty: this.novelty?.snapshot(),
      weekday: this.weekday?.snapshot(),
      ...(Number.isNaN(this.heldTs) ? {} : { held: { t: this.heldTs, x: this.heldValue } }),
    };
  }

  /** restore a snapshot taken with the same options; throws RangeError when it does not fit */
  restore(state: ScorerState): void {
    const o = this.options;
    if (
      state?.v !== 1 ||
      state.seasonMean.length !== o.season_buckets ||
      state.rarity.length !== o.rarity_bins ||
      state.records.length !== VIEWS ||
      state.viewAge?.length !== VIEWS ||
      state.baseline.length > o.baseline_size ||
      state.history.length > o.history_size ||
      (state.held !== undefined && !(Number.isFinite(state.held?.t) && Number.isFinite(state.held?.x)))
    ) {
      throw new RangeError('scorer snapshot does not match this scorer');
    }
    // the gate checks its part before anything changes, so a misfit leaves the scorer as it was
    this.novelty?.restore(state.novelty);
    this.weekday?.restore(state.weekday);
    this.n = state.n;
    this.lastTs = state.lastTs ?? Number.NaN;
    this.intervalMs = state.intervalMs ?? Number.POSITIVE_INFINITY;
    this.lo = state.lo ?? Number.POSITIVE_INFINITY;
    this.hi = state.hi ?? Number.NEGATIVE_INFINITY;
    this.baseline.clear();
    for (const x of state.baseline) this.baseline.push(x);
    this.history.fill(0);
    this.histHead = 0;
    this.histCount = 0;
    for (const x of state.history) this.remember(x);
    this.seasonMean.set(state.seasonMean);
    this.seasonDev.set(state.seasonDev);
    this.seasonCount.set(state.seasonCount);
    this.rarity.set(state.rarity);
    this.rarityTotal = state.rarityTotal;
    this.records.set(state.records);
    this.viewAge.set(state.viewAge);
    this.recentRaw.fill(0);
    this.recentHead = 0;
    this.recentMaxAt = 0;
    for (const raw of state.recentRaw.slice(-this.recentRaw.length)) this.pushRecent(raw);
    this.heldTs = state.held?.t ?? Number.NaN;
    this.heldValue = state.held?.x ?? Number.NaN;
    // the held row's weekly factor, as its update saw it (the weekday profile has not learnt since)
    const bucket = Number.isNaN(this.heldTs) ? -1 : this.bucketOf(this.heldTs);
    this.weekFactor = bucket >= 0 && this.weekday ? this.weekday.factor(this.heldTs) : 1;
  }

  private pushRecent(raw: number): void {
    const ring = this.recentRaw;
    const at = this.recentHead;
    ring[at] = raw;
    this.recentHead = (at + 1) % ring.length;
    if (at !== this.recentMaxAt) {
      if (raw >= ring[this.recentMaxAt]) this.recentMaxAt = at;
    } else {
      // the old maximum just left the window: find the new one
      let best = 0;
      for (let i = 1; i < ring.length; i++) if (ring[i] > ring[best]) best = i;
      this.recentMaxAt = best;
    }
  }

  private learnRow(timestamp: number, value: number, bucket: number): void {
    this.learn(value, bucket);
    if (bucket >= 0) this.weekday?.learn(timestamp, value, this.rowsPerBucket() * this.options.season_buckets);
  }

  private learn(value: number, bucket: number): void {
    const o = this.options;
    this.n++;
    this.baseline.push(value);
    if (bucket >= 0) {
      const c = this.seasonCount[bucket];
      const v = value / this.weekFactor;
      if (c === 0) {
        this.seasonMean[bucket] = v;
        this.seasonDev[bucket] = 0;
      } else {
        const a = Math.max(o.season_alpha, 1 / (c * this.rowsPerBucket() + 1));
        const r = v - this.seasonMean[bucket];
        this.seasonMean[bucket] += a * r;
        this.seasonDev[bucket] += a * (Math.abs(r) - this.seasonDev[bucket]);
      }
      this.seasonCount[bucket] = c + 1 / this.rowsPerBucket();
    }
    if (value < this.lo || value > this.hi) {
      // the range grew: the histogram's bins no longer line up, so it starts again
      this.lo = Math.min(this.lo, value);
      this.hi = Math.max(this.hi, value);
      this.rarity.fill(0);
      this.rarityTotal = 0;
    }
    if (this.hi > this.lo) {
      this.rarity[this.binOf(value)]++;
      this.rarityTotal++;
    }
    this.remember(value);
  }

  private remember(value: number): void {
    this.history[this.histHead] = value;
    this.histHead = (this.histHead + 1) % this.history.length;
    if (this.histCount < this.history.length) this.histCount++;
  }

  /** rows that fall into one bucket on one day (1 when the interval is unknown) */
  private rowsPerBucket(): number {
    if (!Number.isFinite(this.intervalMs)) return 1;
    return Math.max(1, DAY_MS / this.options.season_buckets / this.intervalMs);
  }

  /** the time-of-day bucket, or -1 while the sampling interval is unknown or coarser than a quarter day */
  private bucketOf(timestamp: number): number {
    if (!Number.isFinite(this.intervalMs) || this.intervalMs > DAY_MS / 4) return -1;
    const tod = ((timestamp % DAY_MS) + DAY_MS) % DAY_MS;
    return Math.floor((tod / DAY_MS) * this.options.season_buckets);
  }

  private binOf(value: number): number {
    if (value < this.lo || value > this.hi) return -1;
    const b = Math.floor(((value - this.lo) / (this.hi - this.lo)) * this.options.rarity_bins);
    return Math.min(b, this.options.rarity_bins - 1);
  }

  /** |mean of the last drift_rows values (the newest being `value`) - median| in standard errors */
  private drift(value: number, median: number, spread: number): number {
    const K = this.options.drift_rows;
    if (this.histCount < K - 1) return 0;
    const H = this.history.length;
    let sum = value;
    for (let j = 1; j < K; j++) sum += this.history[(this.histHead - j + H) % H];
    return (Math.abs(sum / K - median) / spread) * Math.sqrt(K);
  }

  /** the latest embedding ends with `value`; the past embeddings compared with it never overlap it */
  private shapeDistance(value: number, scale: number): number {
    const L = this.options.embed_size;
    const k = this.options.neighbours;
    const H = this.history.length;
    if (this.histCount - (2 * L - 1) < k * 4) return 0;
    const cur = this.embedding;
    cur[0] = value;
    for (let j = 1; j < L; j++) cur[j] = this.history[(this.histHead - j + H) % H];
    const best = this.nearest;
    best.fill(Number.POSITIVE_INFINITY);
    for (let age = L; age <= this.histCount - L + 1; age++) {
      let d = 0;
      for (let j = 0; j < L; j++) {
        const diff = cur[j] - this.history[(this.histHead - age - j + 2 * H) % H];
        d += diff * diff;
        if (d >= best[k - 1]) break;
      }
      if (d < best[k - 1]) {
        let i = k - 1;
        while (i > 0 && best[i - 1] > d) {
          best[i] = best[i - 1];
          i--;
        }
        best[i] = d;
      }
    }
    let sum = 0;
    for (let i = 0; i < k; i++) sum += Math.sqrt(best[i] / L);
    return sum / k / scale;
  }
}
