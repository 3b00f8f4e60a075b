import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../pipeline/core/decision.js';
import { splitBody } from '../../pipeline/collector/collector-server.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';
import { DecisionView } from './decision-view.js';
import { meshwardSensor } from './plugin.js';

/**
 * The records of a fixed set of requests, compared with testdata/golden-records.jsonl (written by the first
 * implementation of the sensor): content and number formatting must not change when the recording path is optimised.
 * Over HTTP the sensor sends rows, which the collector's own body decoding (`splitBody`) makes records. Ids,
 * timestamps and durations vary per run and are checked for shape, then normalised; keys are compared sorted (rows
 * carry no key order).
 */

const check = TypeCompiler.Compile(ApiCallRecordSchema);
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const fakeJwt = (claims: Record<string, unknown>) => `${b64url({ alg: 'RS256' })}.${b64url(claims)}.c2ln`;

const requests: InjectOptions[] = [
  { url: '/orders/1?expand=items', headers: { authorization: `Bearer ${fakeJwt({ sub: 'alice' })}` } },
  {
    url: '/orders/2?expand=items&expand=more&api_key=k&token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig',
    headers: {
      host: 'orders.example:8443',
      authorization: `bearer   ${fakeJwt({ sub: 'b"ob\\\u00e9\u2028', acr: 'urn:mfa' })}  `,
      traceparent: '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01',
    },
  },
  {
    url: '/orders/3',
    headers: {
      authorization: 'Bearer opaque-token-123',
      traceparent: ' 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ',
    },
  },
  {
    url: '/orders/4',
    headers: {
      authorization: 'Basic dXNlcjpwYXNz',
      traceparent: 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
  },
  { url: '/orders/5', headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' } },
  { url: '/orders/6?expand=%22quoted%22%0A&expand=x', headers: { host: '[::1]:8080' } },
  { url: '/nope/%E2%9C%93?x=1', headers: { 'x-authenticated-user': 'carol' } },
  {
    method: 'POST',
    url: '/orders',
    payload: { a: 'x'.repeat(100) },
    headers: { authorization: `Bearer ${fakeJwt({ sub: 42 })}` },
  },
  { url: '/private', headers: { authorization: `Bearer ${fakeJwt({ sub: 'dave' })}` } },
  { url: '/healthz' },
  { url: '/orders/7', remoteAddress: '203.0.113.9', headers: { authorization: `Bearer ${fakeJwt({ sub: 'erin' })}` } },
  { url: '/orders/1?expand=items', headers: { authorization: `Bearer ${fakeJwt({ sub: 'alice' })}` } },
  { url: `/orders/8?expand=${'y'.repeat(4100)}` },
  { method: 'DELETE', url: '/orders/9', headers: { 'content-length': '0' } },
];

let collector: Server;
let collectorUrl: string;
const bodies: { text: Buffer; contentType: string }[] = [];

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ text: Buffer.concat(chunks), contentType: String(req.headers['content-type']) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"rejected":[]}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => collector.close(r)));

const denyIp: Decision = {
  v: 1,
  id: 'd-golden',
  type: 'deny',
  scope: 'ip',
  value: '203.0.113.9',
  until: Date.now() + 600_000,
  reason: 'test',
  simulated: false,
  state: 'active',
  createdAt: 1,
  updatedAt: 1,
};

async function run(sink: 'memory' | 'http'): Promise<ApiCallRecord[] | string[]> {
  const records: ApiCallRecord[] = [];
  const view = new DecisionView();
  view.onUpsert(denyIp);
  const app: FastifyInstance = Fastify();
  await app.register(meshwardSensor, {
    config: {
      token_hash_key: 'golden-token-hash-key',
      query_params: ['expand', 'api_key', 'token'],
      ignore_routes: ['/healthz'],
      region: 'eu-1',
      enforce: { enabled: true },
      shipper: { collector_url: collectorUrl, flush_interval_ms: 10 },
    },
    decisions: view,
    ...(sink === 'memory' ? { sink: { push: (r: ApiCallRecord) => records.push(r) > 0 } } : {}),
  });
  app.get('/orders/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  app.post('/orders', async (_req, reply) => reply.code(201).send({ ok: true }));
  app.delete('/orders/:id', async (_req, reply) => reply.code(204).send());
  app.get('/private', async (_req, reply) => reply.code(401).send({ error: 'no' }));
  app.get('/healthz', async () => 'ok');
  for (const r of requests) await app.inject({ remoteAddress: '10.0.0.1', ...r });
  await app.close();
  if (sink === 'memory') return records;
  return bodies.splice(0).flatMap((b) => splitBody(b.text, b.contentType).map((r) => JSON.stringify(r)));
}

/** ids, ts and durationMs differ per run: check them, then replace them with fixed values (keeping key order) */
function normalise(r: ApiCallRecord): string {
  expect(check.Check(r)).toBe(true);
  expect(r.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  expect(r.durationMs).toBeGreaterThanOrEqual(0);
  expect(Math.abs(r.ts - Date.now())).toBeLessThan(60_000);
  return JSON.stringify(sortedKeys({ ...r, id: 'ID', ts: 0, durationMs: 0 }));
}

const sortedKeys = (v: unknown): unknown =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sortedKeys((v as Record<string, unknown>)[k])]),
      )
    : v;

describe('fastify sensor records (golden)', () => {
  it('sends the same records to an in-process sink and over HTTP, equal to the golden file', async () => {
    const memory = (await run('memory')) as ApiCallRecord[];
    const lines = memory.map(normalise);
    expect(lines).toHaveLength(requests.length - 1);
    const overHttp = (await run('http')) as string[];
    expect(overHttp.map((s) => normalise(JSON.parse(s) as ApiCallRecord))).toEqual(lines);
    await expect(`${lines.join('\n')}\n`).toMatchFileSnapshot('testdata/golden-records.jsonl');
  });
});
