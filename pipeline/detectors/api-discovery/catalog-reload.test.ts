import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AlertSignal } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { DetectorContext } from '../detector.js';
import { ApiDiscovery } from './api-discovery.js';
import { defaultApiDiscoveryConfig } from './config.js';
import { forgetSharedAssociations } from './shared-model.js';
import { ordersCalls } from './testdata/orders-calls.js';

const entry = (id: string, endpoints: { method: string; path: string }[], labels: Record<string, string>) =>
  JSON.stringify({ id, name: id, service: 'orders', endpoints, labels });
const ORDERS = entry('orders-api', [{ method: 'GET', path: '/orders/{orderId}' }], { appCode: 'ORD01' });
const EXPORTS = entry('exports-api', [{ method: 'GET', path: '/orders/export' }], { appCode: 'EXP01' });

const call = ordersCalls();

function setup() {
  const file = join(mkdtempSync(join(tmpdir(), 'mw-cat-')), 'catalog.jsonl');
  writeFileSync(file, `${ORDERS}\n`);
  const config = { ...defaultApiDiscoveryConfig, min_calls: 2, catalog_files: [file] };
  const signals: AlertSignal[] = [];
  const ctx: DetectorContext = { emit: (s) => signals.push(s), endpointOf: (r) => `${r.method} ${r.route ?? r.path}` };
  const shard = () => new ApiDiscovery(config);
  const d = shard();
  const feed = (det: ApiDiscovery, ...rs: ApiCallRecord[]) => {
    for (const r of rs) det.observe(r, ctx);
  };
  const states = (det: ApiDiscovery) =>
    Object.fromEntries(det.inventory.list().map((e) => [`${e.method} ${e.route}`, [e.state, e.catalogueId]]));
  return { file, d, shard, signals, ctx, feed, states };
}

describe('api_discovery: catalogue files changed on disk', () => {
  beforeEach(() => forgetSharedAssociations());

  it('are taken up at the next checkpoint: endpoints classified again, reviews kept, one model per process', () => {
    const t = setup();
    const traffic = [call('GET', '/orders/1'), call('GET', '/orders/export'), call('GET', '/orders/export')];
    t.feed(t.d, ...traffic, call('POST', '/internal/debug'), call('POST', '/internal/debug'));
    expect(t.states(t.d)).toEqual({
      'GET /orders/{orderId}': ['catalogued', 'orders-api'],
      'GET /orders/export': ['shadow', null],
      'POST /internal/debug': ['shadow', null],
    });
    t.d.review('orders', 'POST', '/internal/debug', { appCode: 'OPS01' });
    const other = t.shard(); // a second shard of the process
    t.d.documents();
    t.d.refresh();
    expect(t.d.documents()).toEqual([]);

    // the export API is catalogued now
    writeFileSync(t.file, `${ORDERS}\n${EXPORTS}\n`);
    t.d.refresh();
    expect(t.states(t.d)['GET /orders/export']).toEqual(['catalogued', 'exports-api']);
    expect(t.d.inventory.list().find((e) => e.route === '/orders/export')?.labels.appCode?.value).toBe('EXP01');
    expect(t.d.documents().map((doc) => (doc.value as { route: string }).route)).toContain('/orders/export');
    // the review survives: the new model has both catalogue APIs and the reviewed one
    expect(t.d.model.size).toBe(3);
    expect(t.states(t.d)['POST /internal/debug']).toEqual(['reviewed', null]);
    other.refresh();
    expect(other.model).toBe(t.d.model);

    // the orders API leaves the catalogue: its endpoint is a shadow endpoint; calls from now on are templated without
    // the catalogue's template (`{id}` by value shape, not `{orderId}`) and signal at min_calls
    writeFileSync(t.file, `${EXPORTS}\n`);
    t.d.refresh();
    expect(t.states(t.d)['GET /orders/{orderId}']).toEqual(['shadow', null]);
    const before = t.signals.length;
    t.feed(t.d, call('GET', '/orders/2'), call('GET', '/orders/3'));
    expect(t.signals.slice(before).map((s) => `${s.kind} ${s.endpoint}`)).toEqual(['shadow_api GET /orders/{id}']);
  });

  it('a catalogue that does not load leaves the one in force; a fixed one is taken up', () => {
    const t = setup();
    t.feed(t.d, call('GET', '/orders/export'));
    const model = t.d.model;
    writeFileSync(t.file, '{"id": "broken"\n');
    expect(() => t.d.refresh()).not.toThrow();
    t.d.refresh();
    expect(t.d.model).toBe(model);
    writeFileSync(t.file, `${ORDERS}\n${EXPORTS}\n`);
    t.d.refresh();
    expect(t.d.model).not.toBe(model);
    expect(t.states(t.d)['GET /orders/export']).toEqual(['catalogued', 'exports-api']);
  });

  it('a checkpoint restored under a changed catalogue is classified against it', () => {
    const t = setup();
    t.feed(t.d, call('GET', '/orders/export'), call('GET', '/orders/3'));
    const snapshot = JSON.parse(JSON.stringify(t.d.snapshot()));
    writeFileSync(t.file, `${EXPORTS}\n`);
    const restored = t.shard();
    restored.restore(snapshot);
    expect(t.states(restored)).toEqual({
      'GET /orders/export': ['catalogued', 'exports-api'],
      'GET /orders/{orderId}': ['shadow', null],
    });
    // restored under the same catalogue, nothing changes
    const same = t.shard();
    same.restore(JSON.parse(JSON.stringify(restored.snapshot())));
    expect(t.states(same)).toEqual(t.states(restored));
    expect(same.documents()).toEqual([]);
  });
});
