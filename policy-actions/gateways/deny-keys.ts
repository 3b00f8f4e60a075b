import { isIP } from 'node:net';
import type { Decision } from '../../pipeline/core/decision.js';
import { mwError } from '../../pipeline/core/errors.js';

/**
 * What a gateway deny means, taken apart from a Decision once: the subject (scope + value) and the optional route
 * narrowing. Shared by the map-based gateways (HAProxy, nginx) and the API-based ones (Istio, Consul, Kong).
 */

/** `h1:` + 32 lower-case hex chars: the keyed token hash every meshward component uses */
export const TOKEN_HASH_RE = /^h1:[0-9a-f]{32}$/;

/** A route narrowing: an optional HTTP method and the literal path prefix before the first template parameter. */
export interface RouteMatch {
  /** upper-case method, undefined = any method */
  method?: string;
  /** literal path prefix, always starts with `/` */
  prefix: string;
}

const METHOD_RE = /^[A-Z]{3,10}$/;

/**
 * `GET /users/{id}/orders` → { method: 'GET', prefix: '/users/' }. Template parameters are `{name}`, `:name` or `*`;
 * the prefix stops before the segment holding the first one. `* /admin` or `/admin` means any method.
 */
export function parseRoute(route: string): RouteMatch {
  const text = route.trim();
  const space = text.indexOf(' ');
  let method: string | undefined;
  let path = text;
  if (space > 0) {
    const m = text.slice(0, space).toUpperCase();
    path = text.slice(space + 1).trim();
    if (m !== '*' && m !== 'ANY') {
      if (!METHOD_RE.test(m)) throw mwError('BAD_REQUEST', `route method "${m}" is not an HTTP method`);
      method = m;
    }
  }
  if (!path.startsWith('/')) throw mwError('BAD_REQUEST', `route "${route}" must be "METHOD /path" or "/path"`);
  const segments = path.split('/');
  const kept: string[] = [];
  let cut = false;
  for (const seg of segments) {
    if (seg.includes('{') || seg.startsWith(':') || seg.includes('*')) {
      cut = true;
      break;
    }
    kept.push(seg);
  }
  let prefix = kept.join('/');
  if (cut) prefix += '/';
  if (prefix === '') prefix = '/';
  if (/[\s;"'\\]/.test(prefix)) throw mwError('BAD_REQUEST', `route "${route}" holds characters a gateway key cannot`);
  return method === undefined ? { prefix } : { method, prefix };
}

export type DenySubjectScope = 'ip' | 'token' | 'user' | 'principal' | 'route';

export interface DenyTarget {
  scope: DenySubjectScope;
  value: string;
  route?: RouteMatch;
}

const SUBJECT_SCOPES = new Set<string>(['ip', 'token', 'user', 'principal', 'route']);

/** a deny of any subject a gateway key can name: what the map-based gateways (HAProxy, nginx) enforce */
export const isSubjectDeny = (decision: Decision): boolean =>
  decision.type === 'deny' && SUBJECT_SCOPES.has(decision.scope);

/** true when the value is an IPv4/IPv6 address or CIDR block */
export function isIpOrCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return isIP(value) !== 0;
  const addr = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  const family = isIP(addr);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Check and normalise a deny/rate_limit decision for a gateway. Throws BAD_REQUEST (not retryable) when the value
 * cannot be a key at a gateway: a token that is not an `h1:` hash, an IP that is not an address, a value with
 * whitespace or control characters.
 */
export function denyTarget(decision: Decision): DenyTarget {
  if (!SUBJECT_SCOPES.has(decision.scope)) {
    throw mwError('BAD_REQUEST', `scope ${decision.scope} cannot be enforced at a gateway`);
  }
  const scope = decision.scope as DenySubjectScope;
  const value = decision.value.trim();
  if (value.length === 0 || value.length > 512) throw mwError('BAD_REQUEST', `${scope} value is empty or too long`);
  switch (scope) {
    case 'token':
      if (!TOKEN_HASH_RE.test(value)) throw mwError('BAD_REQUEST', 'token value must be a keyed hash h1:<32 hex>');
      break;
    case 'ip':
      if (!isIpOrCidr(value)) throw mwError('BAD_REQUEST', `"${value}" is not an IP address or CIDR block`);
      break;
    case 'route':
      return { scope, value, route: parseRoute(value) };
    default:
      // user ids and SPIFFE ids: printable, no whitespace (gateways split keys on whitespace)
      if (/[\s\p{Cc};#]/u.test(value))
        throw mwError('BAD_REQUEST', `${scope} value holds whitespace or control characters`);
  }
  return decision.route === undefined ? { scope, value } : { scope, value, route: parseRoute(decision.route) };
}

/** the common methods a method-less route narrowing expands to where a gateway needs one key per method */
export const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
