import type { AnomalyLabel } from '../labels.js';
import type { Rng } from '../../core/prng.js';
import type { SimWorld } from '../world.js';

/** What to inject: the kind, and optionally when, for how long and where (otherwise the injector chooses). */
export interface AnomalyRequest {
  kind: string;
  /** epoch ms; absent = placed by the simulator after the warm-up */
  at?: number;
  durationMs?: number;
  service?: string;
  endpoint?: string;
  /** injector-specific flavour, e.g. `sqli` for param_anomaly */
  variant?: string;
}

export interface TimeWindow {
  start: number;
  end: number;
}

/** One anomaly kind: adds records or behaviour changes to the world and says what it did (the labels). */
export interface Injector {
  readonly kind: string;
  readonly defaultDurationMs: number;
  inject(world: SimWorld, window: TimeWindow, req: AnomalyRequest, rng: Rng): AnomalyLabel[];
}

/** n timestamps spread uniformly over the window, ascending */
export function spread(rng: Rng, w: TimeWindow, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(w.start + rng.next() * (w.end - w.start));
  return out.sort((a, b) => a - b);
}

/** a target chosen from candidates unless the request names one */
export function target(
  rng: Rng,
  req: AnomalyRequest,
  candidates: readonly { service: string; endpoint: string }[],
): { service: string; endpoint: string } {
  if (req.service && req.endpoint) return { service: req.service, endpoint: req.endpoint };
  const pool = req.service ? candidates.filter((c) => c.service === req.service) : candidates;
  return rng.pick(pool.length > 0 ? pool : candidates);
}
