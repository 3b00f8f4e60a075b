import { describe, expect, it } from 'vitest';
import { SortedWindow } from './sorted-window.js';
import { DEFAULT_SCORER_OPTIONS, type ScorerState, StreamingScorer } from './streaming-scorer.js';
import { makeSeries } from './testdata/series.js';

const FIVE_MIN = 300_000;

function scoreAll(t: number[], x: number[], opts = {}): number[] {
  const s = new StreamingScorer(opts);
  return x.map((v, i) => s.update(t[i], v));
}

describe('SortedWindow', () => {
  it('keeps the last values sorted: quantiles and ranks by hand', () => {
    const w = new SortedWindow(5);
    for (const x of [5, 1, 4, 2, 3]) w.push(x);
    expect(w.quantile(0.5)).toBe(3);
    expect(w.quantile(0.25)).toBe(2);
    expect(w.quantile(0.1)).toBeCloseTo(1.4, 12);
    expect(w.countAtLeast(4)).toBe(2);
    w.push(10); // evicts the oldest (5)
    expect(w.toArray()).toEqual([1, 4, 2, 3, 10]);
    expect(w.max()).toBe(10);
    expect(w.min()).toBe(1);
    expect(w.quantile(0.5)).toBe(3);
    w.push(0); // evicts 1
    expect(w.quantile(0)).toBe(0);
    expect(w.countAtLeast(1)).toBe(4);
  });

  it('agrees with sorting the ring after many pushes with duplicates', () => {
    const w = new SortedWindow(7);
    for (let i = 0; i < 200; i++) {
      w.push((i * 37) % 11);
      const sorted = [...w.toArray()].sort((a, b) => a - b);
      expect(w.quantile(0)).toBe(sorted[0]);
      expect(w.quantile(1)).toBe(sorted[sorted.length - 1]);
    }
  });
});

describe('StreamingScorer', () => {
  const quiet = { rows: 3000, stepMs: FIVE_MIN, seed: 7, base: 100, daily: 20, sigma: 3 };

  it('is causal: the scores of a prefix do not change when later rows are appended', () => {
    const { t, x } = makeSeries({ ...quiet, events: [{ at: 1600, length: 20, add: 60 }] });
    const full = scoreAll(t, x);
    for (const cut of [1, 700, 1599, 1600, 1610]) {
      expect(scoreAll(t.slice(0, cut), x.slice(0, cut))).toEqual(full.slice(0, cut));
    }
  });

  it('scores stay in [0, 1], and a row the scorer cannot learn from scores 0', () => {
    const { t, x } = makeSeries(quiet);
    const s = new StreamingScorer();
    for (let i = 0; i < x.length; i++) {
      const v = s.update(t[i], x[i]);
      expect(v >= 0 && v <= 1).toBe(true);
    }
    const rows = s.rows;
    expect(s.update(t[t.length - 1] + FIVE_MIN, Number.NaN)).toBe(0);
    expect(s.rows).toBe(rows);
  });

  it('flags a spike once, at its start, after a seasonal baseline', () => {
    const { t, x } = makeSeries({ ...quiet, events: [{ at: 2000, length: 12, add: 80 }] });
    const scores = scoreAll(t, x);
    const threshold = 0.6;
    const flagged = scores.map((s, i) => (s >= threshold ? i : -1)).filter((i) => i >= 0);
    expect(flagged).toEqual([2000]);
    expect(scores[2000]).toBeGreaterThan(0.75);
  });

  it('flags a level shift at its start, then re-baselines instead of alerting forever', () => {
    const { t, x } = makeSeries({ ...quiet, events: [{ at: 1500, length: Number.POSITIVE_INFINITY, add: 70 }] });
    const s = new StreamingScorer();
    const scores = x.map((v, i) => s.update(t[i], v));
    expect(scores[1500]).toBeGreaterThan(0.6);
    expect(scores.slice(1501).filter((v) => v >= 0.6)).toEqual([]);
    // the expected value has moved to the new level (base 100 + 70, within the daily cycle's amplitude)
    expect(
      Math.abs(s.detail.expected - (100 + 70 + 20 * Math.sin(((t[2999] % 86_400_000) / 86_400_000) * 2 * Math.PI))),
    ).toBeLessThan(15);
  });

  it('gates scores while the baseline is young', () => {
    const { t, x } = makeSeries({ ...quiet, events: [{ at: 100, length: 5, add: 500 }] });
    const s = new StreamingScorer();
    const early = x.slice(0, 200).map((v, i) => s.update(t[i], v));
    expect(Math.max(...early)).toBe(0);
    // confidence counts the rows learnt before the one being scored
    expect(s.detail.confidence).toBeCloseTo(199 / DEFAULT_SCORER_OPTIONS.min_baseline, 12);
    // the same jump once the baseline is mature is flagged
    const late = makeSeries({ ...quiet, events: [{ at: 1000, length: 5, add: 500 }] });
    expect(scoreAll(late.t, late.x)[1000]).toBeGreaterThan(0.6);
  });

  it('snapshot/restore through JSON gives identical subsequent scores', () => {
    const { t, x } = makeSeries({ ...quiet, events: [{ at: 2400, length: 30, add: -50 }] });
    for (const cut of [0, 1, 350, 1800]) {
      const a = new StreamingScorer();
      for (let i = 0; i < cut; i++) a.update(t[i], x[i]);
      const b = new StreamingScorer();
      b.restore(JSON.parse(JSON.stringify(a.snapshot())));
      for (let i = cut; i < x.length; i++) expect(b.update(t[i], x[i])).toBe(a.update(t[i], x[i]));
      expect(b.snapshot()).toEqual(a.snapshot());
    }
  });

  it('discounts a spike of a kind already seen, not a new kind of event (range novelty)', () => {
    // the same spike three times at the same time of day, then a drop to a level never visited
    const day = 288;
    const spikes = [1000, 1000 + 2 * day, 1000 + 4 * day].map((at) => ({ at, length: 6, add: 80 }));
    const { t, x } = makeSeries({ ...quiet, events: [...spikes, { at: 2600, length: 6, add: -70 }] });
    const run = (opts: object) => {
      const s = new StreamingScorer(opts);
      const at = new Map<number, { score: number; novelty: number }>();
      for (let i = 0; i < x.length; i++) {
        const score = s.update(t[i], x[i]);
        at.set(i, { score, novelty: s.detail.novelty });
      }
      return (i: number) => at.get(i) as { score: number; novelty: number };
    };
    const gated = run({});
    const plain = run({ novelty_grids: 0 });
    expect(gated(1000).novelty).toBe(1);
    expect(gated(1000).score).toBeCloseTo(plain(1000).score, 12);
    for (const { at } of spikes.slice(1)) {
      expect(gated(at).novelty).toBe(0);
      expect(gated(at).score).toBeLessThan(0.5);
      expect(plain(at).score).toBeGreaterThan(0.5);
    }
    expect(gated(2600).novelty).toBe(1);
    expect(gated(2600).score).toBeCloseTo(plain(2600).score, 12);
    expect(gated(2600).score).toBeGreaterThan(0.6);
  });

  it('reports fixed per-series memory, the novelty gate included', () => {
    const { t, x } = makeSeries({ ...quiet, events: [{ at: 1000, length: Number.POSITIVE_INFINITY, add: 500 }] });
    const s = new StreamingScorer();
    const before = s.bytes;
    for (let i = 0; i < x.length; i++) s.update(t[i], x[i]);
    expect(s.bytes).toBe(before);
    expect(before).toBeGreaterThan(new StreamingScorer({ novelty_grids: 0 }).bytes);
    expect(before).toBeLessThan(12_000);
  });

  it('restores a snapshot taken before the novelty gate existed: the gate starts afresh', () => {
    const { t, x } = makeSeries(quiet);
    const a = new StreamingScorer();
    for (let i = 0; i < 1000; i++) a.update(t[i], x[i]);
    const old: Partial<ScorerState> = JSON.parse(JSON.stringify(a.snapshot()));
    delete old.novelty;
    const b = new StreamingScorer();
    b.restore(old as ScorerState);
    b.update(t[1000], x[1000]);
    expect(b.detail.novelty).toBe(1);
    b.update(t[1000], x[1000]);
    expect(b.detail.novelty).toBe(0);
  });

  it('a held row that is then learnt is the same as a row learnt at once, whatever was held before', () => {
    const { t, x } = makeSeries({ ...quiet, events: [{ at: 2000, length: 40, add: 80 }] });
    const plain = new StreamingScorer();
    const held = new StreamingScorer();
    for (let i = 0; i < x.length; i++) {
      expect(held.update(t[i], x[i], true)).toBe(plain.update(t[i], x[i]));
      expect(held.holding).toBe(true);
      held.learnHeld();
      held.learnHeld(); // only once
      expect(held.holding).toBe(false);
    }
    expect(held.snapshot()).toEqual(plain.snapshot());
  });

  it('rows held and never learnt leave the expectation where it was; the score still remembers them', () => {
    // a level 80 above the daily cycle for 200 rows (five-minute rows: the daily profile is mature by then)
    const { t, x } = makeSeries({ ...quiet, events: [{ at: 2000, length: 200, add: 80 }] });
    const learnt = new StreamingScorer();
    const kept = new StreamingScorer();
    for (let i = 0; i < 2000; i++) {
      learnt.update(t[i], x[i]);
      kept.update(t[i], x[i]);
    }
    const before = kept.snapshot();
    for (let i = 2000; i < 2200; i++) {
      learnt.update(t[i], x[i]);
      kept.update(t[i], x[i], true);
      // the expectation of a row at the same time of day a day earlier, without the level
      const usual = x[i - 288] - (i - 288 >= 2000 ? 80 : 0);
      expect(Math.abs(kept.detail.expected - usual)).toBeLessThan(15);
    }
    // the learning scorer's time-of-day bucket is taking the level in (0.1 of the gap a row), the holding one's is not
    expect(learnt.detail.expected - kept.detail.expected).toBeGreaterThan(15);
    const after = kept.snapshot();
    expect(after.n).toBe(before.n);
    expect({ ...after, recentRaw: 0, records: 0, viewAge: 0, novelty: 0, lastTs: 0, held: 0 }).toEqual({
      ...before,
      recentRaw: 0,
      records: 0,
      viewAge: 0,
      novelty: 0,
      lastTs: 0,
      held: 0,
    });
    expect(after.recentRaw).not.toEqual(before.recentRaw);
    // back to the usual level: learnt again, the held run's scores do not reach the first row after it
    expect(kept.update(t[2200], x[2200])).toBeLessThan(0.5);
    expect(kept.rows).toBe(before.n + 1);
  });

  it('a snapshot keeps a held row (learnt after restore as before it); an older snapshot holds none', () => {
    const { t, x } = makeSeries(quiet);
    const a = new StreamingScorer();
    for (let i = 0; i < 1000; i++) a.update(t[i], x[i], i === 999);
    const state: ScorerState = JSON.parse(JSON.stringify(a.snapshot()));
    expect(state.held).toEqual({ t: t[999], x: x[999] });
    const b = new StreamingScorer();
    b.restore(state);
    expect(b.holding).toBe(true);
    a.learnHeld();
    b.learnHeld();
    expect(b.snapshot()).toEqual(a.snapshot());
    expect(a.snapshot().held).toBeUndefined();
    const c = new StreamingScorer();
    c.restore(a.snapshot());
    expect(c.holding).toBe(false);
    expect(() => new StreamingScorer().restore({ ...state, held: { t: Number.NaN, x: 1 } })).toThrow(RangeError);
  });

  it('refuses a snapshot of a differently sized scorer', () => {
    const a = new StreamingScorer({ season_buckets: 12 });
    a.update(0, 1);
    expect(() => new StreamingScorer().restore(a.snapshot())).toThrow(RangeError);
    expect(() => new StreamingScorer({ baseline_size: 0 })).toThrow(RangeError);
    expect(() => new StreamingScorer({ novelty_grids: 2.5 })).toThrow(RangeError);
    expect(() => new StreamingScorer({ novelty_discount: 1.5 })).toThrow(RangeError);
    expect(() => new StreamingScorer({ novelty_regrow: 1 })).toThrow(RangeError);
    // a snapshot whose novelty grids have more bins than this scorer's
    const g = new StreamingScorer({ novelty_grids: 12 });
    for (let i = 0; i < 150; i++) g.update(i * FIVE_MIN, i % 17);
    expect(() => new StreamingScorer({ novelty_grids: 1, novelty_bins_max: 6 }).restore(g.snapshot())).toThrow(
      RangeError,
    );
  });
});
