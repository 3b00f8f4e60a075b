import type { ApiEntry } from '../inventory/api-entry.js';
import type { CatalogEntry } from '../inventory/catalog/catalog-entry.js';
import { entryDescription } from '../inventory/catalog/catalog.js';
import { str, stringList } from '../inventory/catalog/validate.js';
import type { TokenGroup } from './config.js';
import type { ApiDescription } from './features.js';
import type { TrafficContext } from './traffic-context.js';

/**
 * what traffic cannot show of an API: a description, tags (and so operation summaries, which join the description).
 * An endpoint lacking them is not like the catalogue APIs lacking them (see query_absent_groups)
 */
const UNOBSERVED_IN_TRAFFIC: readonly TokenGroup[] = ['text', 'tags'];

/**
 * what the association model sees of an inventory endpoint seen in traffic; with `traffic`, its callers weighed and
 * how far callers tell a class (peer_prior)
 */
export function inventoryDescription(
  e: Pick<ApiEntry, 'service' | 'route' | 'hosts' | 'params'> & { callers?: readonly string[] },
  traffic?: TrafficContext,
): ApiDescription {
  return {
    name: e.service,
    service: e.service,
    hosts: e.hosts,
    paths: [e.route],
    params: e.params,
    unobserved: UNOBSERVED_IN_TRAFFIC,
    ...(traffic && e.callers?.length ? { peers: traffic.peers(e.callers), peerReliability: traffic.reliability } : {}),
  };
}

/** inventoryDescription of an untyped entry-like object: its route, and service, hosts, params and callers when present */
export function looseInventoryDescription(
  v: Record<string, unknown> & { route: string },
  traffic?: TrafficContext,
): ApiDescription {
  return inventoryDescription(
    {
      service: str(v.service) ?? '',
      route: v.route,
      hosts: stringList(v.hosts),
      params: stringList(v.params),
      callers: stringList(v.callers),
    },
    traffic,
  );
}

/** an inventory entry (has method + route; with `traffic`, its callers count) or a catalogue-style entry */
export function anyDescription(v: Record<string, unknown>, traffic?: TrafficContext): ApiDescription {
  if (typeof v.route === 'string' && typeof v.method === 'string')
    return looseInventoryDescription(v as Record<string, unknown> & { route: string }, traffic);
  return entryDescription(v as unknown as CatalogEntry);
}
