import type { ApiEntry } from '../inventory/api-entry.js';
import type { CatalogEntry } from '../inventory/catalog/catalog-entry.js';
import { entryDescription } from '../inventory/catalog/catalog.js';
import type { ApiDescription } from './features.js';

/** what the association model sees of an inventory endpoint seen in traffic */
export function inventoryDescription(e: Pick<ApiEntry, 'service' | 'route' | 'hosts' | 'params'>): ApiDescription {
  return { name: e.service, service: e.service, hosts: e.hosts, paths: [e.route], params: e.params };
}

/** an inventory entry (has method + route) or a catalogue-style entry */
export function anyDescription(v: Record<string, unknown>): ApiDescription {
  if (typeof v.route === 'string' && typeof v.method === 'string') {
    return inventoryDescription({
      service: typeof v.service === 'string' ? v.service : '',
      route: v.route,
      hosts: Array.isArray(v.hosts) ? v.hosts.filter((h): h is string => typeof h === 'string') : [],
      params: Array.isArray(v.params) ? v.params.filter((h): h is string => typeof h === 'string') : [],
    });
  }
  return entryDescription(v as unknown as CatalogEntry);
}
