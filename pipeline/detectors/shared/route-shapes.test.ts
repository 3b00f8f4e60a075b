import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeholderValues } from './record-fields.js';
import { RouteShapes } from './route-shapes.js';

describe('RouteShapes', () => {
  it('reads placeholder values as placeholderValues does, from the endpoint id', () => {
    const shapes = new RouteShapes(4);
    expect(shapes.placeholderValues('GET /users/{id}', '/users/42?x=1')).toEqual(['42']);
    expect(shapes.placeholderValues('GET /a/{x}/b/{y}', '/a/1/b/2')).toEqual(['1', '2']);
    expect(shapes.placeholderValues('GET /users/{id}', '/users/42/extra')).toEqual([]);
    expect(shapes.of('POST /login').route).toBe('/login');
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
