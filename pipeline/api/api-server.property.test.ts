import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum, protoSnapshot } from '../../test/harness/metrics.js';
import { AlertRepository } from '../alerts/alert-repository.js';
import { SilenceRepository } from '../alerts/silences.js';
import type { Alert } from '../core/alert.js';
import { ERRORS } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { alertRoutes } from './alert-routes.js';
import { createApiServer } from './api-server.js';
import { ApiAuthenticator } from './auth.js';
import { inventoryRoutes } from './inventory-routes.js';
import { serviceRoutes } from './service-routes.js';
import { silenceRoutes } from './silence-routes.js';

/**
 * Hostile query strings, paths and bodies on representative analyst API routes, over a real socket: whatever the
 * request, the API answers it with a catalogue code below 500, counts every refusal, refuses a query field its route
 * does not know, and never pollutes Object.prototype.
 */

const KEY = 'admin-key-0123456789';
const CODES = new Set(Object.values(ERRORS).map((e) => e.code));
const SEED = 20_260_101;

const alert = (i: number): Alert => ({
  v: 1,
  id: `alr_${i}`,
  kind: i % 2 ? 'error_burst' : 'enumeration',
  severity: i % 3 ? 'medium' : 'high',
  state: 'open',
  service: 'orders',
  firstSeen: 1000 + i,
  lastSeen: 2000 + i,
  count: 1,
  summary: `alert ${i}`,
  evidence: { recordIds: [], metrics: {} },
  updatedAt: 2000 + i,
});

let app: FastifyInstance;
let port: number;
/** the query fields each GET route declares, from the OpenAPI document its schemas generate */
const queryFields = new Map<string, Set<string>>();

beforeAll(async () => {
  const store = new MemoryStore();
  const alerts = new AlertRepository(store);
  for (let i = 0; i < 5; i++) await alerts.upsert(alert(i));
  app = await createApiServer({
    auth: new ApiAuthenticator([{ name: 'admin-user', key: KEY, role: 'admin' }]),
    logger: silentLogger,
    health: () => ({ bus: true }),
    plugins: [
      alertRoutes({ alerts }),
      serviceRoutes(store),
      silenceRoutes(new SilenceRepository(store), alerts),
      inventoryRoutes(store),
    ],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
  const doc = app.swagger() as {
    paths: Record<string, { get?: { parameters?: { in: string; name: string }[] } }>;
  };
  for (const [path, ops] of Object.entries(doc.paths)) {
    const names = (ops.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    queryFields.set(path.replace(/\{(\w+)\}/g, ':$1'), new Set(names));
  }
});
afterAll(async () => {
  await app?.close();
});

/** one request over the socket: the path as given (percent-encoding and all), the answer's status and JSON */
function send(
  method: string,
  path: string,
  body?: Buffer,
  contentType?: string,
): Promise<{ status: number; json: { code?: string } }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'x-api-key': KEY };
    if (contentType) headers['content-type'] = contentType;
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: { code?: string } = {};
        try {
          json = JSON.parse(text) as { code?: string };
        } catch {
          // a non-JSON answer has no code: the property says so
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const errorsCounted = (code: string) => metricSum('meshward_http_errors_total', { server: 'api', code });

/** the request's answer is a catalogue code, counted when it is a refusal, and Object.prototype is untouched */
async function expectCatalogued(method: string, path: string, body?: Buffer, contentType?: string) {
  const proto = protoSnapshot();
  const before = new Map<string, number>();
  for (const code of CODES) before.set(code, await errorsCounted(code));
  const res = await send(method, path, body, contentType);
  expect(res.status, `${method} ${path}`).toBeLessThan(500);
  if (res.status >= 400) {
    expect(CODES.has(res.json.code as string), `${method} ${path} -> ${res.status} ${JSON.stringify(res.json)}`).toBe(
      true,
    );
    expect(await errorsCounted(res.json.code as string)).toBe((before.get(res.json.code as string) ?? 0) + 1);
  }
  expect(protoSnapshot()).toBe(proto);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  return res;
}

const nastyText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ maxLength: 30, unit: 'binary' }),
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-Infinity',
    '1e400',
    '-1e400',
    '9007199254740993',
    '0x10',
    '-0',
    '',
    'true',
    'open',
    'high',
    'severity',
    'last_seen',
    'severity:1e400:2:x',
    '1:',
    ':x',
    '\u0000',
    '__proto__',
  ),
  fc.double().map(String),
);
/** a percent-encoded query value, or raw escapes that do not decode (`%ff`, `%E0%A4%A`) */
const queryValue = fc.oneof(
  { weight: 4, arbitrary: nastyText.map(encodeURIComponent) },
  fc.constantFrom('%ff', '%E0%A4%A', '%00', '%', '%%', '%2', '+'),
);

const GET_ROUTES = [
  '/v1/alerts',
  '/v1/services/:name/metrics',
  '/v1/inventory',
  '/v1/inventory/openapi',
  '/v1/inventory/coverage',
] as const;

const pathParam = fc.oneof(
  fc.constantFrom('orders', '__proto__', 'constructor', 'alr_1', '%ff', '%E0%A4%A', '%00', 'a'.repeat(101)),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);

describe('analyst API under hostile requests (property)', () => {
  it('answers any query string with a catalogue code below 500, counts every refusal, refuses unknown fields', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...GET_ROUTES),
        pathParam,
        fc.array(
          fc.tuple(
            fc.oneof(
              fc.constantFrom(
                'kind',
                'severity',
                'min_severity',
                'service',
                'state',
                'from',
                'to',
                'sort',
                'limit',
                'cursor',
                'endpoint',
                'unassigned',
                'q',
                'first_seen_after',
                'last_seen_before',
                'last_seen_after',
                'format',
                'unused',
                '__proto__',
                'constructor',
              ),
              fc.string({ maxLength: 8 }),
            ),
            queryValue,
          ),
          { maxLength: 5 },
        ),
        async (route, param, pairs) => {
          const path = route.replace(':name', param);
          const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&');
          const res = await expectCatalogued('GET', query ? `${path}?${query}` : path);
          statuses.add(res.status);
          const known = queryFields.get(route) as Set<string>;
          if (pairs.some(([k]) => k !== '' && !known.has(k))) expect(res.status).toBe(400);
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
    // the generators reach answers and refusals
    expect(statuses.has(200)).toBe(true);
    expect(statuses.has(400)).toBe(true);
  });

  it('answers any body on the triage, silence and review routes with a catalogue code below 500', async () => {
    const routes = fc.constantFrom(
      '/v1/alerts/triage',
      '/v1/alerts/alr_1/acknowledge',
      '/v1/alerts/alr_1/assign',
      '/v1/alerts/alr_1/notes',
      '/v1/alerts/%ff/resolve',
      '/v1/silences',
      '/v1/inventory/review',
      '/v1/inventory/x/review',
    );
    const body = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc
        .record(
          {
            action: fc.constantFrom('acknowledge', 'resolve', 'reopen', 'assign', 'unassign', 'delete'),
            ids: fc.array(fc.constantFrom('alr_1', 'alr_2', 'x', '__proto__'), { maxLength: 3 }),
            comment: nastyText,
            assignee: nastyText,
            takeover: fc.boolean(),
            matchers: fc.dictionary(fc.constantFrom('service', 'kind', 'subject', '__proto__', 'x'), nastyText),
            duration_minutes: fc.oneof(fc.integer(), fc.double()),
            labels: fc.dictionary(fc.constantFrom('data_class', 'owner', 'constructor', 'toString'), nastyText),
          },
          { requiredKeys: [] },
        )
        .map((b) => JSON.stringify(b)),
      fc.constantFrom(
        '',
        'null',
        '{"__proto__":{"polluted":true}}',
        '{"constructor":{"prototype":{"polluted":true}}}',
        `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
        '{"comment":"\\u0000"}',
      ),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-16',
      'text/plain',
      'application/x-www-form-urlencoded',
      '',
    );
    await fc.assert(
      fc.asyncProperty(routes, body, contentType, async (path, text, type) => {
        await expectCatalogued('POST', path, Buffer.from(text, 'latin1'), type);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('answers a path the router cannot decode, or a path parameter past its limit, from the catalogue and counts it', async () => {
    for (const path of ['/v1/alerts/%ff', '/v1/alerts/%E0%A4%A/acknowledge', `/v1/alerts/${'a'.repeat(101)}`]) {
      const before = await errorsCounted('MW_ERR_BAD_REQUEST');
      const res = await send(path.endsWith('acknowledge') ? 'POST' : 'GET', path);
      expect(res.status, path).toBe(400);
      expect(res.json.code).toBe('MW_ERR_BAD_REQUEST');
      expect(await errorsCounted('MW_ERR_BAD_REQUEST')).toBe(before + 1);
    }
  });
});
