import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../detectors/all.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { resolveConfig } from '../config/load.js';
import type { Alert } from '../core/alert.js';
import type { Decision } from '../core/decision.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { orderCall } from '../detectors/api-discovery/testdata/orders-calls.js';
import { metricSum } from '../../test/harness/metrics.js';
import { expectSlowBodyRefusedAt } from '../../test/harness/raw-http.js';
import { type RunningRole, runApi, runCollector, runCorrelator } from './roles.js';

const TESTDATA = join(import.meta.dirname, '../detectors/api-discovery/testdata');
const SENSOR = 'sensor-token-0123456789';
const VIEWER = 'viewer-key-0123456789';
const RESPONDER = 'responder-key-0123456789';
const KONG = 'kong-log-token-0123456789';
const ADMIN = 'admin-key-0123456789';

/**
 * The roles wired together in one process, as `meshward start` runs them: records in at the collector, the
 * api_discovery detector's inventory at /v1/inventory, and the policy engine acting on the alerts it raises, with
 * the decisions API behind the analysts' roles.
 */
describe('embedded roles: collector → correlator → inventory and decisions at the API', () => {
  const roles: RunningRole[] = [];
  let collector = '';
  let api = '';
  let correlatorProbe = '';
  let policyFile = '';
  let catalogFile = '';
  const store = new MemoryStore();

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshward-embedded-'));
    policyFile = join(dir, 'policy.yaml');
    // a copy, which the last test changes on disk
    catalogFile = join(dir, 'catalog.jsonl');
    writeFileSync(catalogFile, readFileSync(join(TESTDATA, 'catalog.jsonl')));
    writeFileSync(
      policyFile,
      [
        'version: 1',
        'guardrails: { max_actions_per_minute: 10 }',
        'rules:',
        '  - name: watch-shadow-apis',
        '    match: { kinds: [shadow_api] }',
        '    action: { type: deny, scope: route, ttl: 10m }',
        '    requires_approval: true',
      ].join('\n'),
    );
    const config = resolveConfig({
      data_dir: join(dir, 'data'),
      collector: { listen: '127.0.0.1:0', sensor_tokens: [{ id: 'gw1', token: SENSOR }], request_timeout_seconds: 2 },
      api: {
        listen: '127.0.0.1:0',
        request_timeout_seconds: 2,
        api_keys: [
          { name: 'vic', key: VIEWER, role: 'viewer' },
          { name: 'rita', key: RESPONDER, role: 'responder' },
          { name: 'ada', key: ADMIN, role: 'admin' },
        ],
      },
      correlator: { checkpoint_interval_ms: 100, listen: '127.0.0.1:0' },
      detectors: {
        api_discovery: { catalog_files: [catalogFile], min_calls: 3 },
      },
      actions: { policy_file: policyFile, expiry_interval_ms: 0 },
      receivers: { kong_http_log: { tokens: [KONG], token_hash_key: 'embedded-token-hash-key' } },
    });
    const deps = { config, bus: new MemoryBus({ partitions: 2 }), store, logger: silentLogger };
    const corr = await runCorrelator(deps);
    roles.push(corr);
    correlatorProbe = corr.url as string;
    const a = await runApi(deps);
    roles.push(a);
    const c = await runCollector(deps);
    roles.push(c);
    api = a.url as string;
    collector = c.url as string;
  });

  afterAll(async () => {
    for (const r of roles.reverse()) await r.close();
  });

  const get = async (path: string, key = VIEWER) => {
    const res = await fetch(`${api}${path}`, { headers: { 'x-api-key': key } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const post = async (path: string, body: unknown, key?: string) => {
    const res = await fetch(`${api}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('discovers shadow APIs into the inventory, and turns their alerts into decisions that wait for approval', async () => {
    const records = readFileSync(join(TESTDATA, 'records.jsonl'), 'utf8');
    const res = await fetch(`${collector}/v1/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SENSOR}`, 'content-type': 'application/x-ndjson' },
      body: records,
    });
    expect(res.status).toBe(200);
    const expected = JSON.parse(readFileSync(join(TESTDATA, 'expected.json'), 'utf8')) as unknown;

    // the inventory: every endpoint of the traffic, with its catalogue state
    const inventory = await until(async () => {
      const { body } = await get('/v1/inventory?limit=500');
      const items = body.items as { id: string; state: string; route: string; method: string; service: string }[];
      return items.some((i) => i.state === 'shadow') ? items : undefined;
    }, 'shadow entries in the inventory');
    expect(inventory.length).toBeGreaterThan(1);
    expect(JSON.stringify(expected)).toContain(inventory.find((i) => i.state === 'shadow')?.route ?? '<none>');
    const shadows = await get('/v1/inventory?state=shadow');
    expect((shadows.body.items as unknown[]).length).toBe(inventory.filter((i) => i.state === 'shadow').length);

    // reviews: viewers may not, responders may; the entry becomes reviewed with the analyst's labels
    const target = inventory.find((i) => i.state === 'shadow')!;
    expect(
      (await post(`/v1/inventory/${encodeURIComponent(target.id)}/review`, { labels: { category: 'x' } })).status,
    ).toBe(401);
    expect(
      (await post(`/v1/inventory/${encodeURIComponent(target.id)}/review`, { labels: { category: 'x' } }, VIEWER))
        .status,
    ).toBe(403);
    const reviewed = await post(
      `/v1/inventory/${encodeURIComponent(target.id)}/review`,
      { labels: { category: 'payments', appCode: 'PAY1' } },
      RESPONDER,
    );
    expect(reviewed.status).toBe(200);
    expect(reviewed.body).toMatchObject({
      state: 'reviewed',
      labels: { category: { value: 'payments', probability: 1 } },
    });
    expect((await get(`/v1/inventory/${encodeURIComponent(target.id)}`)).body).toMatchObject({ state: 'reviewed' });
    // the stored review carries what the association needs of the entry, so every correlator can learn it
    expect(JSON.parse((await store.hget('inv:reviews', target.id)) ?? '{}')).toMatchObject({
      labels: { category: 'payments' },
      api: { route: target.route },
    });
    expect((await post('/v1/inventory/nope/review', { labels: {} }, RESPONDER)).status).toBe(404);

    // the service's endpoints as an OpenAPI document, to add to the catalogue: every one, or those of one state
    const oas = await get(`/v1/inventory/openapi?service=${encodeURIComponent(target.service)}`);
    expect(oas.status).toBe(200);
    const ops = (doc: Record<string, unknown>) =>
      Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) =>
        Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`),
      );
    const mine = inventory.filter((i) => i.service === target.service);
    expect(ops(oas.body).length).toBe(mine.length);
    expect(oas.body).toMatchObject({ openapi: '3.0.3', info: { 'x-service': target.service } });
    const shadowDoc = await get(`/v1/inventory/openapi?service=${encodeURIComponent(target.service)}&state=shadow`);
    expect(ops(shadowDoc.body).length).toBe(mine.filter((i) => i.state === 'shadow' && i.id !== target.id).length);
    const yaml = await fetch(`${api}/v1/inventory/openapi?service=${encodeURIComponent(target.service)}&format=yaml`, {
      headers: { 'x-api-key': VIEWER },
    });
    expect(yaml.headers.get('content-type')).toContain('application/yaml');
    expect(await yaml.text()).toContain('openapi: 3.0.3');
    expect((await get('/v1/inventory/openapi?service=nobody')).status).toBe(404);
    expect((await get('/v1/inventory/openapi')).status).toBe(400);
    expect((await fetch(`${api}/v1/inventory/openapi?service=${target.service}`)).status).toBe(401);

    // catalogue coverage: the orders API's two endpoints were called, the payments API's never
    type Coverage = { id: string; seen: number; endpoints: number; unused: { method: string; path: string }[] };
    const coverage = await get('/v1/inventory/coverage');
    expect(coverage.status).toBe(200);
    const byId = new Map((coverage.body.items as Coverage[]).map((c) => [c.id, c]));
    expect(byId.get('orders-api')).toMatchObject({ endpoints: 2, seen: 2, unused: [] });
    expect(byId.get('payments-api')).toMatchObject({
      seen: 0,
      unused: [
        { method: 'POST', path: '/v1/charges' },
        { method: 'POST', path: '/v1/refunds/{chargeId}' },
      ],
    });
    expect(coverage.body.summary).toMatchObject({ entries: byId.size });
    const unused = (await get('/v1/inventory/coverage?unused=true')).body.items as Coverage[];
    expect(unused.map((c) => c.id)).not.toContain('orders-api');
    expect(unused.map((c) => c.id)).toContain('payments-api');
    const orders = (await get('/v1/inventory/coverage?service=orders')).body.items as Coverage[];
    expect(new Set(orders.map((c) => c.id))).toEqual(new Set(['orders-api', 'legacy-orders']));
    // the correlator that owns the endpoint learns the review at its next checkpoint (traffic keeps flowing)
    await until(async () => {
      await fetch(`${collector}/v1/records`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SENSOR}`, 'content-type': 'application/x-ndjson' },
        body: records,
      });
      const raw = await store.hget('doc:api_inventory', target.id);
      return raw && JSON.parse(raw).state === 'reviewed' ? true : undefined;
    }, 'the correlator to learn the review');

    // the shadow_api alerts reached the policy engine: one decision each, waiting for approval
    const alerts = await until(async () => {
      const items = (await get('/v1/alerts?kind=shadow_api')).body.items as Alert[];
      return items.length > 0 ? items : undefined;
    }, 'shadow_api alerts');
    const decisions = await until(async () => {
      const list = (await get('/v1/decisions')).body.decisions as Decision[];
      return list.length >= alerts.length ? list : undefined;
    }, 'decisions');
    expect(decisions.every((d) => d.state === 'pending_approval' && d.type === 'deny' && d.scope === 'route')).toBe(
      true,
    );
    expect(new Set(decisions.map((d) => d.alertId))).toEqual(new Set(alerts.map((a) => a.id)));

    // the decisions API is behind the roles: nothing without a key, no approval for viewers
    expect((await fetch(`${api}/v1/decisions`)).status).toBe(401);
    expect((await post(`/v1/decisions/${decisions[0].id}/approve`, {}, VIEWER)).status).toBe(403);
    const approved = await post(`/v1/decisions/${decisions[0].id}/approve`, {}, RESPONDER);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: decisions[0].id, state: 'active' });
    const audit = (await get(`/v1/audit?decisionId=${decisions[0].id}`)).body as { entries?: { actor: string }[] };
    expect(JSON.stringify(audit)).toContain('rita');
  });

  it("a review of a shadow API resolves its open alert, with the reviewer's labels in a note", async () => {
    // a shadow endpoint of its own: three calls (min_calls) to a route the catalogue does not have
    const calls = [0, 1, 2].map((i) =>
      orderCall(`audit-${i}`, 1_700_000_100_000 + i * 1000, 'GET', '/orders/audit-trail'),
    );
    const send = (body: string) =>
      fetch(`${collector}/v1/records`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SENSOR}`, 'content-type': 'application/x-ndjson' },
        body,
      });
    expect((await send(calls.map((c) => JSON.stringify(c)).join('\n'))).status).toBe(200);
    const alert = await until(async () => {
      const items = (await get('/v1/alerts?kind=shadow_api&state=open')).body.items as Alert[];
      return items.find((a) => a.endpoint === 'GET /orders/audit-trail');
    }, 'the shadow_api alert of GET /orders/audit-trail');
    const entryId = alert.subject?.value ?? '';
    expect(alert.subject?.type).toBe('api');
    // the alert can come before the correlator's next checkpoint writes the entry to the inventory
    await until(
      async () => ((await get(`/v1/inventory/${encodeURIComponent(entryId)}`)).status === 200 ? true : undefined),
      'the entry in the inventory',
    );
    const res = await post(
      `/v1/inventory/${encodeURIComponent(entryId)}/review`,
      { labels: { category: 'reporting' } },
      RESPONDER,
    );
    expect(res.status).toBe(200);
    const detail = async () =>
      (await get(`/v1/alerts/${alert.id}`)).body as { alert: Alert; notes: { action: string; comment?: string }[] };
    expect((await detail()).alert.state).toBe('resolved');
    expect((await detail()).notes).toContainEqual(
      expect.objectContaining({ action: 'resolve', comment: 'API reviewed: category=reporting' }),
    );
    // traffic goes on: the correlator learns the review and signals the endpoint no more, so it stays resolved
    await until(async () => {
      await send(calls.map((c) => JSON.stringify({ ...c, id: `${c.id}-again`, ts: c.ts + 5000 })).join('\n'));
      const raw = await store.hget('doc:api_inventory', entryId);
      return raw && JSON.parse(raw).state === 'reviewed' ? true : undefined;
    }, 'the correlator to learn the review');
    expect((await detail()).alert.state).toBe('resolved');
  });

  it('takes Kong http-log batches on the collector when the receiver is configured, with its own token', async () => {
    const batch = readFileSync(join(import.meta.dirname, '../receivers/kong-http-log/testdata/batch-kong-2x.json'));
    const send = (token?: string) =>
      fetch(`${collector}/v1/kong/http-log`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: batch,
      });
    expect((await send()).status).toBe(401);
    expect((await send(SENSOR)).status).toBe(401);
    const ok = await send(KONG);
    expect(ok.status, await ok.text()).toBeLessThan(300);
    const services = await until(async () => {
      const items = (await get('/v1/inventory?limit=500')).body.items as {
        service: string;
        method: string;
        route: string;
      }[];
      const hit = items.filter((i) => i.route.startsWith('/v1/payments'));
      return hit.some((i) => i.method === 'POST') ? hit : undefined;
    }, 'the Kong records in the inventory');
    expect(services.map((s) => s.method)).toContain('POST');
  });

  it('publishes the JSON Schemas of its documents; a record that validates against the served schema is accepted', async () => {
    const list = (await (await fetch(`${api}/v1/schemas`)).json()) as { items: { name: string }[] };
    expect(list.items.map((i) => i.name)).toEqual(['api-call-record-v1', 'alert-v1', 'decision-v1', 'api-entry-v1']);
    const res = await fetch(`${api}/v1/schemas/api-call-record-v1`);
    expect(res.headers.get('content-type')).toContain('application/schema+json');
    const schema = (await res.json()) as { required: string[]; properties: Record<string, unknown> };
    expect(schema.required).toEqual(expect.arrayContaining(['id', 'ts', 'service', 'method', 'path', 'status']));
    const validate = new Ajv({ strict: false }).compile(schema);
    const record = JSON.parse(readFileSync(join(TESTDATA, 'records.jsonl'), 'utf8').split('\n')[0]) as Record<
      string,
      unknown
    >;
    expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...record, status: 'ok' })).toBe(false);
    expect((await fetch(`${api}/v1/schemas/__proto__`)).status).toBe(404);
  });

  it('serves the correlator health and its Prometheus metrics when correlator.listen is set', async () => {
    const health = await fetch(`${correlatorProbe}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', parts: { bus: true, store: true } });
    const metrics = await (await fetch(`${correlatorProbe}/metrics`)).text();
    expect(metrics).toMatch(/^meshward_correlator_records_total \d+/m);
    // what it does not serve is refused with a catalogue code and counted as the correlator's
    const refused = () => metricSum('meshward_http_errors_total', { server: 'correlator', code: 'MW_ERR_NOT_FOUND' });
    const before = await refused();
    const nope = await fetch(`${correlatorProbe}/v1/alerts`);
    expect({ status: nope.status, json: await nope.json() }).toEqual({
      status: 404,
      json: { code: 'MW_ERR_NOT_FOUND', message: expect.any(String) },
    });
    expect(await refused()).toBe(before + 1);
  });

  it('refuses a request whose body comes a byte at a time once request_timeout_seconds passed, on the collector and the API', async () => {
    const portOf = (url: string) => Number(new URL(url).port);
    const json = 'Content-Type: application/json\r\n';
    await expectSlowBodyRefusedAt(portOf(collector), 'collector', 2_000, {
      head: `POST /v1/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SENSOR}\r\n${json}`,
      body: '[]'.padEnd(1_000),
      status: 200,
    });
    // a body the route reads, then refuses: nothing is silenced
    await expectSlowBodyRefusedAt(portOf(api), 'api', 2_000, {
      head: `POST /v1/silences HTTP/1.1\r\nHost: x\r\nX-API-Key: ${RESPONDER}\r\n${json}`,
      body: '{}'.padEnd(1_000),
      status: 400,
    });
  });

  it('lets admins see the sensors and the policy and reload it; a bad file is refused and the policy stays', async () => {
    expect((await get('/v1/admin/sensors', RESPONDER)).status).toBe(403);
    // the sensors seen come from the collector's flush every 10 s (collector/sensor-activity.test.ts)
    expect((await get('/v1/admin/sensors', ADMIN)).body).toEqual({
      items: [{ id: 'gw1' }],
      seen: expect.any(Array),
      quietAfterMinutes: 15,
    });
    const before = await get('/v1/admin/policy', ADMIN);
    expect(before.body).toMatchObject({ rules: [{ name: 'watch-shadow-apis', type: 'deny', requiresApproval: true }] });
    expect(JSON.stringify(before.body)).not.toContain(SENSOR);

    writeFileSync(
      policyFile,
      `${readFileSync(policyFile, 'utf8')}\n  - name: second\n    match: { kinds: [enumeration] }\n    action: { type: deny, scope: ip, ttl: 5m }\n`,
    );
    const reloaded = await post('/v1/admin/policy/reload', {}, ADMIN);
    expect(reloaded.status).toBe(200);
    expect((reloaded.body.rules as { name: string }[]).map((r) => r.name)).toEqual(['watch-shadow-apis', 'second']);

    writeFileSync(policyFile, 'version: 1\nrules: [{ name: broken }]\n');
    const refused = await post('/v1/admin/policy/reload', {}, ADMIN);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'MW_ERR_POLICY_INVALID' });
    expect(((await get('/v1/admin/policy', ADMIN)).body.rules as unknown[]).length).toBe(2);
    expect((await post('/v1/admin/policy/reload', {}, RESPONDER)).status).toBe(403);

    // admin changes are rate limited per address (10 a minute here) and on record in the access log
    let limited = 0;
    for (let i = 0; i < 12; i++) if ((await post('/v1/admin/policy/reload', {}, ADMIN)).status === 429) limited++;
    expect(limited).toBeGreaterThan(0);
    const log = (await get('/v1/access-log?limit=1000', ADMIN)).body.items as { route: string; principal?: string }[];
    expect(log.filter((e) => e.route === '/v1/admin/policy/reload' && e.principal === 'ada').length).toBeGreaterThan(2);
  });

  it('takes up a catalogue changed on disk, traffic or not: a shadow API added to it is catalogued', async () => {
    const shadow = async () =>
      ((await get('/v1/inventory?state=shadow')).body.items as { route: string }[]).map((i) => i.route);
    expect(await shadow()).toContain('/orders/export/sales-reports');
    writeFileSync(
      catalogFile,
      `${readFileSync(catalogFile, 'utf8')}\n{"id":"sales-exports","name":"Sales exports","service":"orders","endpoints":[{"method":"GET","path":"/orders/export/sales-reports"}],"labels":{"category":"analytics"}}\n`,
    );
    // no traffic now: an idle partition takes the change up too, within a checkpoint interval
    const entry = await until(async () => {
      const items = (await get('/v1/inventory?service=orders&limit=500')).body.items as {
        route: string;
        state: string;
        catalogueId: string | null;
      }[];
      const e = items.find((i) => i.route === '/orders/export/sales-reports');
      return e?.state === 'catalogued' ? e : undefined;
    }, 'the changed catalogue to be taken up');
    expect(entry.catalogueId).toBe('sales-exports');
    // the coverage the API serves reads the changed files too
    const coverage = (await get('/v1/inventory/coverage?service=orders')).body.items as { id: string; seen: number }[];
    expect(coverage.find((c) => c.id === 'sales-exports')).toMatchObject({ seen: 1 });
  });
});
