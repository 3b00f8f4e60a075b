import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { AlertSignal } from '../../core/alert.js';
import { inventoryOpenApi } from '../../inventory/catalog/openapi-export.js';
import type { DetectorContext } from '../detector.js';
import type { ApiDiscovery } from './api-discovery.js';
import { apiDiscoveryFactory } from './factory.js';
import { forgetSharedAssociations } from './shared-model.js';
import { config, records, td } from './testdata/scenario.js';

function run(catalog: string[]): { d: ApiDiscovery; signals: AlertSignal[] } {
  forgetSharedAssociations();
  const signals: AlertSignal[] = [];
  const ctx: DetectorContext = { emit: (s) => signals.push(s), endpointOf: (r) => `${r.method} ${r.route ?? r.path}` };
  const d = apiDiscoveryFactory.create(config(catalog)) as ApiDiscovery;
  for (const r of records()) d.observe(r, ctx);
  for (const r of records()) d.observe({ ...r, id: `${r.id}b` }, ctx);
  return { d, signals };
}

describe('a service exported as OpenAPI and added to the catalogue', () => {
  beforeEach(() => forgetSharedAssociations());

  it('makes its shadow endpoints catalogued: the same traffic then raises no shadow alert', () => {
    const before = run([td('catalog.jsonl')]);
    expect(before.signals.filter((s) => s.kind === 'shadow_api').map((s) => s.endpoint)).toEqual([
      'GET /orders/export/sales-reports',
      'POST /internal/debug',
    ]);
    const file = join(mkdtempSync(join(tmpdir(), 'mw-oas-')), 'orders.openapi.yaml');
    writeFileSync(file, stringify(inventoryOpenApi(before.d.inventory.list(), 'orders')));

    const after = run([td('catalog.jsonl'), file]);
    expect(after.signals.map((s) => `${s.kind} ${s.endpoint}`)).toEqual(['zombie_api GET /v0/orders/{id}']);
    const states = Object.fromEntries(after.d.inventory.list().map((e) => [`${e.method} ${e.route}`, e.state]));
    expect(states).toEqual({
      'GET /orders/{orderId}': 'catalogued',
      'GET /orders/search': 'catalogued',
      'GET /v0/orders/{id}': 'zombie',
      'GET /orders/export/sales-reports': 'catalogued',
      'POST /internal/debug': 'catalogued',
    });
    expect(after.d.inventory.list().find((e) => e.route === '/internal/debug')?.catalogueId).toBe('observed-orders');
  });
});
