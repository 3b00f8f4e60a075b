import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from './catalog-entry.js';
import { CatalogRoutes } from './catalog-routes.js';

const entry = (over: Partial<CatalogEntry>, paths: string[], method = 'GET'): CatalogEntry => ({
  id: over.id ?? 'e',
  name: 'e',
  labels: {},
  endpoints: paths.map((path) => ({ method, path })),
  ...over,
});

describe('catalogue routes', () => {
  const routes = new CatalogRoutes([
    entry({ service: 'store' }, [
      '/users/me',
      '/users/{userName}',
      '/users/{userName}/repos',
      '/orders/{orderId}',
      '/files/{name}.json',
      '/a/{x}/b',
      '/a/lit/c',
      '/',
    ]),
    entry({ id: 's3', service: 's3' }, ['/{Bucket}', '/{Bucket}/{Key+}']),
    entry({ id: 'hosted', servers: ['https://api.shop.example/v2'] }, ['/carts/{cart_id}']),
  ]);
  const route = (path: string, service = 'store', host?: string, method = 'GET') =>
    routes.route(service, host, method, path);

  it("routes a call to its entry's template, a catalogue literal before a parameter", () => {
    expect(route('/users/alice')).toBe('/users/{userName}');
    expect(route('/users/alice/repos?page=2')).toBe('/users/{userName}/repos');
    expect(route('/users/me')).toBe('/users/me');
    expect(route('/')).toBe('/');
    expect(route('/users/alice/unknown')).toBeNull();
    expect(route('/users/alice', 'store', undefined, 'DELETE')).toBeNull();
  });

  it('backtracks from a literal that leads nowhere to the parameter beside it', () => {
    expect(route('/a/lit/b')).toBe('/a/{x}/b');
    expect(route('/a/lit/c')).toBe('/a/lit/c');
  });

  it('an id parameter takes value-like segments only, so an undocumented word sibling stays apart', () => {
    expect(route('/orders/12345')).toBe('/orders/{orderId}');
    expect(route('/orders/3f2b8c1e-9d4a-4c7b-8e2f-1a2b3c4d5e6f')).toBe('/orders/{orderId}');
    expect(route('/orders/export')).toBeNull();
    // a route already templated is routed to itself (a placeholder is a value)
    expect(route('/orders/{orderId}')).toBe('/orders/{orderId}');
  });

  it('matches a parameter inside a segment and a greedy tail', () => {
    expect(route('/files/report.json')).toBe('/files/{name}.json');
    expect(route('/files/report.xml')).toBeNull();
    expect(route('/my-bucket', 's3')).toBe('/{Bucket}');
    expect(route('/my-bucket/a/b/c.txt', 's3')).toBe('/{Bucket}/{Key+}');
  });

  it("uses only the entries of the call's service or host, with the server's path prefix", () => {
    // another service's `/{Bucket}` does not absorb this service's paths
    expect(route('/health', 'billing')).toBeNull();
    expect(route('/v2/carts/991', 'anything', 'api.shop.example')).toBe('/v2/carts/{cart_id}');
    expect(route('/carts/991', 'anything', 'https://api.shop.example:8443')).toBe('/carts/{cart_id}');
    expect(route('/carts/991', 'anything', 'other.example')).toBeNull();
    expect(new CatalogRoutes([entry({}, ['/x/{y}'])]).empty).toBe(true);
  });

  it('keeps router precedence across the entries of one service; host-only entries are found by host', () => {
    const split = new CatalogRoutes([
      entry({ id: 'a', service: 'people' }, ['/users/{userName}']),
      entry({ id: 'b', service: 'people' }, ['/users/me']),
      entry({ id: 'c', host: 'legacy.example' }, ['/v0/things/{thingId}']),
    ]);
    expect(split.route('people', undefined, 'GET', '/users/me')).toBe('/users/me');
    expect(split.route('people', undefined, 'GET', '/users/ann')).toBe('/users/{userName}');
    expect(split.route('anything', 'legacy.example', 'GET', '/v0/things/7')).toBe('/v0/things/{thingId}');
    expect(split.route('people', 'legacy.example', 'GET', '/v0/things/7')).toBe('/v0/things/{thingId}');
  });
});
