import type { Rng } from '../core/prng.js';

/** The simulated mesh: services, their endpoints and the call trees a front-end request fans out into. */

export type ParamValue = string | number | boolean | null;

export const REGIONS = ['eu-west-1', 'us-east-1'] as const;

export interface ServiceSpec {
  name: string;
  ns: string;
}

export const SERVICES: Record<string, ServiceSpec> = {
  frontend: { name: 'frontend', ns: 'web' },
  catalog: { name: 'catalog', ns: 'shop' },
  orders: { name: 'orders', ns: 'shop' },
  payments: { name: 'payments', ns: 'pay' },
  users: { name: 'users', ns: 'identity' },
  auth: { name: 'auth', ns: 'identity' },
};

export const principalOf = (service: string, ns = SERVICES[service]?.ns ?? 'default'): string =>
  `spiffe://cluster.local/ns/${ns}/sa/${service}`;

/** what one simulated front-end request is about: chosen ids and parameters, shared by every hop of its tree */
export interface CallCtx {
  rng: Rng;
  /** the acting user's id (absent for anonymous calls) */
  sub?: string;
  /** order ids of the acting user */
  orders: number[];
  ids: Record<string, number | string>;
  params: Record<string, ParamValue>;
}

export interface HopTemplate {
  service: string;
  method: string;
  route: string;
  /** median latency of the hop's own work, ms (log-normal) */
  latencyMs: number;
  sigma: number;
  respBytes: number;
  /** base probability of a 5xx */
  errorRate: number;
  /** probability of a 404 (id-bearing routes) */
  notFoundRate?: number;
  /** how many times the parent makes this call (default once) */
  repeat?: (c: CallCtx) => number;
  /** raw path (query included) of the i-th call */
  path: (c: CallCtx, i: number) => string;
  params?: (c: CallCtx, i: number) => Record<string, ParamValue> | undefined;
  children?: HopTemplate[];
}

export interface EdgeEndpoint {
  /** `METHOD /route` of the front-end endpoint */
  name: string;
  weight: number;
  /** share of calls made without a logged-in user */
  anonymousShare: number;
  /** a login: carries the attempted username and an auth outcome instead of a token */
  login?: boolean;
  prepare(c: CallCtx): void;
  tree: HopTemplate;
}

const CATEGORIES = ['books', 'music', 'garden', 'toys', 'kitchen', 'sports', 'beauty', 'tools'];
const SORTS = ['price', 'name', 'rating'];
const WORDS = ['red', 'lamp', 'chair', 'cotton', 'shirt', 'mug', 'desk', 'green', 'wool', 'table', 'phone', 'case'];
export const PRODUCT_COUNT = 5000;

/** a product id with a popularity skew (a few products are viewed a lot) */
export const productId = (rng: Rng): number => 1 + Math.floor(PRODUCT_COUNT * rng.next() ** 2.2);

const hop = (
  t: Omit<HopTemplate, 'sigma' | 'errorRate'> & Partial<Pick<HopTemplate, 'sigma' | 'errorRate'>>,
): HopTemplate => ({
  sigma: 0.5,
  errorRate: 0.003,
  ...t,
});

const query = (params: Record<string, ParamValue>): string => {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return q ? `?${q}` : '';
};

/** a GET whose query string is the request's parameters (`c.params`), passed on as they came: lists and searches */
const queryHop = (t: Omit<Parameters<typeof hop>[0], 'method' | 'path' | 'params'>): HopTemplate =>
  hop({ method: 'GET', ...t, path: (c) => `${t.route}${query(c.params)}`, params: (c) => c.params });

const userHop = (): HopTemplate =>
  hop({
    service: 'users',
    method: 'GET',
    route: '/users/{id}',
    latencyMs: 8,
    respBytes: 900,
    path: (c) => `/users/${c.sub ?? c.ids.owner}`,
  });

const productHop = (repeat?: (c: CallCtx) => number): HopTemplate =>
  hop({
    service: 'catalog',
    method: 'GET',
    route: '/products/{id}',
    latencyMs: 12,
    respBytes: 2400,
    notFoundRate: 0.004,
    repeat,
    path: (c, i) => `/products/${i === 0 ? c.ids.product : (c.ids[`product${i}`] ?? productId(c.rng))}`,
  });

export const EDGE_ENDPOINTS: EdgeEndpoint[] = [
  {
    name: 'GET /api/products',
    weight: 26,
    anonymousShare: 0.3,
    prepare: (c) => {
      c.params = {
        category: c.rng.pick(CATEGORIES),
        page: 1 + Math.floor(8 * c.rng.next() ** 2),
        sort: c.rng.pick(SORTS),
      };
    },
    tree: queryHop({
      service: 'frontend',
      route: '/api/products',
      latencyMs: 4,
      respBytes: 8000,
      children: [queryHop({ service: 'catalog', route: '/products', latencyMs: 18, respBytes: 7000 })],
    }),
  },
  {
    name: 'GET /api/products/{id}',
    weight: 26,
    anonymousShare: 0.3,
    prepare: (c) => {
      c.ids.product = productId(c.rng);
    },
    tree: hop({
      service: 'frontend',
      method: 'GET',
      route: '/api/products/{id}',
      latencyMs: 4,
      respBytes: 5000,
      notFoundRate: 0.004,
      path: (c) => `/api/products/${c.ids.product}`,
      children: [
        productHop(),
        hop({
          service: 'catalog',
          method: 'GET',
          route: '/products/{id}/reviews',
          latencyMs: 22,
          respBytes: 3000,
          repeat: (c) => (c.rng.chance(0.5) ? 1 : 0),
          path: (c) => `/products/${c.ids.product}/reviews?page=1`,
          params: () => ({ page: 1 }),
        }),
      ],
    }),
  },
  {
    name: 'GET /api/search',
    weight: 10,
    anonymousShare: 0.3,
    prepare: (c) => {
      const n = c.rng.int(1, 3);
      const words: string[] = [];
      for (let i = 0; i < n; i++) words.push(c.rng.pick(WORDS));
      c.params = { q: words.join(' '), limit: c.rng.pick([10, 20, 50]) };
    },
    tree: queryHop({
      service: 'frontend',
      route: '/api/search',
      latencyMs: 4,
      respBytes: 6000,
      children: [queryHop({ service: 'catalog', route: '/search', latencyMs: 40, sigma: 0.6, respBytes: 6000 })],
    }),
  },
  {
    name: 'GET /api/orders',
    weight: 6,
    anonymousShare: 0,
    prepare: (c) => {
      c.params = { page: 1 + Math.floor(3 * c.rng.next() ** 3) };
      c.ids.items = c.rng.int(1, 4);
    },
    tree: queryHop({
      service: 'frontend',
      route: '/api/orders',
      latencyMs: 4,
      respBytes: 4000,
      children: [
        hop({
          service: 'orders',
          method: 'GET',
          route: '/orders',
          latencyMs: 20,
          respBytes: 3500,
          path: (c) => `/orders${query({ user_id: c.sub ?? null, page: c.params.page })}`,
          params: (c) => ({ user_id: c.sub ?? null, page: c.params.page }),
        }),
        productHop((c) => Number(c.ids.items)),
      ],
    }),
  },
  {
    name: 'GET /api/orders/{id}',
    weight: 6,
    anonymousShare: 0,
    prepare: (c) => {
      c.ids.order = c.orders.length > 0 ? c.rng.pick(c.orders) : 900000;
    },
    tree: hop({
      service: 'frontend',
      method: 'GET',
      route: '/api/orders/{id}',
      latencyMs: 4,
      respBytes: 2500,
      path: (c) => `/api/orders/${c.ids.order}`,
      children: [
        hop({
          service: 'orders',
          method: 'GET',
          route: '/orders/{id}',
          latencyMs: 15,
          respBytes: 2000,
          path: (c) => `/orders/${c.ids.order}`,
          children: [userHop()],
        }),
      ],
    }),
  },
  {
    name: 'POST /api/orders',
    weight: 4,
    anonymousShare: 0,
    prepare: (c) => {
      c.ids.product = productId(c.rng);
      const quantity = c.rng.int(1, 5);
      c.params = { product_id: c.ids.product, quantity };
      if (c.rng.chance(0.2)) c.params.coupon = c.rng.pick(['SPRING10', 'WELCOME', 'FREESHIP']);
      c.ids.amount = Math.round(c.rng.logNormal(40, 0.6) * quantity * 100) / 100;
    },
    tree: hop({
      service: 'frontend',
      method: 'POST',
      route: '/api/orders',
      latencyMs: 5,
      respBytes: 600,
      path: () => '/api/orders',
      params: (c) => c.params,
      children: [
        hop({
          service: 'orders',
          method: 'POST',
          route: '/orders',
          latencyMs: 30,
          respBytes: 500,
          path: () => '/orders',
          params: (c) => ({ product_id: c.params.product_id, quantity: c.params.quantity }),
          children: [
            productHop(),
            hop({
              service: 'payments',
              method: 'POST',
              route: '/payments',
              latencyMs: 120,
              sigma: 0.6,
              respBytes: 400,
              path: () => '/payments',
              params: (c) => ({ amount: Number(c.ids.amount), currency: 'EUR' }),
            }),
            userHop(),
          ],
        }),
      ],
    }),
  },
  {
    name: 'GET /api/account',
    weight: 8,
    anonymousShare: 0,
    prepare: () => {},
    tree: hop({
      service: 'frontend',
      method: 'GET',
      route: '/api/account',
      latencyMs: 3,
      respBytes: 1200,
      path: () => '/api/account',
      children: [userHop()],
    }),
  },
  {
    name: 'GET /api/users/{id}',
    weight: 3,
    anonymousShare: 0,
    prepare: (c) => {
      c.ids.owner = c.sub ?? '0';
    },
    tree: hop({
      service: 'frontend',
      method: 'GET',
      route: '/api/users/{id}',
      latencyMs: 3,
      respBytes: 1100,
      path: (c) => `/api/users/${c.ids.owner}`,
      children: [
        hop({
          service: 'users',
          method: 'GET',
          route: '/users/{id}',
          latencyMs: 8,
          respBytes: 900,
          path: (c) => `/users/${c.ids.owner}`,
        }),
      ],
    }),
  },
  {
    name: 'PATCH /api/account',
    weight: 2,
    anonymousShare: 0,
    prepare: (c) => {
      c.params = { locale: c.rng.pick(['en-GB', 'de-DE', 'fr-FR', 'en-US', 'es-ES']), newsletter: c.rng.chance(0.5) };
    },
    tree: hop({
      service: 'frontend',
      method: 'PATCH',
      route: '/api/account',
      latencyMs: 3,
      respBytes: 300,
      path: () => '/api/account',
      params: (c) => c.params,
      children: [
        hop({
          service: 'users',
          method: 'PATCH',
          route: '/users/{id}',
          latencyMs: 14,
          respBytes: 300,
          path: (c) => `/users/${c.sub}`,
          params: (c) => c.params,
        }),
      ],
    }),
  },
  {
    name: 'POST /api/login',
    weight: 3,
    anonymousShare: 0,
    login: true,
    prepare: (c) => {
      c.params = { grant_type: 'password', client_id: 'web' };
    },
    tree: hop({
      service: 'frontend',
      method: 'POST',
      route: '/api/login',
      latencyMs: 3,
      respBytes: 700,
      path: () => '/api/login',
      children: [
        hop({
          service: 'auth',
          method: 'POST',
          route: '/oauth/token',
          latencyMs: 60,
          respBytes: 1500,
          path: () => '/oauth/token',
          params: (c) => c.params,
        }),
      ],
    }),
  },
];

export const edgeEndpoint = (name: string): EdgeEndpoint => {
  const e = EDGE_ENDPOINTS.find((x) => x.name === name);
  if (!e) throw new Error(`unknown edge endpoint ${name}`);
  return e;
};

/** every (service, endpoint) a hop template tree reaches, the root included */
export function reachable(
  t: HopTemplate,
  out: { service: string; endpoint: string }[] = [],
): { service: string; endpoint: string }[] {
  out.push({ service: t.service, endpoint: `${t.method} ${t.route}` });
  for (const c of t.children ?? []) reachable(c, out);
  return out;
}

/** the (service, endpoint) hops that call, directly or not, the given one: where its errors and latency show too */
export function upstreamOf(service: string, endpoint: string): { service: string; endpoint: string }[] {
  const out = new Map<string, { service: string; endpoint: string }>();
  const walk = (t: HopTemplate, path: HopTemplate[]): void => {
    if (t.service === service && `${t.method} ${t.route}` === endpoint) {
      for (const p of path)
        out.set(`${p.service} ${p.method} ${p.route}`, { service: p.service, endpoint: `${p.method} ${p.route}` });
    }
    for (const c of t.children ?? []) walk(c, [...path, t]);
  };
  for (const e of EDGE_ENDPOINTS) walk(e.tree, []);
  return [...out.values()];
}
