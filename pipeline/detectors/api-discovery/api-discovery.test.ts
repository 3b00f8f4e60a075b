import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AlertSignal } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { DetectorContext } from '../detector.js';
import { ApiDiscovery } from './api-discovery.js';
import { type ApiDiscoveryConfig, ApiDiscoveryConfigSchema } from './config.js';
import { apiDiscoveryFactory } from './factory.js';

const td = (f: string) => join(import.meta.dirname, 'testdata', f);
const records = (): ApiCallRecord[] =>
  readFileSync(td('records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const config = (): ApiDiscoveryConfig => ({
  ...apiDiscoveryFactory.defaultConfig,
  ...parse(readFileSync(td('config.yaml'), 'utf8')),
  catalog_files: [td('catalog.jsonl')],
});

function ctx(): DetectorContext & { signals: AlertSignal[] } {
  const signals: AlertSignal[] = [];
  return { signals, emit: (s) => signals.push(s), endpointOf: (r) => `${r.method} ${r.route ?? r.path}` };
}

describe('api_discovery detector', () => {
  it('default config validates and the factory creates a working detector', () => {
    expect(Value.Check(ApiDiscoveryConfigSchema, apiDiscoveryFactory.defaultConfig)).toBe(true);
    const d = apiDiscoveryFactory.create(apiDiscoveryFactory.defaultConfig);
    expect(d.type).toBe('api_discovery');
    expect(d.snapshot()).toBeTruthy();
  });

  it('scenario: shadow and zombie APIs are signalled once each, with association labels', () => {
    const expected = JSON.parse(readFileSync(td('expected.json'), 'utf8'));
    const d = apiDiscoveryFactory.create(config()) as ApiDiscovery;
    const c = ctx();
    for (const r of records()) d.observe(r, c);
    expect(c.signals.map((s) => ({ kind: s.kind, endpoint: s.endpoint }))).toEqual(
      expected.signals.map((s: { kind: string; endpoint: string }) => ({ kind: s.kind, endpoint: s.endpoint })),
    );
    c.signals.forEach((s, i) => {
      expect(s.labels).toMatchObject(expected.signals[i].labels);
      expect(Number(s.labels?.category_probability)).toBeGreaterThan(0);
      expect(s.labels?.category_neighbours).not.toBe('');
      expect(s.service).toBe('orders');
      expect(s.subject?.type).toBe('api');
    });
    const shadow = c.signals[0];
    expect(shadow.metrics.calls).toBe(3);
    expect(shadow.metrics.callers).toBe(3);
    expect(shadow.labels?.category_neighbours.split(',')[0]).toBe('orders-api');
    expect(shadow.labels?.category_neighbours).toContain('reporting-api');
    const states = Object.fromEntries(d.inventory.list().map((e) => [`${e.method} ${e.route}`, e.state]));
    expect(states).toEqual(expected.states);
    expect(d.stats()).toMatchObject({ endpoints: 5, shadow: 2, zombie: 1, catalogued: 2 });
    // more calls do not repeat the signals; POST /internal/debug now reaches min_calls
    for (const r of records()) d.observe({ ...r, id: `${r.id}b` }, c);
    expect(c.signals.map((s) => `${s.kind} ${s.endpoint}`).slice(2)).toEqual(['shadow_api POST /internal/debug']);
  });

  it('below the review threshold a label is unassigned and carries its best class as candidate, in the alert too', () => {
    const d = apiDiscoveryFactory.create({
      ...config(),
      min_confidence: 1,
      unseen_provider_min_confidence: 1,
    }) as ApiDiscovery;
    const c = ctx();
    for (const r of records()) d.observe(r, c);
    const shadow = c.signals.find((s) => s.kind === 'shadow_api')!;
    expect(shadow.labels?.category).toBe('unassigned');
    expect(shadow.labels?.category_candidate).toMatch(/\w/);
    const entry = d.inventory.list().find((e) => e.state === 'shadow' && e.labels.category)!;
    expect(entry.labels.category).toMatchObject({ value: 'unassigned', candidate: shadow.labels?.category_candidate });
    // with the default thresholds the same shadow API is assigned, without a candidate
    const assigned = apiDiscoveryFactory.create(config()) as ApiDiscovery;
    const c2 = ctx();
    for (const r of records()) assigned.observe(r, c2);
    const first = c2.signals.find((s) => s.kind === 'shadow_api')!;
    expect(first.labels?.category).toBe(shadow.labels?.category_candidate);
    expect(first.labels?.category_candidate).toBeUndefined();
  });

  it('state survives snapshot/restore: no repeated signal after a handover', () => {
    const a = new ApiDiscovery(config());
    const c = ctx();
    for (const r of records()) a.observe(r, c);
    const b = new ApiDiscovery(config());
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const c2 = ctx();
    for (const r of records()) b.observe({ ...r, id: `${r.id}x` }, c2);
    expect(c2.signals.map((s) => s.endpoint)).toEqual(['POST /internal/debug']);
    expect(b.inventory.get('orders', 'GET', '/orders/export/sales-reports')?.count).toBe(6);
    b.restore('garbage');
  });

  it('review() confirms labels and feeds the association model', () => {
    const d = new ApiDiscovery(config());
    const c = ctx();
    for (const r of records()) d.observe(r, c);
    const before = d.model.size;
    const e = d.review('orders', 'POST', '/internal/debug', { category: 'developer_tools' });
    expect(e?.state).toBe('reviewed');
    expect(d.model.size).toBe(before + 1);
    expect(d.model.labelsOf(e!.id)).toEqual({ category: 'developer_tools' });
    expect(d.review('nope', 'GET', '/x', {})).toBeUndefined();
  });

  it('a missing catalogue file is a clear error at start', () => {
    expect(() => new ApiDiscovery({ ...config(), catalog_files: [td('missing.jsonl')] })).toThrow(
      /MW_ERR_CATALOG_INVALID|cannot read/,
    );
  });
});
