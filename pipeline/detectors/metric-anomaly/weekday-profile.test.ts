import { describe, expect, it } from 'vitest';
import { StreamingScorer } from './streaming-scorer.js';
import { WeekdayProfile } from './weekday-profile.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** a Monday, 00:00 UTC */
const MONDAY = Date.UTC(2024, 0, 1);
const isWeekend = (t: number) => {
  const d = new Date(t).getUTCDay();
  return d === 0 || d === 6;
};
/** requests per 5 minutes: a daily shape (busy afternoons), half the level at weekends, a little deterministic noise */
const traffic = (t: number, i: number) => {
  const hour = new Date(t).getUTCHours();
  const shape = 60 + 40 * Math.sin(((hour - 6) / 24) * 2 * Math.PI);
  return (isWeekend(t) ? 0.5 : 1) * shape + ((i * 7919) % 11) - 5;
};

describe('WeekdayProfile', () => {
  it('keeps the factor at 1 until every weekday has been seen enough, then scales weekends down', () => {
    const p = new WeekdayProfile(0.3, 2);
    const rowsPerDay = 24;
    let t = MONDAY;
    for (let i = 0; i < 13 * 24; i++, t += HOUR) p.learn(t, isWeekend(t) ? 50 : 100, rowsPerDay);
    // 13 whole days folded at most: Sunday seen once (the 14th day is still being summed)
    expect(p.factor(MONDAY + 5 * DAY)).toBe(1);
    for (let i = 0; i < 7 * 24; i++, t += HOUR) p.learn(t, isWeekend(t) ? 50 : 100, rowsPerDay);
    const saturday = p.factor(MONDAY + 5 * DAY);
    const tuesday = p.factor(MONDAY + DAY);
    expect(saturday).toBeCloseTo(50 / (600 / 7), 5);
    expect(tuesday).toBeCloseTo(100 / (600 / 7), 5);
  });

  it('counts whole days only, and stays at 1 for a series with negative values', () => {
    const partial = new WeekdayProfile(0.3, 1);
    let t = MONDAY;
    // every day only half covered: nothing is folded
    for (let d = 0; d < 21; d++) for (let h = 0; h < 12; h++) partial.learn(t + d * DAY + h * HOUR, 100, 24);
    expect(partial.snapshot().days).toEqual([0, 0, 0, 0, 0, 0, 0]);

    const negative = new WeekdayProfile(0.3, 1);
    for (let i = 0; i < 21 * 24; i++, t += HOUR) negative.learn(t, isWeekend(t) ? -5 : 100, 24);
    expect(negative.factor(MONDAY + 5 * DAY)).toBe(1);
  });

  it('keeps the factor at 1 when the days differ without a weekly pattern', () => {
    const p = new WeekdayProfile(0.3, 2);
    let t = MONDAY;
    // every day's level jumps around, whatever its weekday
    const level = (day: number) => 100 + 40 * ((((day * 7919) % 13) / 12) * 2 - 1);
    for (let i = 0; i < 8 * 7 * 24; i++, t += HOUR) p.learn(t, level(Math.floor(i / 24)), 24);
    expect(p.snapshot().days.every((n) => n >= 7)).toBe(true);
    for (let d = 0; d < 7; d++) expect(p.factor(MONDAY + d * DAY)).toBe(1);
  });

  it('survives a snapshot and refuses one that does not fit', () => {
    const p = new WeekdayProfile(0.3, 1);
    let t = MONDAY;
    for (let i = 0; i < 15 * 24; i++, t += HOUR) p.learn(t, isWeekend(t) ? 40 : 100, 24);
    const copy = new WeekdayProfile(0.3, 1);
    copy.restore(JSON.parse(JSON.stringify(p.snapshot())));
    expect(copy.factor(MONDAY + 6 * DAY)).toBe(p.factor(MONDAY + 6 * DAY));
    expect(copy.factor(MONDAY + 6 * DAY)).toBeLessThan(0.6);
    expect(() => copy.restore({ ...p.snapshot(), level: [1, 2] })).toThrow(RangeError);
  });
});

describe('StreamingScorer with the weekly factor', () => {
  /** four weeks of 5-minute rows; the value the scorer expects on the fourth Saturday at 15:00 */
  function fourthSaturday(weekly: boolean) {
    const s = new StreamingScorer({ weekly });
    const step = 5 * 60_000;
    const saturday = MONDAY + 3 * 7 * DAY + 5 * DAY + 15 * HOUR;
    let expected = Number.NaN;
    for (let i = 0, t = MONDAY; t < MONDAY + 4 * 7 * DAY; i++, t += step) {
      s.update(t, traffic(t, i));
      if (t === saturday) expected = s.detail.expected;
    }
    return { expected };
  }

  it('expects the weekend level on a weekend once it has learnt it (the daily profile alone expects a mix)', () => {
    const withWeek = fourthSaturday(true);
    const dailyOnly = fourthSaturday(false);
    // at 15:00 a weekday sees ~88, a weekend day ~44
    expect(withWeek.expected).toBeGreaterThan(40);
    expect(withWeek.expected).toBeLessThan(60);
    expect(dailyOnly.expected).toBeGreaterThan(60);
  });
});
