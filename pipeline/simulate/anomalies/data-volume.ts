import { edgeEndpoint } from '../topology.js';
import { attackerIp } from '../world.js';
import { type Injector, spread } from './types.js';

/**
 * A signed-in user bulk-exporting their order history: pages 1–3 of GET /api/orders (the pages anyone reads), each
 * answered with 250–400 kB instead of ~4 kB (an account with thousands of orders, or a page size forced up), about
 * 2.5 calls a minute, 5 at least (a caller of the endpoint makes 1–4 in 5 minutes). Each call is the user's own data, so neither
 * `enumeration` nor `token_mismatch` sees it; in 5 minutes the user takes ~4 MB where the endpoint's callers take
 * ~5 kB (p99 ~17 kB). Its order lines name the same three products, so the product look-ups walk nothing.
 */
export const bulkDataAccess: Injector = {
  kind: 'bulk_data_access',
  defaultDurationMs: 12 * 60_000,
  inject(world, w, _req, rng) {
    const user = world.pickUser(rng);
    const products = [rng.int(1, 5000), rng.int(1, 5000), rng.int(1, 5000)];
    spread(rng, w, Math.max(5, Math.round(((w.end - w.start) / 60_000) * 2.5))).forEach((ts, i) => {
      const from = world.records.length;
      world.edgeCall(ts, edgeEndpoint('GET /api/orders'), {
        user,
        rng,
        prepare: (c) => {
          c.params = { page: 1 + (i % 3) };
          c.ids.items = 1;
          c.ids.product = products[i % 3];
        },
      });
      // the order lists, as the orders service answers them and the front end passes them on
      for (const r of world.records.slice(from))
        if (r.status < 400 && (r.route === '/api/orders' || r.route === '/orders'))
          r.respBytes = rng.int(250_000, 400_000);
    });
    return [
      {
        kind: 'bulk_data_access',
        service: 'frontend',
        endpoint: 'GET /api/orders',
        subject: { type: 'user', value: user.sub },
        start: w.start,
        end: w.end,
        alsoAt: [{ service: 'orders', endpoint: 'GET /orders' }],
      },
    ];
  },
};

/**
 * A scraper (an anonymous client) listing the catalogue: GET /api/products with the pages, categories and sorts anyone
 * uses, 15–18 calls a minute, 40 at least (~80 in 5 minutes, where a caller of the endpoint makes 1–2, p99 6). It names no object
 * ids, so `enumeration` does not count it; its answers are the usual size (~700 kB in 5 minutes, under `min_bytes`).
 */
export const excessiveCalls: Injector = {
  kind: 'excessive_calls',
  defaultDurationMs: 12 * 60_000,
  inject(world, w, _req, rng) {
    const ip = attackerIp(rng);
    spread(rng, w, Math.max(40, Math.round(((w.end - w.start) / 60_000) * rng.int(15, 18)))).forEach((ts) => {
      world.edgeCall(ts, edgeEndpoint('GET /api/products'), { user: null, ip, rng });
    });
    return [
      {
        kind: 'excessive_calls',
        service: 'frontend',
        endpoint: 'GET /api/products',
        subject: { type: 'ip', value: ip },
        start: w.start,
        end: w.end,
      },
    ];
  },
};
