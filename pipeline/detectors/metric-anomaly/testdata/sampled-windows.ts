/**
 * Windows built from sampled requests (Poisson counts, log-normal latencies), for the practical-significance tests:
 * endpoint windows and their service's window hold the same requests, as the correlator's series do.
 */
import type { WindowMetrics } from '../../detector.js';
import { mulberry32, T0 } from './series.js';

export interface SampledEndpoint {
  endpoint: string;
  /** mean requests per window */
  count: number;
  /** median latency, ms */
  median: number;
  /** log-normal shape */
  sigma?: number;
  errorRatio?: number;
}

export interface SampledEvent {
  endpoint: string;
  from: number;
  length: number;
  /** the window's count instead of a Poisson draw */
  count?: number;
  latencyFactor?: number;
  /** this many extra requests, each `slowMs` long */
  slow?: number;
  slowMs?: number;
}

export interface SampledScenario {
  service: string;
  windows: number;
  endpoints: SampledEndpoint[];
  events?: SampledEvent[];
  seed?: number;
}

const WIDTH = 60_000;

/** windows in the order the correlator closes them: per start, each endpoint, then the service */
export function sampledWindows(s: SampledScenario): WindowMetrics[] {
  const rand = mulberry32(s.seed ?? 7);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const poisson = (mean: number) => Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
  const out: WindowMetrics[] = [];
  for (let i = 0; i < s.windows; i++) {
    const start = T0 + i * WIDTH;
    const all: number[] = [];
    let allErrors = 0;
    for (const e of s.endpoints) {
      const ev = s.events?.find((x) => x.endpoint === e.endpoint && i >= x.from && i < x.from + x.length);
      const n = ev?.count ?? poisson(e.count);
      const lat: number[] = [];
      let errors = 0;
      for (let k = 0; k < n; k++) {
        lat.push(e.median * (ev?.latencyFactor ?? 1) * Math.exp((e.sigma ?? 0.5) * normal()));
        if (rand() < (e.errorRatio ?? 0.002)) errors++;
      }
      for (let k = 0; k < (ev?.slow ?? 0); k++) lat.push(ev?.slowMs ?? 0);
      all.push(...lat);
      allErrors += errors;
      out.push(windowOf(s.service, e.endpoint, start, lat, errors));
    }
    out.push(windowOf(s.service, undefined, start, all, allErrors));
  }
  return out;
}

function windowOf(
  service: string,
  endpoint: string | undefined,
  start: number,
  latencies: number[],
  errors: number,
): WindowMetrics {
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const count = sorted.length;
  return {
    service,
    ...(endpoint !== undefined ? { endpoint } : {}),
    start,
    widthMs: WIDTH,
    count,
    errors,
    rate: count / (WIDTH / 1000),
    errorRatio: count > 0 ? errors / count : 0,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    sampleIds: [`${endpoint ?? service}-${start}`],
  };
}
