/** Where the metric anomalies are injected: hops and front-end endpoints with enough traffic to measure. */
export const BACKEND_TARGETS = [
  { service: 'catalog', endpoint: 'GET /products/{id}' },
  { service: 'catalog', endpoint: 'GET /products' },
  { service: 'orders', endpoint: 'GET /orders/{id}' },
  { service: 'users', endpoint: 'GET /users/{id}' },
  { service: 'catalog', endpoint: 'GET /search' },
] as const;

export const EDGE_TARGETS = [
  { service: 'frontend', endpoint: 'GET /api/products' },
  { service: 'frontend', endpoint: 'GET /api/products/{id}' },
  { service: 'frontend', endpoint: 'GET /api/search' },
  { service: 'frontend', endpoint: 'GET /api/account' },
] as const;
