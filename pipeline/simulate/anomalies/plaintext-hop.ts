import { productId } from '../topology.js';
import { type Injector, spread } from './types.js';

/** known service pairs whose sidecar stopped doing mTLS (a misconfigured or bypassed proxy) */
const PAIRS = [
  { caller: 'frontend', service: 'catalog', method: 'GET', route: '/products/{id}' },
  { caller: 'orders', service: 'payments', method: 'POST', route: '/payments' },
  { caller: 'orders', service: 'users', method: 'GET', route: '/users/{id}' },
  { caller: 'frontend', service: 'users', method: 'GET', route: '/users/{id}' },
] as const;

/** a service-to-service call in plaintext: no client certificate, no principal */
export const plaintextHop: Injector = {
  kind: 'plaintext_hop',
  defaultDurationMs: 4 * 60_000,
  inject(world, w, _req, rng) {
    const p = rng.pick(PAIRS);
    const region = rng.chance(0.6) ? 'eu-west-1' : 'us-east-1';
    spread(rng, w, rng.int(3, 10)).forEach((ts) => {
      const u = world.pickUser(rng);
      const path =
        p.service === 'catalog'
          ? `/products/${productId(rng)}`
          : p.service === 'users'
            ? `/users/${u.sub}`
            : '/payments';
      world.meshCall({
        ts,
        caller: p.caller,
        principal: null,
        mtls: false,
        service: p.service,
        method: p.method,
        route: p.route,
        path,
        region,
        sourceRegion: region,
        user: u,
        params:
          p.service === 'payments'
            ? { amount: Math.round(rng.logNormal(40, 0.5) * 100) / 100, currency: 'EUR' }
            : undefined,
      });
    });
    return [
      {
        kind: 'plaintext_hop',
        service: p.service,
        subject: { type: 'service', value: p.caller },
        start: w.start,
        end: w.end,
        note: `${p.method} ${p.route}`,
      },
    ];
  },
};
