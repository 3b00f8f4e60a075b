import type { CatalogEntry } from '../../../inventory/catalog/catalog-entry.js';

/** a catalogue whose one endpoint has a word parameter (`/keys/alice`, `/keys/billing-eu`) */
export const VAULT_CATALOG: CatalogEntry[] = [
  {
    id: 'vault-api',
    name: 'Vault',
    service: 'vault',
    endpoints: [{ method: 'GET', path: '/keys/{keyName}' }],
    labels: { category: 'security' },
  },
];
