import { edgeEndpoint } from '../topology.js';
import { type Injector, spread } from './types.js';

/**
 * A front-end request that fans out into far more backend calls than usual: the order history of an account
 * with a huge number of lines, each line fetched one by one (an N+1 amplification an attacker can trigger on purpose).
 */
export const fanOut: Injector = {
  kind: 'fan_out',
  defaultDurationMs: 5 * 60_000,
  inject(world, w, _req, rng) {
    const user = world.pickUser(rng);
    const products = Array.from({ length: 8 }, () => rng.int(1, 5000));
    spread(rng, w, rng.int(2, 4)).forEach((ts) => {
      world.edgeCall(ts, edgeEndpoint('GET /api/orders'), {
        user,
        prepare: (c) => {
          c.params = { page: 1 };
          c.ids.items = rng.int(60, 150);
          c.ids.product = products[0];
          for (let i = 1; i < Number(c.ids.items); i++) c.ids[`product${i}`] = products[i % products.length];
        },
      });
    });
    return [
      {
        kind: 'fan_out',
        service: 'frontend',
        endpoint: 'GET /api/orders',
        subject: { type: 'user', value: user.sub },
        start: w.start,
        end: w.end,
        // the amplified requests' product look-ups: hundreds of calls and up to ~1 MB for the user in minutes
        alsoAt: [{ service: 'catalog', endpoint: 'GET /products/{id}' }],
        alsoKinds: ['excessive_calls', 'bulk_data_access'],
      },
    ];
  },
};
