import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RouteShapes, valuesInPath } from './route-shapes.js';

/** the plain reading the memo must agree with: split both, keep the path segments under `{…}` route segments */
function placeholderValues(route: string, path: string): string[] {
  const q = path.indexOf('?');
  const rs = route.split('/');
  const ps = (q === -1 ? path : path.slice(0, q)).split('/');
  if (rs.length !== ps.length) return [];
  return ps.filter((_, i) => rs[i].length > 2 && rs[i].startsWith('{') && rs[i].endsWith('}'));
}

describe('RouteShapes', () => {
  it('reads placeholder values as placeholderValues does, from the endpoint id', () => {
    const shapes = new RouteShapes(4);
    expect(shapes.placeholderValues('GET /users/{id}', '/users/42?x=1')).toEqual(['42']);
    expect(shapes.placeholderValues('GET /a/{x}/b/{y}', '/a/1/b/2')).toEqual(['1', '2']);
    expect(shapes.placeholderValues('GET /users/{id}', '/users/42/extra')).toEqual([]);
    expect(shapes.of('POST /login').route).toBe('/login');
    expect(valuesInPath(shapes.of('GET /users/{id}'), '/users/7')).toEqual(['7']);
    const segment = fc.oneof(
      fc.constantFrom('{id}', '{}', '{x', 'users', '', '{uuid}', 'a{b}'),
      fc.stringMatching(/^[a-z0-9{}]{0,6}$/),
    );
    const pathSegment = fc.stringMatching(/^[a-z0-9{}%.-]{0,6}$/);
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 6 }),
        fc.array(pathSegment, { maxLength: 6 }),
        fc.constantFrom('', '?', '?q=/a/b', '?x=1&y=/'),
        (routeParts, pathParts, query) => {
          const route = `/${routeParts.join('/')}`;
          const path = `/${pathParts.join('/')}${query}`;
          expect(shapes.placeholderValues(`GET ${route}`, path)).toEqual(placeholderValues(route, path));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
