import type { ApiEntry } from '../api-entry.js';
import { matchKey } from '../path-template.js';
import { entryTemplates } from './catalog.js';
import type { CatalogEntry, CatalogLabels } from './catalog-entry.js';

/**
 * Catalogue coverage: which catalogued endpoints traffic has reached, and which never (documented but unused: an
 * attack surface nobody needs, or a client that has not moved yet). An endpoint is seen when an inventory entry matched
 * to its catalogue entry has its method and path (as defined, or under one of the entry's server path prefixes).
 * "Never" means not in the inventory: since it started keeping entries, which it evicts least recently seen first
 * beyond its max_endpoints.
 */

export interface EndpointCoverage {
  method: string;
  path: string;
  deprecated?: boolean;
  calls: number;
  /** epoch ms of the last call, absent when never seen */
  lastSeen?: number;
}

export interface EntryCoverage {
  id: string;
  name: string;
  service?: string;
  deprecated?: boolean;
  labels: CatalogLabels;
  endpoints: number;
  seen: number;
  calls: number;
  lastSeen?: number;
  /** the endpoints no call has reached */
  unused: EndpointCoverage[];
}

export interface CoverageSummary {
  entries: number;
  endpoints: number;
  seen: number;
  /** catalogue entries none of whose endpoints was called */
  unusedEntries: number;
}

/** per catalogue entry (in catalogue order), its endpoints reached by traffic and those never */
export function catalogCoverage(
  catalog: readonly CatalogEntry[],
  inventory: readonly Pick<ApiEntry, 'catalogueId' | 'method' | 'route' | 'count' | 'lastSeen'>[],
): { summary: CoverageSummary; entries: EntryCoverage[] } {
  const calls = new Map<string, { count: number; lastSeen: number }>();
  for (const e of inventory) {
    if (e.catalogueId === null) continue;
    const key = `${e.catalogueId} ${e.method.toUpperCase()} ${matchKey(e.route)}`;
    const c = calls.get(key);
    if (c) {
      c.count += e.count;
      c.lastSeen = Math.max(c.lastSeen, e.lastSeen);
    } else calls.set(key, { count: e.count, lastSeen: e.lastSeen });
  }
  const summary: CoverageSummary = { entries: catalog.length, endpoints: 0, seen: 0, unusedEntries: 0 };
  const entries = catalog.map((entry) => {
    const byEndpoint = new Map<object, EndpointCoverage>();
    for (const { method, template, endpoint } of entryTemplates(entry)) {
      const cov = byEndpoint.get(endpoint) ?? {
        method,
        path: endpoint.path,
        ...(endpoint.deprecated ? { deprecated: true } : {}),
        calls: 0,
      };
      byEndpoint.set(endpoint, cov);
      const c = calls.get(`${entry.id} ${method} ${matchKey(template)}`);
      if (!c) continue;
      cov.calls += c.count;
      cov.lastSeen = Math.max(cov.lastSeen ?? 0, c.lastSeen);
    }
    const all = [...byEndpoint.values()];
    const seen = all.filter((x) => x.lastSeen !== undefined);
    const lastSeen = seen.length ? Math.max(...seen.map((x) => x.lastSeen ?? 0)) : undefined;
    summary.endpoints += all.length;
    summary.seen += seen.length;
    if (seen.length === 0) summary.unusedEntries++;
    const out: EntryCoverage = {
      id: entry.id,
      name: entry.name,
      ...(entry.service ? { service: entry.service } : {}),
      ...(entry.deprecated ? { deprecated: true } : {}),
      labels: entry.labels,
      endpoints: all.length,
      seen: seen.length,
      calls: seen.reduce((n, x) => n + x.calls, 0),
      ...(lastSeen !== undefined ? { lastSeen } : {}),
      unused: all.filter((x) => x.lastSeen === undefined),
    };
    return out;
  });
  return { summary, entries };
}
