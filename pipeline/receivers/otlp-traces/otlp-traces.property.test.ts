import type { AddressInfo } from 'node:net';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedBus } from '../../../test/harness/captured-bus.js';
import { metricSum, protoSnapshot } from '../../../test/harness/metrics.js';
import { createCollectorServer } from '../../collector/collector-server.js';
import { type DeadLetter, createRecordIngest } from '../../collector/record-ingest.js';
import { SensorAuth } from '../../collector/sensor-auth.js';
import { silentLogger } from '../../core/logger.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../core/record.js';
import { decodeProtobufResponse, decodeProtobufStatus, encodeProtobufRequest } from './otlp-protocol.js';
import { otlpTracesPlugin } from './otlp-traces.js';

/**
 * Hostile bodies over a real socket into the collector's own ingest: whatever the bytes, the receiver answers 200
 * with an ExportTraceServiceResponse (every record it made schema-valid, every span accounted for) or refuses the
 * body with a catalogue code; never a 5xx, never a polluted prototype.
 */

const TOKEN = 'otlp-prop-token-0123456789';
const SEED = 20_261_202;
const RECEIVER = 'otlp-prop';
const checkRecord = TypeCompiler.Compile(ApiCallRecordSchema);

let app: FastifyInstance;
let url: string;
let got: { calls: ApiCallRecord[]; dlq: DeadLetter[] };
let settle: (calls: number, dlq: number) => Promise<void>;

beforeAll(async () => {
  const captured = await capturedBus({ maxBacklogPerPartition: 1_000_000 });
  ({ got, settle } = captured);
  const ingest = createRecordIngest({ bus: captured.bus, logger: silentLogger });
  app = createCollectorServer({
    ingest,
    auth: new SensorAuth([]),
    logger: silentLogger,
    busHealthy: () => true,
  });
  await app.register(otlpTracesPlugin, {
    ingest,
    config: {
      sensor_id: RECEIVER,
      tokens: [TOKEN],
      token_hash_key: 'otlp-prop-token-hash-key',
      body_limit: 128 * 1024,
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/traces`;
});
afterAll(async () => {
  await app?.close();
});

async function post(body: Uint8Array | string, contentType: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType },
    body,
  });
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
}

const skippedCount = async () =>
  (await metricSum('meshward_otlp_spans_total', { receiver: RECEIVER, outcome: 'skipped', reason: 'not_server' })) +
  (await metricSum('meshward_otlp_spans_total', { receiver: RECEIVER, outcome: 'skipped', reason: 'not_http' }));

const ATTRIBUTE_KEYS = [
  'http.request.method',
  'http.method',
  'http.request.method_original',
  'http.response.status_code',
  'http.status_code',
  'url.path',
  'url.query',
  'url.full',
  'http.target',
  'http.url',
  'http.route',
  'server.address',
  'client.address',
  'peer.address',
  'user_agent.original',
  'http.request.body.size',
  'response_size',
  'enduser.id',
  'http.request.header.authorization',
  'istio.canonical_service',
  '__proto__',
  'constructor',
];

/** any AnyValue, well typed or not (OTLP/JSON bodies are the sender's) */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ stringValue: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('GET', '/a?b=c', '200', '_OTHER')) }),
  fc.record({ intValue: fc.oneof(fc.bigInt().map(String), fc.integer(), fc.string({ maxLength: 8 })) }),
  fc.record({ doubleValue: fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity')) }),
  fc.record({ boolValue: fc.boolean() }),
  fc.record({ arrayValue: fc.record({ values: fc.array(fc.record({ stringValue: fc.string() }), { maxLength: 3 }) }) }),
  fc.record({ arrayValue: fc.jsonValue({ maxDepth: 2 }) }),
  fc.jsonValue({ maxDepth: 2 }),
);
const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
const span = fc.record(
  {
    traceId: fc.oneof(hex(16), fc.string({ maxLength: 40 })),
    spanId: fc.oneof(hex(8), fc.string({ maxLength: 20 })),
    parentSpanId: fc.oneof(hex(8), fc.constant('')),
    name: fc.string({ maxLength: 30 }),
    kind: fc.oneof(fc.constant(2), fc.integer({ min: -1, max: 6 }), fc.string({ maxLength: 20 })),
    startTimeUnixNano: fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
      fc.integer(),
      fc.string({ maxLength: 25 }),
    ),
    endTimeUnixNano: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), fc.string({ maxLength: 25 })),
    attributes: fc.oneof(
      fc.array(fc.record({ key: fc.oneof(fc.constantFrom(...ATTRIBUTE_KEYS), fc.string()), value: anyValue }), {
        maxLength: 12,
      }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  },
  { requiredKeys: ['kind', 'attributes'] },
);
/** an HTTP SERVER span as an SDK writes it, the caller's parts (path, query, user agent, header) anything */
const httpSpan = fc
  .record({
    traceId: hex(16),
    spanId: hex(8),
    path: fc.string({ maxLength: 80 }).map((p) => `/${p}`),
    query: fc.string({ maxLength: 80 }),
    userAgent: fc.string({ maxLength: 80 }),
    auth: fc.string({ maxLength: 80 }),
    status: fc.integer({ min: 100, max: 599 }),
  })
  .map((s) => ({
    traceId: s.traceId,
    spanId: s.spanId,
    kind: 2,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000004000000',
    attributes: [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'url.path', value: { stringValue: s.path } },
      { key: 'url.query', value: { stringValue: s.query } },
      { key: 'user_agent.original', value: { stringValue: s.userAgent } },
      { key: 'http.request.header.authorization', value: { arrayValue: { values: [{ stringValue: s.auth }] } } },
      { key: 'http.response.status_code', value: { intValue: String(s.status) } },
    ],
  }));
const otlpJson = fc.record({
  resourceSpans: fc.array(
    fc.record({
      resource: fc.record({
        attributes: fc.array(
          fc.record({ key: fc.constantFrom('service.name', 'istio.canonical_service'), value: anyValue }),
          {
            maxLength: 2,
          },
        ),
      }),
      scopeSpans: fc.array(
        fc.record({ spans: fc.array(fc.oneof(httpSpan, span, fc.jsonValue({ maxDepth: 1 })), { maxLength: 6 }) }),
        {
          maxLength: 2,
        },
      ),
    }),
    { maxLength: 2 },
  ),
});

const spanCount = (body: { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }) =>
  body.resourceSpans.reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0);

describe('OTLP/HTTP trace receiver under hostile bodies (property)', () => {
  it('accounts for every span of any OTLP/JSON request: a schema-valid record, a rejected span or a skipped one', async () => {
    const seen = { calls: got.calls.length, dlq: got.dlq.length, skipped: await skippedCount() };
    await fc.assert(
      fc.asyncProperty(otlpJson, async (request) => {
        const before = { calls: got.calls.length, dlq: got.dlq.length, skipped: await skippedCount() };
        const proto = protoSnapshot();
        const res = await post(JSON.stringify(request), 'application/json');
        expect(res.status).toBe(200);
        const answer = JSON.parse(Buffer.from(res.body).toString('utf8'));
        const rejected = Number(answer.partialSuccess?.rejectedSpans ?? 0);
        const skipped = (await skippedCount()) - before.skipped;
        const accepted = spanCount(request) - rejected - skipped;
        await settle(before.calls + accepted, before.dlq + rejected);
        for (const r of got.calls.slice(before.calls)) expect(checkRecord.Check(r)).toBe(true);
        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { seed: SEED, numRuns: 150 },
    );
    // the requests made records, rejected spans and skipped ones
    expect(got.calls.length).toBeGreaterThan(seen.calls);
    expect(got.dlq.length).toBeGreaterThan(seen.dlq);
    expect(await skippedCount()).toBeGreaterThan(seen.skipped);
  });

  it('answers any body 200 or 400 (413 past the limit), never a 5xx', async () => {
    const valid = encodeProtobufRequest({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: Buffer.alloc(16, 1),
                  spanId: Buffer.alloc(8, 2),
                  kind: 2,
                  startTimeUnixNano: '1700000000000000000',
                  attributes: [
                    { key: 'http.request.method', value: { stringValue: 'GET' } },
                    { key: 'url.path', value: { stringValue: '/x' } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    /** the valid request with bytes overwritten or cut: what a broken proxy or a truncated body brings */
    const mangled = fc
      .tuple(
        fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat({ max: valid.length }),
      )
      .map(([flips, cut]) => {
        const b = Uint8Array.from(valid);
        for (const [i, v] of flips) b[i] = v;
        return b.subarray(0, cut);
      });
    const body = fc.oneof(
      fc.tuple(fc.uint8Array({ maxLength: 400 }), fc.constant('application/x-protobuf')),
      fc.tuple(mangled, fc.constant('application/x-protobuf')),
      fc.tuple(
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
        fc.constant('application/json'),
      ),
      fc.tuple(fc.string({ maxLength: 200 }), fc.constantFrom('application/json', 'application/json; charset=utf-8')),
      fc.tuple(
        fc.constantFrom(
          `{"resourceSpans":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
          '{"__proto__":{"polluted":true},"resourceSpans":[{"__proto__":{"polluted":true}}]}',
          '{"resourceSpans":[{"scopeSpans":[{"spans":[null,1,"x",{"kind":2,"attributes":{"length":5}}]}]}]}',
          'x'.repeat(129 * 1024),
        ),
        fc.constant('application/json'),
      ),
    );
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(body, async ([payload, type]) => {
        const proto = protoSnapshot();
        const res = await post(payload, type);
        statuses.add(res.status);
        expect([200, 400, 413]).toContain(res.status);
        if (res.status === 200 && type === 'application/x-protobuf')
          expect(() => decodeProtobufResponse(res.body)).not.toThrow();
        if (res.status !== 200) {
          // a google.rpc.Status in the request's encoding, naming the catalogue code
          const refusal =
            type === 'application/x-protobuf'
              ? decodeProtobufStatus(res.body)
              : JSON.parse(Buffer.from(res.body).toString('utf8'));
          expect(refusal).toEqual({
            code: 3,
            message: expect.stringMatching(/^MW_ERR_[A-Z_]+: /),
            details: expect.arrayContaining([expect.objectContaining({ reason: expect.stringMatching(/^MW_ERR_/) })]),
          });
        }
        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect([...statuses].sort()).toEqual([200, 400, 413]);
    for (const r of got.calls) expect(checkRecord.Check(r)).toBe(true);
  });
});
