import { type AddressInfo, connect } from 'node:net';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';
import { meshwardSensor } from './plugin.js';

/**
 * Hostile requests to a Fastify app behind a proxy (trustProxy), written byte by byte on a real socket: every request
 * the app answers is recorded once, and the record is valid against the record schema, whatever the caller put in
 * Host, X-Forwarded-For, X-Forwarded-Host, the path, the query, Authorization, traceparent or Content-Length. A
 * record the schema refuses is dead-lettered by the collector, so a request it describes would be missing from
 * every detector: a caller could hide its requests by choosing its headers.
 */

const check = TypeCompiler.Compile(ApiCallRecordSchema);
const SEED = 20_260_101;

let app: FastifyInstance;
let port: number;
const records: ApiCallRecord[] = [];

/** one request written as raw bytes; the status line's code, 0 when the connection closed without one */
function raw(request: string): Promise<{ status: number; fromApp: boolean }> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => {});
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, fromApp: /\r\nx-app: 1\r\n/i.test(text) });
    });
    sock.end(Buffer.from(request, 'latin1'));
  });
}

beforeAll(async () => {
  app = Fastify({ trustProxy: true });
  await app.register(meshwardSensor, {
    config: {
      token_hash_key: 'test-token-hash-key-0123',
      sensor_id: 'gw-prop',
      query_params: ['page', 'q', 'access_token'],
    },
    sink: { push: (r: ApiCallRecord) => records.push(r) } as never,
  });
  // the app's own answers carry x-app, so the test knows the request reached it (Node refuses malformed ones first)
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-app', '1');
  });
  app.get('/orders/:id', async () => ({ ok: true }));
  app.post('/orders', async () => ({ ok: true }));
  app.get('/*', async () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app?.close();
});

/** header text as a caller can send it: printable ASCII and obs-text (0x80-0xff), any length */
const headerText = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x')),
    fc
      .uint8Array({ maxLength: 40 })
      .map((b) => Buffer.from(b.map((x) => (x < 0x20 || x === 0x7f ? 0x41 : x))).toString('latin1')),
    fc.nat({ max }).map((n) => 'a'.repeat(n)),
    fc.constantFrom('::1', '[::1]:8080', '[', ':80', 'a:b:c', '1.2.3.4, 5.6.7.8', ' ', '%00', 'unknown'),
  );

const path = fc.oneof(
  fc.constantFrom('/orders/1', '/orders/%ff', '/orders/%E0%A4%A', '/x?page=1&page=2', '/x?q=%ff', '/?access_token=abc'),
  fc.webPath().map((p) => p || '/'),
  fc.nat({ max: 9000 }).map((n) => `/${'p'.repeat(n)}`),
  fc
    .tuple(fc.constantFrom('page', 'q', 'access_token', '__proto__'), headerText(5000))
    .map(([k, v]) => `/search?${k}=${encodeURIComponent(v)}`),
);

interface RawRequest {
  method: string;
  path: string;
  host?: string;
  xff?: string;
  xfh?: string;
  authorization?: string;
  traceparent?: string;
  contentLength?: string;
}

const request: fc.Arbitrary<RawRequest> = fc.record(
  {
    method: fc.constantFrom('GET', 'POST', 'HEAD', 'DELETE', 'OPTIONS'),
    path,
    host: headerText(2000),
    xff: headerText(2000),
    xfh: headerText(2000),
    authorization: fc.oneof(
      headerText(100),
      fc.constantFrom(
        'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln',
        `Bearer eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 's'.repeat(5000) })).toString('base64url')}.c2ln`,
        `Bearer eyJhbGciOiJIUzI1NiJ9.${Buffer.from('{"sub":{"__proto__":1}}').toString('base64url')}.c2ln`,
        'Basic',
        'Bearer ',
      ),
    ),
    traceparent: headerText(200),
    contentLength: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('0', '3') },
      // Node refuses these before the app: nothing to record
      fc.constantFrom('-1', '1e400', '99999999999999999999999', 'x'),
    ),
  },
  { requiredKeys: ['method', 'path'] },
);

function requestText(r: RawRequest): string {
  const lines = [`${r.method} ${r.path} HTTP/1.1`];
  if (r.host !== undefined) lines.push(`Host: ${r.host}`);
  else lines.push('Host: orders.local');
  if (r.xff !== undefined) lines.push(`X-Forwarded-For: ${r.xff}`);
  if (r.xfh !== undefined) lines.push(`X-Forwarded-Host: ${r.xfh}`);
  if (r.authorization !== undefined) lines.push(`Authorization: ${r.authorization}`);
  if (r.traceparent !== undefined) lines.push(`traceparent: ${r.traceparent}`);
  const body = r.contentLength === '3' ? 'abc' : '';
  if (r.contentLength !== undefined) lines.push(`Content-Length: ${r.contentLength}`);
  lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

describe('Fastify gateway sensor under hostile requests (property)', () => {
  it('records every request the app answers, once, as a schema-valid record', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const before = records.length;
        const res = await raw(requestText(r));
        if (res.fromApp) answered++;
        // the sink gets the record before onResponse returns; a request Node refused never reached the app
        await expect.poll(() => records.length, { timeout: 1000, interval: 2 }).toBe(before + (res.fromApp ? 1 : 0));
        for (const rec of records.slice(before))
          expect(check.Check(rec), JSON.stringify([...check.Errors(rec)].slice(0, 3))).toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect(answered).toBeGreaterThan(200);
  });

  it('records a request whose Host, X-Forwarded-Host or X-Forwarded-For is longer than a record holds, cut to fit', async () => {
    const before = records.length;
    const cases = [
      { host: 'h'.repeat(300), xff: undefined, xfh: undefined },
      { host: 'orders.local', xff: 'b'.repeat(100), xfh: undefined },
      { host: 'orders.local', xff: undefined, xfh: 'c'.repeat(600) },
    ];
    for (const c of cases)
      expect((await raw(requestText({ method: 'GET', path: '/orders/7', ...c }))).fromApp).toBe(true);
    const got = records.slice(before);
    expect(got).toHaveLength(3);
    for (const rec of got) expect(check.Check(rec), JSON.stringify([...check.Errors(rec)])).toBe(true);
    expect(got.map((r) => [r.service.length, r.source.ip?.length, r.host.length])).toEqual([
      [256, 9, 300],
      [12, 64, 12],
      [256, 9, 512],
    ]);
  });
});
