import { mwError } from '../../../pipeline/core/errors.js';
import type { RouteMatch } from '../deny-keys.js';

/** The parts of a Consul `service-intentions` config entry meshward reads and writes. */
export interface IntentionPermission {
  Action: 'allow' | 'deny';
  HTTP?: { PathPrefix?: string; PathExact?: string; Methods?: string[]; Header?: unknown[] };
}

export interface IntentionSource {
  Name: string;
  Namespace?: string;
  Partition?: string;
  Action?: 'allow' | 'deny';
  Permissions?: IntentionPermission[];
  Description?: string;
  [more: string]: unknown;
}

export interface IntentionsEntry {
  Kind: 'service-intentions';
  Name: string;
  Sources: IntentionSource[];
  Meta?: Record<string, string>;
  CreateIndex?: number;
  ModifyIndex?: number;
  [more: string]: unknown;
}

/** Meta key marking an entry meshward created (deleted again when its last source goes) */
export const META_CREATED = 'meshward-created';
/** Meta key holding an operator's source that a meshward deny replaced, restored on revert */
export const metaOriginal = (source: string): string => `meshward-orig-${source}`;
export const marker = (decisionId: string): string => `meshward:${decisionId}`;

/**
 * The Consul service name of a principal: the last segment of a Consul SPIFFE id (`.../svc/<name>`), of an Istio
 * one (`.../sa/<name>`), or a bare service name.
 */
export function serviceOfPrincipal(value: string): string {
  const m = /^spiffe:\/\/[^/]+\/.*\/(?:svc|sa)\/([^/]+)$/.exec(value);
  const name = m ? m[1] : value.includes('/') ? '' : value;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(name)) {
    throw mwError('BAD_REQUEST', `cannot take a Consul service name from principal "${value}"`);
  }
  return name;
}

function denyPermission(route: RouteMatch): IntentionPermission {
  const HTTP: IntentionPermission['HTTP'] = { PathPrefix: route.prefix };
  if (route.method) HTTP.Methods = [route.method];
  return { Action: 'deny', HTTP };
}

/**
 * The source that denies `name` (on `route` only, when given). Replacing an operator's source keeps its own rules
 * after the deny, so the rest of the traffic is decided as before.
 */
export function denySource(
  name: string,
  decisionId: string,
  route: RouteMatch | undefined,
  original: IntentionSource | undefined,
): IntentionSource {
  const base: IntentionSource = { Name: name };
  if (original?.Namespace) base.Namespace = original.Namespace;
  if (original?.Partition) base.Partition = original.Partition;
  if (!route) return { ...base, Action: 'deny', Description: marker(decisionId) };
  const rest: IntentionPermission[] = original
    ? (original.Permissions ?? (original.Action ? [{ Action: original.Action, HTTP: { PathPrefix: '/' } }] : []))
    : [];
  return { ...base, Permissions: [denyPermission(route), ...rest], Description: marker(decisionId) };
}

/** the entry as it is PUT back: without the read-only raft indexes */
export function writable(entry: IntentionsEntry): IntentionsEntry {
  const { CreateIndex: _c, ModifyIndex: _m, ...rest } = entry;
  return rest as IntentionsEntry;
}
