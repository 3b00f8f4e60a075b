/** Deterministic synthetic series for the metric-anomaly tests (seeded, so every run sees the same data). */
import { Rng } from '../../../core/prng.js';

/** a seeded uniform [0, 1) source (the core PRNG) */
export function mulberry32(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** roughly normal noise (sum of uniforms) */
export function noise(rand: () => number): number {
  return rand() + rand() + rand() + rand() - 2;
}

export interface SeriesSpec {
  rows: number;
  stepMs: number;
  seed: number;
  base: number;
  /** amplitude of the daily cycle */
  daily: number;
  /** noise scale */
  sigma: number;
  /** extra value added from row `at` for `length` rows (Infinity = a level shift) */
  events?: { at: number; length: number; add: number }[];
}

export const T0 = Date.UTC(2026, 0, 5);

export function makeSeries(spec: SeriesSpec): { t: number[]; x: number[] } {
  const rand = mulberry32(spec.seed);
  const t: number[] = [];
  const x: number[] = [];
  for (let i = 0; i < spec.rows; i++) {
    const ts = T0 + i * spec.stepMs;
    const phase = ((ts % 86_400_000) / 86_400_000) * 2 * Math.PI;
    let v = spec.base + spec.daily * Math.sin(phase) + spec.sigma * noise(rand);
    for (const e of spec.events ?? []) if (i >= e.at && i < e.at + e.length) v += e.add;
    t.push(ts);
    x.push(v);
  }
  return { t, x };
}
