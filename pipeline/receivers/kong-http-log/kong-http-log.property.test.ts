import type { AddressInfo } from 'node:net';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum, protoSnapshot } from '../../../test/harness/metrics.js';
import { type DeadLetter, createRecordIngest } from '../../collector/record-ingest.js';
import { capturedBus, postWithToken } from '../../../test/harness/captured-bus.js';
import { ERRORS } from '../../core/errors.js';
import { installErrorHandler } from '../../core/http-errors.js';
import { silentLogger } from '../../core/logger.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../core/record.js';
import { kongHttpLogPlugin } from './kong-http-log.js';

/**
 * Hostile Kong http-log batches over a real socket, into the collector's own ingest (as the collector mounts the
 * receiver: its error handler, its ingest): whatever the entries, the receiver answers 200 with each entry accepted
 * as a schema-valid record or dead-lettered with its reason and counted, or refuses the request with a catalogue
 * code; never a 5xx. What a caller of the gateway controls (query parameter names, header names and values, the
 * URI) never costs the batch it is logged in.
 */

const TOKEN = 'kong-sensor-token-0123456789';
const SEED = 20_260_101;
const NOW = Date.now();
const CODES = new Set(Object.values(ERRORS).map((e) => e.code));
const checkRecord = TypeCompiler.Compile(ApiCallRecordSchema);
const PROTO_NAMES = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];

let app: FastifyInstance;
let url: string;
let got: { calls: ApiCallRecord[]; dlq: DeadLetter[] };
let settle: (calls: number, dlq: number) => Promise<void>;

beforeAll(async () => {
  const captured = await capturedBus({ maxBacklogPerPartition: 1_000_000 });
  const { bus } = captured;
  ({ got, settle } = captured);
  app = Fastify();
  installErrorHandler(app, 'collector', silentLogger);
  await app.register(kongHttpLogPlugin, {
    ingest: createRecordIngest({ bus, logger: silentLogger }),
    config: {
      sensor_id: 'kong-prop',
      tokens: [TOKEN],
      token_hash_key: 'kong-test-token-hash-key',
      query_params: ['*'],
      header_tags: ['user-agent', 'x-api-key'],
      max_batch: 50,
      body_limit: 256 * 1024,
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/kong/http-log`;
});
afterAll(async () => {
  await app?.close();
});

const post = (body: string | Uint8Array, contentType = 'application/json', token = TOKEN) =>
  postWithToken(url, body, contentType, token);

const httpErrors = (code: string) => metricSum('meshward_http_errors_total', { server: 'collector', code });
const entries = (outcome: string) => metricSum('meshward_kong_entries_total', { receiver: 'kong-prop', outcome });
/** the meshward_kong_entries_total outcome of a batch the route refuses as a whole, by the refusal's code */
const REFUSED_BATCH: Record<string, string> = {
  MW_ERR_UNAUTHENTICATED: 'unauthenticated',
  MW_ERR_BATCH_TOO_LARGE: 'batch_too_large',
};

/**
 * refusals counted, by code: every one, the route's (a batch refused as a whole) and the server's (body too large,
 * content type, JSON), in meshward_http_errors_total; the entries of a batch the route refuses also in
 * meshward_kong_entries_total by outcome (`entries:<code>`)
 */
async function refusalsCounted(): Promise<Map<string, number>> {
  const counted = new Map<string, number>();
  for (const code of CODES) counted.set(code, await httpErrors(code));
  for (const [code, outcome] of Object.entries(REFUSED_BATCH)) counted.set(`entries:${code}`, await entries(outcome));
  return counted;
}

/** names a caller of the gateway chooses: any text, Object.prototype's members, mixed case */
const callerName = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom(...PROTO_NAMES));
const callerText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.constantFrom('Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl', '\u0000', '[REDACTED]'),
);
const headerValue = fc.oneof(callerText, fc.array(callerText, { maxLength: 3 }));

/** an entry as Kong logs a call: the caller's side is anything, Kong's own fields are well formed */
const callEntry = fc.record({
  request: fc.record({
    method: fc.constantFrom('GET', 'POST', 'DELETE', 'PATCH'),
    uri: fc.oneof(
      fc.string({ minLength: 1, maxLength: 80 }).map((s) => `/${s}`),
      fc.constant(`/${'a'.repeat(9000)}`),
    ),
    size: fc.oneof(fc.nat(), fc.nat().map(String)),
    headers: fc.oneof(
      fc.dictionary(callerName, headerValue, { maxKeys: 6 }),
      fc.constant({ 'user-agent': 'u'.repeat(5000), Host: 'h'.repeat(600) }),
    ),
    querystring: fc.dictionary(callerName, fc.oneof(callerText, fc.boolean(), fc.array(callerText, { maxLength: 2 })), {
      maxKeys: 6,
    }),
  }),
  response: fc.record({ status: fc.integer({ min: 100, max: 599 }), size: fc.nat() }),
  latencies: fc.record({ request: fc.nat({ max: 100_000 }) }),
  started_at: fc.integer({ min: 0, max: NOW }),
  client_ip: fc.oneof(fc.ipV4(), fc.ipV6(), callerText),
  service: fc.record(
    { name: fc.string({ maxLength: 300 }), host: fc.string({ maxLength: 300 }) },
    { requiredKeys: [] },
  ),
  consumer: fc.record({ username: callerText, id: callerText }, { requiredKeys: [] }),
  route: fc.record({ paths: fc.array(fc.string(), { maxLength: 2 }), name: callerText }, { requiredKeys: [] }),
});

/** Kong writes the entry as JSON: own keys, whatever their names (JSON.stringify drops none, `__proto__` included) */
const kongJson = (entries: unknown[]) => JSON.stringify(entries);

describe('Kong http-log receiver under hostile entries (property)', () => {
  it('records every call Kong logs, whatever the caller put in its query, headers or URI', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(callEntry, { minLength: 1, maxLength: 8 }), async (entries) => {
        const before = got.calls.length;
        const proto = protoSnapshot();
        const res = await post(kongJson(entries));
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        expect(res.json).toEqual({ accepted: entries.length, rejected: [] });
        await settle(before + entries.length, got.dlq.length);
        for (const r of got.calls.slice(before)) expect(checkRecord.Check(r)).toBe(true);
        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('accounts for every entry of any body, or refuses it with a catalogue code; never a 5xx', async () => {
    const any = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string(), fc.double().map(String));
    const junkEntry = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      callEntry.map((e) => ({ ...e, started_at: -1 })),
      callEntry.map((e) => ({ ...e, request: { ...e.request, method: 'G T' } })),
      callEntry.map((e) => ({ ...e, response: { status: 'x' } })),
      callEntry.map((e) => ({ ...e, started_at: 8_640_000_000_000_001 })),
      fc.record({ request: fc.record({ method: any, uri: any }), response: fc.record({ status: any }) }),
    );
    const body = fc.oneof(
      fc.array(fc.oneof(callEntry, junkEntry), { maxLength: 10 }).map(kongJson),
      fc.oneof(callEntry, junkEntry).map((e) => JSON.stringify(e)),
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.constantFrom(
        '{"__proto__":{"polluted":true},"request":{}}',
        '[{"constructor":{"prototype":{"polluted":true}}}]',
        `[${'['.repeat(20_000)}${']'.repeat(20_000)}]`,
        `[${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}]`,
        JSON.stringify(Array.from({ length: 51 }, () => ({}))),
        'x'.repeat(257 * 1024),
        '\ufeff[]',
        '[]',
      ),
    );
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', '');
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(body, contentType, fc.boolean(), async (payload, type, signed) => {
        const before = { calls: got.calls.length, dlq: got.dlq.length };
        const refusedBefore = await refusalsCounted();
        const proto = protoSnapshot();
        const res = await post(payload, type, signed ? TOKEN : 'not-the-sensor-token-000000');
        statuses.add(res.status);
        expect(res.status).toBeLessThan(500);
        let count = 1;
        try {
          const parsed = JSON.parse(
            Buffer.from(payload)
              .toString('utf8')
              .replace(/^\ufeff/, ''),
          ) as unknown;
          if (Array.isArray(parsed)) count = parsed.length;
        } catch {
          // not JSON: one item, dead-lettered whole
        }
        if (res.status === 200) {
          const { accepted, rejected } = res.json as { accepted: number; rejected: { code: string }[] };
          for (const r of rejected) expect(['MW_ERR_RECORD_INVALID', 'MW_ERR_RECORD_PARSE']).toContain(r.code);
          await settle(before.calls + accepted, before.dlq + rejected.length);
          expect(accepted + rejected.length).toBe(count);
          for (const r of got.calls.slice(before.calls)) expect(checkRecord.Check(r)).toBe(true);
        } else {
          const code = res.json.code as string;
          expect(CODES.has(code), JSON.stringify(res.json)).toBe(true);
          expect(res.json).toEqual({ code, message: expect.any(String) });
          // every refusal counts once as an HTTP error; a batch the route refuses also counts its entries
          const counted = await refusalsCounted();
          const added = (key: string) => (counted.get(key) ?? 0) - (refusedBefore.get(key) ?? 0);
          expect(added(code), `${code} counted`).toBe(1);
          for (const refused of Object.keys(REFUSED_BATCH))
            expect(added(`entries:${refused}`), `entries of ${code}`).toBe(refused === code ? count : 0);
          await settle(before.calls, before.dlq);
        }
        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { seed: SEED, numRuns: 250 },
    );
    expect([...statuses].sort()).toEqual([200, 400, 401, 413]);
  });

  it("a caller's `__proto__` query parameter costs neither its record nor the batch it is logged in", async () => {
    const entry = (query: string) =>
      `{"request":{"method":"GET","uri":"/orders","querystring":{${query}}},"response":{"status":200},"started_at":${NOW}}`;
    const before = got.calls.length;
    const res = await post(`[${entry('"page":"2"')},${entry('"__proto__":"1","x":"2"')},${entry('')}]`);
    expect(res).toEqual({ status: 200, json: { accepted: 3, rejected: [] } });
    await settle(before + 3, got.dlq.length);
    expect(got.calls[before + 1].params).toEqual(JSON.parse('{"__proto__":"1","x":"2"}'));
    expect(Object.keys(got.calls[before + 1].params ?? {})).toEqual(['__proto__', 'x']);
  });

  it('counts a batch it refuses as a whole (unauthenticated, or past max_batch) once as an HTTP error, and its entries', async () => {
    const batch = JSON.stringify(Array.from({ length: 51 }, () => ({})));
    const before = {
      unauthenticated: await entries('unauthenticated'),
      tooLarge: await entries('batch_too_large'),
      http401: await httpErrors('MW_ERR_UNAUTHENTICATED'),
      http413: await httpErrors('MW_ERR_BATCH_TOO_LARGE'),
    };
    const unauthenticated = await post('[{},{}]', 'application/json', 'not-the-sensor-token-000000');
    expect(unauthenticated).toEqual({
      status: 401,
      json: { code: 'MW_ERR_UNAUTHENTICATED', message: expect.any(String) },
    });
    const tooLarge = await post(batch);
    expect(tooLarge).toEqual({ status: 413, json: { code: 'MW_ERR_BATCH_TOO_LARGE', message: expect.any(String) } });
    expect(await entries('unauthenticated')).toBe(before.unauthenticated + 2);
    expect(await entries('batch_too_large')).toBe(before.tooLarge + 51);
    expect(await httpErrors('MW_ERR_UNAUTHENTICATED')).toBe(before.http401 + 1);
    expect(await httpErrors('MW_ERR_BATCH_TOO_LARGE')).toBe(before.http413 + 1);
  });
});
