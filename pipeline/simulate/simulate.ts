import type { ApiCallRecord } from '../core/record.js';
import { mwError } from '../core/errors.js';
import { type AnomalyRequest, INJECTORS } from './anomalies/index.js';
import type { AnomalyLabel } from './labels.js';
import { Rng } from '../core/prng.js';
import { SimWorld } from './world.js';

export interface SimulateOptions {
  seed: number;
  /** epoch ms of the first record */
  start: number;
  durationMs: number;
  /** restrict the mesh to these backend services (the front end is always there) */
  services?: string[];
  /** front-end requests per second at the daily mean (backend calls come on top) */
  rps?: number;
  /** simulated users (default 400) */
  users?: number;
  anomalies?: AnomalyRequest[];
  /** share of the run before any anomaly is placed automatically (learning periods), default 0.5 */
  warmupShare?: number;
}

export interface Simulation {
  /** sorted by ts */
  records: ApiCallRecord[];
  labels: AnomalyLabel[];
}

/** the daily shape of traffic: a trough at night, a peak in the afternoon (UTC) */
export function seasonality(ts: number): number {
  const hour = (ts % 86_400_000) / 3_600_000;
  return 1 + 0.35 * Math.sin((2 * Math.PI * (hour - 8)) / 24);
}

/**
 * Simulated mesh traffic with labelled anomalies, deterministic given the seed. Anomalies without `at` are spread
 * over the part of the run after the warm-up, one after the other, so their effects do not overlap.
 */
export function simulate(opts: SimulateOptions): Simulation {
  const rps = opts.rps ?? 10;
  const end = opts.start + opts.durationMs;
  const world = new SimWorld({
    seed: opts.seed,
    start: opts.start,
    end,
    userCount: opts.users ?? 400,
    services: opts.services,
  });
  const placeRng = new Rng(opts.seed ^ 0x2545f491);
  const labels: AnomalyLabel[] = [];
  const requests = opts.anomalies ?? [];
  const auto = requests.filter((r) => r.at === undefined);
  const warm = opts.start + opts.durationMs * (opts.warmupShare ?? 0.5);
  const slot = auto.length > 0 ? (end - warm) / auto.length : 0;
  let autoIndex = 0;
  for (const req of requests) {
    const injector = INJECTORS[req.kind];
    if (!injector)
      throw mwError('BAD_REQUEST', `unknown anomaly kind ${req.kind} (known: ${Object.keys(INJECTORS).join(', ')})`);
    let start: number;
    let duration = req.durationMs ?? injector.defaultDurationMs;
    if (req.at !== undefined) start = req.at;
    else {
      const slotStart = warm + slot * autoIndex++;
      duration = Math.min(duration, slot * 0.6);
      start = slotStart + placeRng.next() * (slot * 0.9 - duration);
    }
    const window = { start: Math.round(start), end: Math.round(Math.min(start + duration, end)) };
    labels.push(...injector.inject(world, window, req, placeRng.fork()));
  }
  generateBase(world, opts.start, end, rps);
  world.records.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { records: world.records, labels };
}

/** normal traffic: per second and per front-end endpoint, a Poisson number of requests */
function generateBase(world: SimWorld, start: number, end: number, rps: number): void {
  const rng = world.rng;
  const edges = world.edges;
  let total = 0;
  for (const e of edges) total += e.weight;
  for (let t = start; t < end; t += 1000) {
    const season = seasonality(t);
    for (const e of edges) {
      const lambda = (rps * season * e.weight) / total;
      const f = world.rateFactor(`${e.name}`, t);
      const n = rng.poisson(lambda * Math.min(f, 1));
      for (let i = 0; i < n; i++) world.edgeCall(t + rng.next() * 1000, e);
      // extra load from a spike: new anonymous visitors
      const extra = f > 1 ? rng.poisson(lambda * (f - 1)) : 0;
      for (let i = 0; i < extra; i++)
        world.edgeCall(t + rng.next() * 1000, e, { user: e.anonymousShare > 0 ? null : undefined });
    }
  }
}
