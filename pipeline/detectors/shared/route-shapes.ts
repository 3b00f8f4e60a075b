import { ClearingMemo } from '../../core/clearing-memo.js';
import { routeOf } from './record-fields.js';

/** what the trackers need to know about an endpoint's route template, worked out once per endpoint */
export interface RouteShape {
  /** the route part of the endpoint id (`GET /users/{id}` → `/users/{id}`) */
  route: string;
  /** segments of the route split on `/` */
  segments: number;
  /** indexes of the placeholder segments (`{id}`) */
  placeholders: number[];
}

const isPlaceholder = (s: string): boolean =>
  s.length > 2 && s.charCodeAt(0) === 123 /* { */ && s.charCodeAt(s.length - 1) === 125; /* } */

function shapeOf(endpoint: string): RouteShape {
  const route = routeOf(endpoint);
  const parts = route.split('/');
  const placeholders: number[] = [];
  for (let i = 0; i < parts.length; i++) if (isPlaceholder(parts[i])) placeholders.push(i);
  return { route, segments: parts.length, placeholders };
}

/**
 * Route shapes by endpoint id, so the per-record step reads placeholder values from the raw path without splitting
 * the route (and usually without splitting the path). A pure memo: cleared when it reaches `max` entries, so memory
 * stays bounded and answers never change.
 */
export class RouteShapes {
  private readonly byEndpoint: ClearingMemo<RouteShape>;

  constructor(max = 4096) {
    this.byEndpoint = new ClearingMemo(shapeOf, max);
  }

  of(endpoint: string): RouteShape {
    return this.byEndpoint.get(endpoint);
  }

  /** valuesInPath of the endpoint's shape */
  placeholderValues(endpoint: string, path: string): string[] {
    return valuesInPath(this.of(endpoint), path);
  }
}

/**
 * Values of the placeholder segments of a route shape in `path` (query string ignored), in order
 * (`/users/{id}` + `/users/42` → ['42']); empty when the two do not align segment by segment.
 */
export function valuesInPath(shape: RouteShape, path: string): string[] {
  const out: string[] = [];
  if (shape.placeholders.length === 0) return out;
  const q = path.indexOf('?');
  const end = q === -1 ? path.length : q;
  let segments = 1;
  for (let i = 0; i < end; i++) if (path.charCodeAt(i) === 47 /* / */) segments++;
  if (segments !== shape.segments) return out;
  let seg = 0;
  let from = 0;
  let next = 0;
  for (const want of shape.placeholders) {
    while (seg < want) {
      from = path.indexOf('/', from) + 1;
      seg++;
    }
    next = path.indexOf('/', from);
    out.push(path.slice(from, next === -1 || next > end ? end : next));
  }
  return out;
}
