/**
 * The weekly part of seasonality: how each day of the week's level compares with the week's (API traffic is lower at
 * weekends, batch jobs run on Mondays). A factor per weekday, level of that weekday / mean level of all seven,
 * learnt from whole days only and smoothed over weeks. The time-of-day profile then learns values divided by the
 * factor and predicts `profile × factor`, so one daily shape serves every day of the week at its own level.
 * Multiplicative, so it applies to non-negative series only; the factor is 1 until every weekday has been seen
 * `minWeeks` times, for a series with negative values, or when the week's mean level is 0. Fixed memory: 7 + 7
 * numbers and the day being summed.
 */

const DAY_MS = 86_400_000;
/** a factor never scales the profile by more than this, either way */
const MAX_FACTOR = 10;
/** a day counts when it holds at least this share of the rows a whole day would */
const WHOLE_DAY = 0.8;

export interface WeekdayProfileState {
  level: number[];
  days: number[];
  spread?: number[];
  /** the day (days since the epoch) being summed, null before the first row */
  day: number | null;
  sum: number;
  rows: number;
  negative: boolean;
}

export class WeekdayProfile {
  private readonly level = new Float64Array(7);
  private readonly days = new Float64Array(7);
  /** how far a day's mean strays from its weekday's level, smoothed like the level */
  private readonly spread = new Float64Array(7);
  private day = Number.NaN;
  private sum = 0;
  private rows = 0;
  private negative = false;

  constructor(
    /** smoothing weight of a new day against the weekday's level */
    private readonly alpha: number,
    /** days of each weekday needed before the factor departs from 1 */
    private readonly minWeeks: number,
  ) {}

  /** the factor for the weekday of `timestamp` (1 while not learnt) */
  factor(timestamp: number): number {
    if (this.negative) return 1;
    let mean = 0;
    for (let d = 0; d < 7; d++) {
      if (this.days[d] < this.minWeeks) return 1;
      mean += this.level[d] / 7;
    }
    if (!(mean > 0)) return 1;
    const d = weekdayOf(timestamp);
    // a weekday apart from the week by less than its own days stray from it is no weekly pattern, just noise
    if (Math.abs(this.level[d] - mean) <= 2 * this.spread[d]) return 1;
    const f = this.level[d] / mean;
    return Math.min(MAX_FACTOR, Math.max(1 / MAX_FACTOR, f));
  }

  /** add a row; `rowsPerDay` is how many rows a whole day holds at the series' interval */
  learn(timestamp: number, value: number, rowsPerDay: number): void {
    if (value < 0) this.negative = true;
    const day = Math.floor(timestamp / DAY_MS);
    if (day !== this.day) {
      if (!Number.isNaN(this.day) && this.rows >= WHOLE_DAY * rowsPerDay) this.fold(this.day, this.sum / this.rows);
      this.day = day;
      this.sum = 0;
      this.rows = 0;
    }
    this.sum += value;
    this.rows++;
  }

  snapshot(): WeekdayProfileState {
    return {
      level: Array.from(this.level),
      days: Array.from(this.days),
      spread: Array.from(this.spread),
      day: Number.isNaN(this.day) ? null : this.day,
      sum: this.sum,
      rows: this.rows,
      negative: this.negative,
    };
  }

  /** restore a snapshot (absent: start afresh); throws RangeError when it does not fit */
  restore(state: WeekdayProfileState | undefined): void {
    if (state !== undefined) {
      const fits =
        Array.isArray(state.level) &&
        state.level.length === 7 &&
        Array.isArray(state.days) &&
        state.days.length === 7 &&
        [...state.level, ...state.days, state.sum, state.rows].every(Number.isFinite);
      if (!fits) throw new RangeError('weekday profile snapshot does not match this scorer');
    }
    this.level.set(state?.level ?? [0, 0, 0, 0, 0, 0, 0]);
    this.days.set(state?.days ?? [0, 0, 0, 0, 0, 0, 0]);
    this.spread.set(state?.spread?.length === 7 ? state.spread : [0, 0, 0, 0, 0, 0, 0]);
    this.day = state?.day ?? Number.NaN;
    this.sum = state?.sum ?? 0;
    this.rows = state?.rows ?? 0;
    this.negative = state?.negative ?? false;
  }

  private fold(day: number, mean: number): void {
    const d = weekdayOf(day * DAY_MS);
    if (this.days[d] > 0) this.spread[d] += this.alpha * (Math.abs(mean - this.level[d]) - this.spread[d]);
    this.level[d] = this.days[d] === 0 ? mean : this.level[d] + this.alpha * (mean - this.level[d]);
    this.days[d]++;
  }
}

/** 0 = Sunday … 6 = Saturday (UTC) */
function weekdayOf(timestamp: number): number {
  return (((Math.floor(timestamp / DAY_MS) + 4) % 7) + 7) % 7;
}
