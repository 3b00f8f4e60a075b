import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MeshwardError } from '../core/errors.js';
import { runAssociate } from './associate-command.js';

const td = (f: string) => join(import.meta.dirname, 'testdata', f);
const tmp = () => mkdtempSync(join(tmpdir(), 'mw-assoc-'));

describe('runAssociate', () => {
  it('writes one JSONL prediction per API with value, probability and neighbours for every label dimension', async () => {
    const out = join(tmp(), 'out.jsonl');
    const res = await runAssociate({
      catalogPath: td('catalog.jsonl'),
      apisPath: td('apis.jsonl'),
      outPath: out,
      k: 5,
      minConfidence: 0.25,
      // lexical features only, whether or not the word-vector cache is built on this machine: with word vectors the
      // weather API is weakly related to the insurance APIs (rainfall ~ claims), and in a six-API catalogue the
      // relative vote weights make a weak relation decisive
      config: { word_embeddings: 'off' },
    });
    expect(res.written).toBe(3);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['new-refunds', 'inv:claims-upload', 'weather']);
    const [refunds, claims, weather] = lines;
    expect(Object.keys(refunds.labels).sort()).toEqual(['appCode', 'category', 'lineOfBusiness']);
    expect(refunds.labels.category.value).toBe('payment');
    expect(refunds.labels.lineOfBusiness.value).toBe('retail_banking');
    expect(refunds.labels.category.neighbours).toHaveLength(5);
    expect(['payments', 'payouts']).toContain(refunds.labels.category.neighbours[0]);
    expect(claims.labels.category.value).toBe('insurance');
    expect(claims.labels.category.neighbours[0]).toBe('claims');
    // nothing in common with the catalogue: below the threshold
    expect(weather.labels.category.value).toBe('unassigned');
    // the reviewer still gets the best class, and only for an unassigned label
    expect(typeof weather.labels.category.candidate).toBe('string');
    expect(refunds.labels.category.candidate).toBeUndefined();
    expect(res.unassigned).toBeGreaterThanOrEqual(1);
    for (const l of lines)
      for (const p of Object.values(l.labels) as { probability: number }[])
        expect(p.probability).toBeLessThanOrEqual(1);
  });

  it('associates OpenAPI documents given as --apis beside JSONL, in one batch', async () => {
    const dir = tmp();
    const spec = join(dir, 'motor-claims.yaml');
    writeFileSync(
      spec,
      [
        'openapi: 3.0.3',
        'info: { title: Motor insurance claims, description: File a motor insurance claim against a policy }',
        'servers: [{ url: "https://motor.insure.example/v1" }]',
        'paths:',
        '  /claims/{claimId}/photos:',
        '    post:',
        '      parameters:',
        '        - { name: claimId, in: path, required: true, schema: { type: string } }',
        '        - { name: policyNumber, in: query, schema: { type: string } }',
        '      responses: { "201": { description: stored } }',
        '',
      ].join('\n'),
    );
    const out = join(dir, 'out.jsonl');
    const res = await runAssociate({
      catalogPath: td('catalog.jsonl'),
      apisPath: [spec, td('apis.jsonl')],
      outPath: out,
      config: { word_embeddings: 'off' },
    });
    expect(res.written).toBe(4);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.slice(1).map((l) => l.id)).toEqual(['new-refunds', 'inv:claims-upload', 'weather']);
    expect(lines[0].id).toMatch(/\w/);
    expect(lines[0].labels.category.value).toBe('insurance');
    expect(lines[0].labels.category.neighbours[0]).toBe('claims');
    // a document that is not an API definition is refused, naming the file
    const notApi = join(dir, 'notes.yaml');
    writeFileSync(notApi, 'hello: world\n');
    await expect(
      runAssociate({ catalogPath: td('catalog.jsonl'), apisPath: [notApi], outPath: join(dir, 'x.jsonl') }),
    ).rejects.toThrow(/notes\.yaml/);
  });

  it("associates a new provider's APIs in the file together (pooled), others each on their own", async () => {
    const dir = tmp();
    const apis = join(dir, 'apis.jsonl');
    writeFileSync(
      apis,
      [
        { id: 'fc-refunds', name: 'Refunds', description: 'Refunds for card charges', host: 'api.fincorp.io' },
        { id: 'fc-status', name: 'Status', description: 'Service status', host: 'status.fincorp.io' },
        { id: 'other', name: 'Claims', description: 'Insurance claims', host: 'api.insurely.dev' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    const out = join(dir, 'out.jsonl');
    await runAssociate({
      catalogPath: td('catalog.jsonl'),
      apisPath: apis,
      outPath: out,
      k: 5,
      config: { word_embeddings: 'off' },
    });
    const [refunds, status, other] = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const dim of ['category', 'lineOfBusiness', 'appCode']) {
      expect(refunds.labels[dim].pooled).toBe(2);
      expect(status.labels[dim].pooled).toBe(2);
      // one pooled probability per class: both APIs get the same best class and probability
      expect(status.labels[dim].probability).toBe(refunds.labels[dim].probability);
      expect(other.labels[dim].pooled).toBeUndefined();
    }
    // the status API says nothing of payments on its own; its sibling's refunds decide
    expect(refunds.labels.category.candidate ?? refunds.labels.category.value).toBe('payment');
    expect(status.labels.category.candidate ?? status.labels.category.value).toBe('payment');
  });

  it('accepts an OpenAPI catalogue and fails clearly on bad input', async () => {
    const dir = tmp();
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"id":"ok","name":"x"}\n{"noid":true}\n');
    const err = await runAssociate({
      catalogPath: td('catalog.jsonl'),
      apisPath: bad,
      outPath: join(dir, 'o.jsonl'),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(MeshwardError);
    expect(err.message).toMatch(/bad\.jsonl line 2: id: /);
    const unlabeled = join(dir, 'c.jsonl');
    writeFileSync(unlabeled, '{"id":"a","name":"a","labels":{}}\n');
    await expect(
      runAssociate({ catalogPath: unlabeled, apisPath: td('apis.jsonl'), outPath: join(dir, 'o.jsonl') }),
    ).rejects.toThrow(/no entry carries labels/);
    const yaml = join(import.meta.dirname, '..', 'inventory', 'catalog', 'testdata', 'petstore-v3.yaml');
    const out = join(dir, 'p.jsonl');
    await runAssociate({
      catalogPath: [td('catalog.jsonl'), yaml],
      apisPath: td('apis.jsonl'),
      outPath: out,
      minConfidence: 0,
    });
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
  });
  it("an inventory export's callers count, trusted as far as its catalogued entries show (peer_prior)", async () => {
    const dir = tmp();
    const apps: [string, string, string, string][] = [
      ['orders-ui', '/cart', 'item', 'ORD'],
      ['orders', '/orders/{id}', 'status', 'ORD'],
      ['basket', '/basket/{id}', 'item', 'ORD'],
      ['stock', '/stock/{id}', 'sku', 'ORD'],
      ['pay-ui', '/checkout', 'card', 'PAY'],
      ['payments', '/payments/{id}', 'amount', 'PAY'],
      ['ledger', '/ledger/{id}', 'amount', 'PAY'],
      ['invoices', '/invoices/{id}', 'amount', 'PAY'],
    ];
    const host = (s: string) => `${s}.shop.svc.cluster.local`;
    writeFileSync(
      join(dir, 'catalog.jsonl'),
      apps
        .map(([service, path, param, appCode]) =>
          JSON.stringify({
            id: service,
            name: service,
            service,
            host: host(service),
            endpoints: [{ method: 'GET', path, params: [param] }],
            labels: { appCode },
          }),
        )
        .join('\n'),
    );
    // the UIs call their own application's back ends; a new service (words of the payment UI's) is called by the orders UI
    const catalogued = apps.map(([service, route, param, appCode]) => ({
      id: `api:${service}`,
      service,
      method: 'GET',
      route,
      hosts: [host(service)],
      params: [param],
      callers: [service.endsWith('-ui') ? 'edge' : appCode === 'ORD' ? 'orders-ui' : 'pay-ui'],
      state: 'catalogued',
      labels: { appCode: { value: appCode, probability: 1, neighbours: [service] } },
    }));
    const refunds = {
      id: 'api:refunds',
      service: 'refunds',
      method: 'GET',
      route: '/refunds/{id}',
      hosts: [host('refunds')],
      params: ['card'],
      callers: ['orders-ui'],
      state: 'shadow',
      labels: {},
    };
    const associate = async (lines: object[]) => {
      const apis = join(dir, 'apis.jsonl');
      writeFileSync(apis, lines.map((l) => JSON.stringify(l)).join('\n'));
      const out = join(dir, 'out.jsonl');
      await runAssociate({
        catalogPath: join(dir, 'catalog.jsonl'),
        apisPath: apis,
        outPath: out,
        config: { word_embeddings: 'off' },
      });
      const last = readFileSync(out, 'utf8').trim().split('\n').at(-1) ?? '{}';
      const l = JSON.parse(last).labels.appCode;
      return { best: l.candidate ?? l.value, because: (l.because ?? []).join(', ') };
    };
    const withExport = await associate([...catalogued, refunds]);
    expect(withExport.best).toBe('ORD');
    expect(withExport.because).toMatch(/^callers orders-ui/);
    // the shadow entry alone: nothing shows how callers relate to what they call, so its words decide
    expect((await associate([refunds])).best).toBe('PAY');
  });
});
