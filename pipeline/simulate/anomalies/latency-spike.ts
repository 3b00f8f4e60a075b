import { upstreamOf } from '../topology.js';
import { BACKEND_TARGETS } from './metric-targets.js';
import { type Injector, target } from './types.js';

/** a hop slows down several times over; its callers wait for it */
export const latencySpike: Injector = {
  kind: 'latency_spike',
  defaultDurationMs: 6 * 60_000,
  inject(world, w, req, rng) {
    const t = target(rng, req, BACKEND_TARGETS);
    const latencyFactor = 5 + rng.next() * 5;
    world.modifiers.push({ start: w.start, end: w.end, service: t.service, endpoint: t.endpoint, latencyFactor });
    return [
      {
        kind: 'latency_spike',
        ...t,
        start: w.start,
        end: w.end,
        alsoAt: upstreamOf(t.service, t.endpoint),
        note: `latency x${latencyFactor.toFixed(1)}`,
      },
    ];
  },
};
