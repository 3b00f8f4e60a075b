import type { AlertSubject } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import { templatePath } from '../../inventory/path-template.js';

/** `METHOD /route/template` as the correlator's endpointOf gives it when a record carries no route */
export const defaultEndpointOf = (r: ApiCallRecord): string => `${r.method} ${r.route ?? templatePath(r.path)}`;

/** the route part of an endpoint id (`GET /users/{id}` → `/users/{id}`) */
export const routeOf = (endpoint: string): string => {
  const sp = endpoint.indexOf(' ');
  return sp === -1 ? endpoint : endpoint.slice(sp + 1);
};

/** a call between two services of the mesh (the caller is a workload, not a client at the edge) */
export const isMeshHop = (r: ApiCallRecord): boolean =>
  r.source.service !== undefined || r.source.principal !== undefined;

/** the caller as a workload: its SPIFFE principal when known, else its service name */
export function workloadOf(r: ApiCallRecord): AlertSubject | undefined {
  if (r.source.principal) return { type: 'principal', value: r.source.principal };
  if (r.source.service) return { type: 'service', value: r.source.service };
  return undefined;
}

/** who is acting: the end user when known, else their token, else the workload, else the client address */
export function actorOf(r: ApiCallRecord): AlertSubject | undefined {
  const u = r.user;
  if (u?.sub) return { type: 'user', value: u.sub };
  if (u?.tokenHash) return { type: 'token', value: u.tokenHash };
  const w = workloadOf(r);
  if (w) return w;
  if (r.source.ip) return { type: 'ip', value: r.source.ip };
  return undefined;
}

export const subjectKey = (s: AlertSubject): string => `${s.type}:${s.value}`;

/** query-string parameters of a raw path (used when the record carries no `params`) */
export function queryParams(path: string): Record<string, string> | undefined {
  const q = path.indexOf('?');
  if (q === -1 || q === path.length - 1) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(path.slice(q + 1))) out[k] = v;
  return out;
}

/**
 * `list` with `value` appended, to assign back (`w.ips = appendTo(w.ips, ip)`). An empty list becomes a one-element
 * literal: V8 gives an empty array that is pushed to room for 17 elements (~190 bytes), a literal room for one
 * (~60 bytes), and most tracked subjects only ever hold one value.
 */
export function appendTo<T>(list: T[], value: T): T[] {
  if (list.length === 0) return [value];
  list.push(value);
  return list;
}

/** a few record ids kept as evidence (bounded), to assign back like `appendTo` */
export function pushEvidence(list: string[], id: string, max = 20): string[] {
  return list.length < max ? appendTo(list, id) : list;
}

/** shell-style glob with `*` only, compiled once (`eu-*` matches `eu-west-1`) */
export function compileGlob(pattern: string): RegExp {
  const esc = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${esc}$`);
}

/** the calling workload keyed by service name when known (stable across certificate rotation), else its principal */
export function callerOf(r: ApiCallRecord): AlertSubject | undefined {
  if (r.source.service) return { type: 'service', value: r.source.service };
  if (r.source.principal) return { type: 'principal', value: r.source.principal };
  return undefined;
}
