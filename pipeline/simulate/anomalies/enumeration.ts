import { edgeEndpoint } from '../topology.js';
import { attackerIp } from '../world.js';
import { type Injector, spread } from './types.js';

/**
 * Broken object-level authorisation probing: one subject walks many object ids on one endpoint. Variants: `orders`
 * (a logged-in user walking order ids, mostly refused) and `scrape` (an anonymous client walking product ids).
 */
export const enumeration: Injector = {
  kind: 'enumeration',
  defaultDurationMs: 10 * 60_000,
  inject(world, w, req, rng) {
    const variant = req.variant ?? rng.pick(['orders', 'scrape']);
    const n = rng.int(150, 260);
    const first = rng.int(100, 4000);
    if (variant === 'orders') {
      const user = world.pickUser(rng);
      const ip = user.ips[0];
      const base = 500000 + rng.int(0, 3000) * 10;
      spread(rng, w, n).forEach((ts, i) => {
        const order = base + i;
        const own = user.orders.includes(order);
        world.edgeCall(ts, edgeEndpoint('GET /api/orders/{id}'), {
          user,
          ip,
          prepare: (c) => {
            c.ids.order = order;
          },
          statusFor: (t) => (t.service === 'orders' && !own ? (rng.chance(0.8) ? 403 : 404) : undefined),
        });
      });
      return [
        {
          kind: 'enumeration',
          service: 'frontend',
          endpoint: 'GET /api/orders/{id}',
          subject: { type: 'user', value: user.sub },
          start: w.start,
          end: w.end,
          alsoAt: [{ service: 'orders', endpoint: 'GET /orders/{id}' }],
          // 150–260 calls in minutes where a caller makes a few
          alsoKinds: ['excessive_calls'],
          note: 'orders',
        },
      ];
    }
    const ip = attackerIp(rng);
    spread(rng, w, n).forEach((ts, i) => {
      world.edgeCall(ts, edgeEndpoint('GET /api/products/{id}'), {
        user: null,
        ip,
        prepare: (c) => {
          c.ids.product = first + i;
        },
      });
    });
    return [
      {
        kind: 'enumeration',
        service: 'frontend',
        endpoint: 'GET /api/products/{id}',
        subject: { type: 'ip', value: ip },
        start: w.start,
        end: w.end,
        alsoAt: [{ service: 'catalog', endpoint: 'GET /products/{id}' }],
        // 150–260 product pages of ~5 kB in minutes: up to ~1.5 MB where a caller takes ~30 kB
        alsoKinds: ['excessive_calls', 'bulk_data_access'],
        note: 'scrape',
      },
    ];
  },
};
