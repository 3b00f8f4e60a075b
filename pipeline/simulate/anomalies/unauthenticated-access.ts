import { edgeEndpoint } from '../topology.js';
import { attackerIp } from '../world.js';
import { type Injector, spread } from './types.js';

/** backend routes a misrouted ingress or a leftover debug handler might expose */
const OPEN_ROUTES = [
  { service: 'users', route: '/users/export' },
  { service: 'orders', route: '/orders/debug/dump' },
  { service: 'payments', route: '/payments/admin/refunds' },
] as const;

/**
 * Calls answered without any credential where one is required. Variants: `auth_dropped` (the front end's order page,
 * which always required a logged-in user, answers anonymous clients: a removed auth check) and `open_endpoint` (a
 * client outside the mesh reaches a backend route nobody called before, no token, no certificate).
 */
export const unauthenticatedAccess: Injector = {
  kind: 'unauthenticated_access',
  defaultDurationMs: 5 * 60_000,
  inject(world, w, req, rng) {
    const variant = req.variant ?? rng.pick(['auth_dropped', 'open_endpoint']);
    const ips = Array.from({ length: rng.int(1, 3) }, () => attackerIp(rng));
    const times = spread(rng, w, rng.int(5, 10));
    const label = (service: string, endpoint: string) => [
      { kind: 'unauthenticated_access', service, endpoint, start: w.start, end: w.end, note: variant },
    ];
    if (variant === 'auth_dropped') {
      const endpoint = 'GET /api/orders/{id}';
      times.forEach((ts, i) => {
        const owner = world.pickUser(rng);
        world.edgeCall(ts, edgeEndpoint(endpoint), {
          user: null,
          ip: ips[i % ips.length],
          prepare: (c) => {
            c.ids.order = owner.orders.length > 0 ? rng.pick(owner.orders) : 900000;
            c.ids.owner = owner.sub;
          },
        });
      });
      return label('frontend', endpoint);
    }
    const open = rng.pick(OPEN_ROUTES);
    const region = rng.chance(0.6) ? 'eu-west-1' : 'us-east-1';
    times.forEach((ts, i) => {
      world.meshCall({
        ts,
        caller: 'frontend',
        client: ips[i % ips.length],
        service: open.service,
        method: 'GET',
        route: open.route,
        path: open.route,
        region,
        sourceRegion: region,
      });
    });
    return label(open.service, `GET ${open.route}`);
  },
};
