import { edgeEndpoint, reachable } from '../topology.js';
import { EDGE_TARGETS } from './metric-targets.js';
import { type Injector, target } from './types.js';

/** a front-end endpoint's arrival rate multiplied by `factor`; its backends see the change too */
function trafficChange(
  kind: string,
  factor: (r: number) => number,
  candidates: readonly { service: string; endpoint: string }[],
): Injector {
  return {
    kind,
    defaultDurationMs: 8 * 60_000,
    inject(world, w, req, rng) {
      const t = target(rng, req, candidates);
      const f = factor(rng.next());
      world.modifiers.push({ start: w.start, end: w.end, service: t.service, endpoint: t.endpoint, rateFactor: f });
      const alsoAt = reachable(edgeEndpoint(t.endpoint).tree).slice(1);
      return [{ kind, ...t, start: w.start, end: w.end, alsoAt, note: `rate x${f.toFixed(2)}` }];
    },
  };
}

/** the endpoint's traffic falls to a few percent (a broken client release, a routing fault) */
export const trafficDrop = trafficChange('traffic_drop', (r) => 0.02 + r * 0.06, EDGE_TARGETS);
/** the endpoint's traffic jumps several times over: a campaign brings many new anonymous visitors */
export const trafficSpike = trafficChange(
  'traffic_spike',
  (r) => 5 + r * 3,
  EDGE_TARGETS.filter((t) => t.endpoint !== 'GET /api/account'),
);
