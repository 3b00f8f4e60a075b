/** Synthetic RED-metric windows for detector scenarios: a daily traffic cycle, steady errors and latency, events. */
import type { WindowMetrics } from '../../detector.js';
import { mulberry32, noise, T0 } from './series.js';

export interface WindowEvent {
  from: number;
  /** windows affected (Infinity: for the rest of the scenario) */
  length: number;
  rateFactor?: number;
  errorRatio?: number;
  p95?: number;
}

export interface WindowScenario {
  service: string;
  endpoint?: string;
  windows: number;
  widthMs?: number;
  seed?: number;
  /** mean requests per window at the daily peak */
  peakCount?: number;
  baseErrorRatio?: number;
  baseP95?: number;
  events?: WindowEvent[];
}

export function makeWindows(s: WindowScenario): WindowMetrics[] {
  const rand = mulberry32(s.seed ?? 1);
  const width = s.widthMs ?? 60_000;
  const peak = s.peakCount ?? 600;
  const out: WindowMetrics[] = [];
  for (let i = 0; i < s.windows; i++) {
    const start = T0 + i * width;
    const phase = ((start % 86_400_000) / 86_400_000) * 2 * Math.PI;
    let mean = peak * (0.6 + 0.4 * Math.sin(phase));
    let errRatio = s.baseErrorRatio ?? 0.005;
    let p95 = (s.baseP95 ?? 120) + 8 * noise(rand);
    for (const e of s.events ?? []) {
      if (i < e.from || i >= e.from + e.length) continue;
      if (e.rateFactor !== undefined) mean *= e.rateFactor;
      if (e.errorRatio !== undefined) errRatio = e.errorRatio;
      if (e.p95 !== undefined) p95 = e.p95 + 8 * noise(rand);
    }
    const count = Math.max(0, Math.round(mean + Math.sqrt(mean) * noise(rand)));
    const errors = Math.min(
      count,
      Math.max(0, Math.round(count * errRatio + Math.sqrt(count * errRatio) * noise(rand))),
    );
    out.push({
      service: s.service,
      ...(s.endpoint !== undefined ? { endpoint: s.endpoint } : {}),
      start,
      widthMs: width,
      count,
      errors,
      rate: count / (width / 1000),
      errorRatio: count > 0 ? errors / count : 0,
      p50: p95 * 0.5,
      p95,
      p99: p95 * 1.3,
      sampleIds: [`rec-${i}-a`, `rec-${i}-b`],
    });
  }
  return out;
}
