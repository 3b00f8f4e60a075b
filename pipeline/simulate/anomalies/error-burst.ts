import { upstreamOf } from '../topology.js';
import { BACKEND_TARGETS } from './metric-targets.js';
import { type Injector, target } from './types.js';

/** a hop starts failing (5xx) on a large share of its calls; its callers pass the failures on */
export const errorBurst: Injector = {
  kind: 'error_burst',
  defaultDurationMs: 6 * 60_000,
  inject(world, w, req, rng) {
    const t = target(rng, req, BACKEND_TARGETS);
    const errorRate = 0.3 + rng.next() * 0.3;
    world.modifiers.push({ start: w.start, end: w.end, service: t.service, endpoint: t.endpoint, errorRate });
    return [
      {
        kind: 'error_burst',
        ...t,
        start: w.start,
        end: w.end,
        alsoAt: upstreamOf(t.service, t.endpoint),
        note: `5xx ratio ${errorRate.toFixed(2)}`,
      },
    ];
  },
};
