import { principalOf, productId } from '../topology.js';
import { type Injector, spread } from './types.js';

const MOVES = [
  { caller: 'catalog', service: 'users', method: 'GET', route: '/users/{id}', path: (id: string) => `/users/${id}` },
  { caller: 'catalog', service: 'payments', method: 'POST', route: '/payments', path: () => '/payments' },
  {
    caller: 'users',
    service: 'orders',
    method: 'GET',
    route: '/orders/{id}',
    path: (id: string) => `/orders/${500000 + (Number(id) - 100000) * 10}`,
  },
  { caller: 'auth', service: 'catalog', method: 'GET', route: '/products/{id}', path: () => '/products/1' },
] as const;

/** a workload calls an endpoint it has never called (lateral movement from a compromised pod) */
export const newCaller: Injector = {
  kind: 'new_caller',
  defaultDurationMs: 4 * 60_000,
  inject(world, w, _req, rng) {
    const m = rng.pick(MOVES);
    const region = rng.chance(0.6) ? 'eu-west-1' : 'us-east-1';
    spread(rng, w, rng.int(3, 8)).forEach((ts) => {
      const u = world.pickUser(rng);
      const path = m.service === 'catalog' ? `/products/${productId(rng)}` : m.path(u.sub);
      world.meshCall({
        ts,
        caller: m.caller,
        principal: principalOf(m.caller),
        service: m.service,
        method: m.method,
        route: m.route,
        path,
        region,
        sourceRegion: region,
        params: m.service === 'payments' ? { amount: 1, currency: 'EUR' } : undefined,
      });
    });
    return [
      {
        kind: 'new_caller',
        service: m.service,
        endpoint: `${m.method} ${m.route}`,
        subject: { type: 'service', value: m.caller },
        start: w.start,
        end: w.end,
      },
    ];
  },
};
