import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AlertSignal } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { DetectorContext } from '../detector.js';
import { ApiDiscovery } from './api-discovery.js';
import { ApiDiscoveryConfigSchema } from './config.js';
import { apiDiscoveryFactory } from './factory.js';
import { forgetSharedAssociations } from './shared-model.js';
import { config, records, td } from './testdata/scenario.js';
import { VAULT_CATALOG as catalog } from './testdata/vault-catalog.js';

function ctx(): DetectorContext & { signals: AlertSignal[] } {
  const signals: AlertSignal[] = [];
  return { signals, emit: (s) => signals.push(s), endpointOf: (r) => `${r.method} ${r.route ?? r.path}` };
}

describe('api_discovery detector', () => {
  // each test starts from the catalogue alone, not from a model an earlier test taught
  beforeEach(() => forgetSharedAssociations());

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
    // its words (orders, export, sales, reports) are the reporting API's, its service the orders API's: both vote
    // (what traffic cannot show, a description and tags, no longer draws it to orders-api, which has neither)
    expect(shadow.labels?.category_neighbours.split(',').slice(0, 2).sort()).toEqual(['orders-api', 'reporting-api']);
    // and why: its service's catalogued APIs are ecommerce
    expect(shadow.labels?.category_because?.split(', ')[0]).toBe('service orders');
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

  it('the shards of a process share one model; a review teaches it once, whichever shard holds the entry', () => {
    const a = apiDiscoveryFactory.create(config()) as ApiDiscovery;
    const b = apiDiscoveryFactory.create(config()) as ApiDiscovery;
    expect(b.model).toBe(a.model);
    const c = ctx();
    for (const r of records()) a.observe(r, c);
    const entry = a.inventory.list().find((e) => e.state === 'shadow')!;
    expect(b.inventory.find(entry.id)).toBeUndefined();
    const confirm = vi.spyOn(a.model, 'confirm');
    const review = {
      labels: { category: 'developer_tools', bogus: 'x' },
      at: 1_700_000_000_000,
      by: 'analyst',
      api: { service: entry.service, route: entry.route, hosts: entry.hosts, params: entry.params },
    };
    // every shard gets every review (and again after a restart): the model learns it once
    b.onFeedback(entry.id, review);
    a.onFeedback(entry.id, review);
    a.onFeedback(entry.id, review);
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(a.model.labelsOf(entry.id)).toEqual({ category: 'developer_tools' });
    expect(a.inventory.find(entry.id)?.state).toBe('reviewed');
    expect(a.documents().map((d) => d.id)).toContain(entry.id);
    // a correction is a new review: learnt again
    a.onFeedback(entry.id, { ...review, labels: { category: 'analytics' }, at: review.at + 1 });
    expect(a.model.labelsOf(entry.id)).toEqual({ category: 'analytics' });
    // a review without the entry's description (stored before reviews carried it) teaches only the shard holding it
    b.onFeedback('api_elsewhere', { labels: { category: 'x' }, at: 1 });
    expect(a.model.labelsOf('api_elsewhere')).toBeUndefined();
    confirm.mockRestore();
  });

  // a vendor's public host, or a mesh's internal one (the service is then the provider)
  it.each(['api.newco.io', 'newco.billing.svc.cluster.local'])(
    "a new provider's shadow endpoints are associated together; a review of one makes the provider known (%s)",
    (host) => {
      const call = (i: number, method: string, path: string, params: Record<string, string> = {}): ApiCallRecord => ({
        id: `n${i}`,
        ts: 1_700_000_000_000 + i,
        durationMs: 3,
        sensor: { kind: 'fastify', id: 'gw1' },
        service: 'newco',
        method,
        host,
        path,
        params,
        status: 200,
        reqBytes: 0,
        respBytes: 100,
        source: { service: 'web' },
      });
      const run = (pool: boolean) => {
        const d = new ApiDiscovery({ ...config(), min_calls: 1, pool_unseen_provider: pool });
        const c = ctx();
        d.observe(call(1, 'POST', '/v1/refunds', { chargeId: 'str', amount: 'num' }), c);
        d.documents();
        d.observe(call(2, 'GET', '/health'), c);
        return { d, c };
      };
      const { d, c } = run(true);
      expect(c.signals.map((s) => s.endpoint)).toEqual(['POST /v1/refunds', 'GET /health']);
      // the first met is on its own; the second is pooled with it
      expect(c.signals[0].labels?.category_pooled).toBeUndefined();
      expect(c.signals[1].labels?.category_pooled).toBe('2');
      // in the inventory, the endpoint met first now carries the pooled labels too
      const [refunds, health] = ['POST /v1/refunds', 'GET /health'].map((k) => {
        const [method, route] = k.split(' ');
        return d.inventory.get('newco', method, route)!.labels.category!;
      });
      expect(health.pooled).toBe(2);
      expect(refunds).toMatchObject({ pooled: 2, probability: health.probability });
      expect(refunds.value === 'unassigned' ? refunds.candidate : refunds.value).toBe(
        health.value === 'unassigned' ? health.candidate : health.value,
      );
      // and is written again
      expect(d.documents().map((doc) => doc.id)).toContain(d.inventory.get('newco', 'POST', '/v1/refunds')!.id);
      const alone = run(false).c.signals[1].labels!;
      expect(alone.category_pooled).toBeUndefined();
      // the refunds endpoint's evidence moved the health endpoint's probabilities
      expect(c.signals[1].labels?.category_probability).not.toBe(alone.category_probability);
      // reviewed, the provider is known to the model: its next endpoint is matched by its own APIs, not pooled
      d.documents();
      d.review('newco', 'POST', '/v1/refunds', { category: 'payment' });
      // the provider's other shadow endpoint is associated again, as a known provider's: the reviewed API is its evidence
      const again = d.inventory.get('newco', 'GET', '/health')!;
      expect(again.labels.category?.pooled).toBeUndefined();
      expect(again.labels.category?.neighbours).toContain(d.inventory.get('newco', 'POST', '/v1/refunds')!.id);
      expect(d.documents().map((doc) => doc.id)).toContain(again.id);
      d.observe(call(3, 'GET', '/v1/payouts'), c);
      expect(c.signals[2].endpoint).toBe('GET /v1/payouts');
      expect(c.signals[2].labels?.category_pooled).toBeUndefined();
      expect(c.signals[2].labels?.category_neighbours.split(',')[0]).toBe(
        d.inventory.get('newco', 'POST', '/v1/refunds')?.id,
      );
    },
  );

  it("a review delivered to every shard re-associates each shard's endpoints of that provider", () => {
    const call = (i: number, path: string): ApiCallRecord => ({
      id: `m${i}`,
      ts: 1_700_000_000_000 + i,
      durationMs: 3,
      sensor: { kind: 'fastify', id: 'gw1' },
      service: 'newco',
      method: 'GET',
      host: 'api.newco.io',
      path,
      status: 200,
      reqBytes: 0,
      respBytes: 100,
      source: { service: 'web' },
    });
    const a = new ApiDiscovery({ ...config(), min_calls: 1 });
    const b = new ApiDiscovery({ ...config(), min_calls: 1 });
    expect(b.model).toBe(a.model);
    a.observe(call(1, '/v1/refunds'), ctx());
    b.observe(call(2, '/v1/health'), ctx());
    const reviewed = a.inventory.get('newco', 'GET', '/v1/refunds')!;
    const review = {
      labels: { category: 'payment' },
      at: 1_700_000_000_500,
      by: 'analyst',
      api: { service: 'newco', route: '/v1/refunds', hosts: ['api.newco.io'], params: [] },
    };
    // the shard holding the entry learns it; the other shard's endpoint of the same provider is associated again
    a.onFeedback(reviewed.id, review);
    b.onFeedback(reviewed.id, review);
    expect(b.inventory.get('newco', 'GET', '/v1/health')?.labels.category?.neighbours[0]).toBe(reviewed.id);
  });

  it('an injected catalogue gets a model of its own; a changed catalogue file a new shared one', () => {
    const catalog = [{ id: 'c1', name: 'Orders', labels: { category: 'ecommerce' } }];
    const x = new ApiDiscovery(config(), { catalog });
    const y = new ApiDiscovery(config(), { catalog });
    expect(x.model).not.toBe(y.model);
    const dir = mkdtempSync(join(tmpdir(), 'mw-cat-'));
    const file = join(dir, 'catalog.jsonl');
    writeFileSync(file, `${JSON.stringify(catalog[0])}\n`);
    const cfg = { ...config(), catalog_files: [file] };
    const first = apiDiscoveryFactory.create(cfg) as ApiDiscovery;
    expect((apiDiscoveryFactory.create(cfg) as ApiDiscovery).model).toBe(first.model);
    writeFileSync(file, `${JSON.stringify(catalog[0])}\n${JSON.stringify({ ...catalog[0], id: 'c2' })}\n`);
    const after = apiDiscoveryFactory.create(cfg) as ApiDiscovery;
    expect(after.model).not.toBe(first.model);
    expect(after.model.size).toBe(2);
  });

  it('a catalogued parameter whose values are words is one catalogued endpoint, not a shadow API per value', () => {
    const base = records()[0];
    const run = (catalog_routes: boolean) => {
      const d = new ApiDiscovery({ ...config(), catalog_routes }, { catalog });
      const c = ctx();
      for (const name of ['alice', 'billing-eu', 'staging']) {
        for (let i = 0; i < 3; i++)
          d.observe({ ...base, id: `${name}${i}`, service: 'vault', path: `/keys/${name}` }, c);
      }
      return { d, kinds: c.signals.map((s) => `${s.kind} ${s.endpoint}`) };
    };
    const on = run(true);
    expect(on.kinds).toEqual([]);
    expect(on.d.inventory.list().map((e) => [e.route, e.state, e.count, e.catalogueId])).toEqual([
      ['/keys/{keyName}', 'catalogued', 9, 'vault-api'],
    ]);
    // templating by value shape alone keeps the words literal: three false shadow APIs
    expect(run(false).kinds).toEqual([
      'shadow_api GET /keys/alice',
      'shadow_api GET /keys/billing-eu',
      'shadow_api GET /keys/staging',
    ]);
  });

  it('a word parameter whose popular values repeat becomes one endpoint once its estimated values are many', () => {
    const base = records()[0];
    // a frequent user in every other call: too few new values for novelty, too few values for route_max_distinct
    const users = Array.from({ length: 90 }, (_, i) => [`frequent`, `user${'abcdefghij'[i % 10]}${i}`]).flat();
    const run = (route_estimated_distinct: number) => {
      const d = new ApiDiscovery({ ...config(), route_max_distinct: 200, route_estimated_distinct }, { catalog });
      const c = ctx();
      for (const [i, u] of users.entries())
        d.observe({ ...base, id: `c${i}`, service: 'ledger', path: `/accounts/${u}/feeds` }, c);
      return d.inventory.list().filter((e) => e.service === 'ledger');
    };
    // the default (300) folds at the 64th user, and the entries of the users before it merge into the parameter's
    const on = run(apiDiscoveryFactory.defaultConfig.route_estimated_distinct);
    expect(on.find((e) => e.route === '/accounts/{param}/feeds')?.count).toBe(users.length);
    expect(on).toHaveLength(1);
    // off: every user is an endpoint of its own
    expect(run(0)).toHaveLength(91);
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
