import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../../../sensors/common/token-hash.js';
import { capturedBus } from '../../../test/harness/captured-bus.js';
import { metricSum } from '../../../test/harness/metrics.js';
import { TOPICS } from '../../bus/bus.js';
import { MemoryBus } from '../../bus/memory-bus.js';
import type { DeadLetter } from '../../collector/record-ingest.js';
import { createCollectorServer } from '../../collector/collector-server.js';
import { createRecordIngest } from '../../collector/record-ingest.js';
import { SensorAuth } from '../../collector/sensor-auth.js';
import { silentLogger } from '../../core/logger.js';
import type { ApiCallRecord } from '../../core/record.js';
import { decodeProtobufResponse, decodeProtobufStatus, encodeProtobufRequest } from './otlp-protocol.js';
import { otlpTracesPlugin } from './otlp-traces.js';

/**
 * The receiver mounted on the collector as `startReceivers` mounts it (the collector's error handler, its gzip
 * decoding, its ingest over an in-process bus), fed by the OpenTelemetry JS SDK's own OTLP/HTTP exporters, protobuf
 * and JSON: what reaches the bus is what an OpenTelemetry Collector's otlphttp exporter would bring.
 */

const TOKEN = 'otlp-exporter-token-0123456789';
const KEY = 'otlp-e2e-token-hash-key';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYXJvbCJ9.c2lnbmF0dXJl';
const PARENT = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
const T0 = 1_700_000_000_000;

let collector: FastifyInstance;
let url: string;
let got: { calls: ApiCallRecord[]; dlq: DeadLetter[] };
let settle: (calls: number, dlq: number) => Promise<void>;

beforeAll(async () => {
  const captured = await capturedBus();
  ({ got, settle } = captured);
  const ingest = createRecordIngest({ bus: captured.bus, logger: silentLogger });
  collector = createCollectorServer({
    ingest,
    auth: new SensorAuth([{ id: 's1', token: 'collector-sensor-token-0123' }]),
    logger: silentLogger,
    busHealthy: () => true,
  });
  await collector.register(otlpTracesPlugin, {
    ingest,
    key: 'otlp_traces/e2e',
    config: { sensor_id: 'otlp-e2e', tokens: [TOKEN], token_hash_key: KEY, max_spans: 20, body_limit: 64 * 1024 },
  });
  await collector.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(collector.server.address() as AddressInfo).port}/v1/traces`;
});
afterAll(async () => {
  await collector?.close();
});

const spansCounted = (outcome: string, reason: string) =>
  metricSum('meshward_otlp_spans_total', { receiver: 'otlp-e2e', outcome, reason });

/**
 * Spans as an instrumented service records them, exported in one request by `exporter`: two SERVER spans with HTTP
 * attributes (current and older conventions), a CLIENT and an INTERNAL span (no API calls of this service), and an
 * HTTP SERVER span without a path (rejected)
 */
async function exportFromSdk(exporter: SpanExporter): Promise<{ code: number; error?: Error }> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('meshward-e2e');
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, PARENT);
  const server = { kind: SpanKind.SERVER, startTime: T0 };
  tracer
    .startSpan(
      'GET /orders/{id}',
      {
        ...server,
        attributes: {
          'http.request.method': 'GET',
          'url.path': '/orders/42',
          'url.query': 'expand=items&access_token=abc123',
          'http.route': '/orders/{id}',
          'http.response.status_code': 200,
          'server.address': 'shop.example',
          'client.address': '203.0.113.10',
          'http.response.body.size': 1834,
          'http.request.header.authorization': [`Bearer ${JWT}`],
          'enduser.id': 'carol',
        },
      },
      remoteParent,
    )
    .end(T0 + 42);
  tracer
    .startSpan('POST', {
      ...server,
      attributes: {
        'http.method': 'POST',
        'http.target': '/cart/items',
        'http.status_code': 201,
        'net.peer.ip': '198.51.100.7',
        'http.request_content_length': 120,
      },
    })
    .end(T0 + 5);
  tracer.startSpan('GET', { kind: SpanKind.CLIENT, startTime: T0, attributes: { 'http.request.method': 'GET' } }).end();
  tracer.startSpan('render', { kind: SpanKind.INTERNAL, startTime: T0 }).end();
  tracer.startSpan('GET', { ...server, attributes: { 'http.request.method': 'GET' } }).end(T0 + 1);
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  expect(spans).toHaveLength(5);
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  await provider.shutdown();
  return result;
}

async function expectSdkExportRecorded(exporter: SpanExporter) {
  const before = { calls: got.calls.length, dlq: got.dlq.length };
  const counted = {
    accepted: await spansCounted('accepted', ''),
    skipped: await spansCounted('skipped', 'not_server'),
    rejected: await spansCounted('rejected', 'no_path'),
  };
  const result = await exportFromSdk(exporter);
  expect(result.error).toBeUndefined();
  expect(result.code).toBe(0); // ExportResultCode.SUCCESS: a partial success is a success, nothing retried
  await settle(before.calls + 2, before.dlq + 1);
  const [orders, cart] = got.calls.slice(before.calls);
  expect(orders).toMatchObject({
    sensor: { kind: 'otlp', id: 'otlp-e2e' },
    ts: T0,
    durationMs: 42,
    service: 'checkout',
    method: 'GET',
    host: 'shop.example',
    path: '/orders/42',
    route: '/orders/{id}',
    status: 200,
    reqBytes: 0,
    respBytes: 1834,
    source: { ip: '203.0.113.10' },
    user: { sub: 'carol', tokenHash: tokenHash(KEY, JWT), authOutcome: 'success' },
    trace: { traceId: PARENT.traceId, parentSpanId: PARENT.spanId, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) },
    params: { expand: 'items', access_token: '[redacted]' },
  });
  expect(cart).toMatchObject({
    service: 'checkout',
    method: 'POST',
    path: '/cart/items',
    status: 201,
    reqBytes: 120,
    durationMs: 5,
    source: { ip: '198.51.100.7' },
  });
  expect(got.dlq.slice(before.dlq)).toEqual([
    expect.objectContaining({ code: 'MW_ERR_RECORD_INVALID', reason: expect.stringMatching(/^no_path: /) }),
  ]);
  const seen = JSON.stringify([got.calls.slice(before.calls), got.dlq.slice(before.dlq)]);
  for (const secret of ['c2lnbmF0dXJl', JWT, 'abc123']) expect(seen).not.toContain(secret);
  expect(await spansCounted('accepted', '')).toBe(counted.accepted + 2);
  expect(await spansCounted('skipped', 'not_server')).toBe(counted.skipped + 2);
  expect(await spansCounted('rejected', 'no_path')).toBe(counted.rejected + 1);
}

async function post(body: Uint8Array | string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...headers }, body });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    retryAfter: res.headers.get('retry-after'),
    body: new Uint8Array(await res.arrayBuffer()),
  };
}
const json = (body: Uint8Array) => JSON.parse(Buffer.from(body).toString('utf8'));

/**
 * the field numbers and wire types of a message's top-level fields, read off the wire without a schema: a
 * google.rpc.Status is code (1, varint), message (2, bytes) and details (3, bytes) in googleapis' status.proto
 */
function wireFields(body: Uint8Array): [number, number][] {
  const reader = protobuf.Reader.create(body);
  const fields: [number, number][] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    fields.push([tag >>> 3, tag & 7]);
    reader.skipType(tag & 7);
  }
  return fields;
}

const PROTO = 'application/x-protobuf';
const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * The google.rpc.Status an OTLP/HTTP client reads in a refusal of `code`: its google.rpc.Code, meshward's code
 * leading the message and as the reason of an ErrorInfo, and for a 400 a BadRequest describing the bad data
 */
const expectedStatus = (grpcCode: number, code: string, badRequest: boolean) => ({
  code: grpcCode,
  message: expect.stringMatching(new RegExp(`^${code}: `)),
  details: [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'meshward' },
    ...(badRequest
      ? [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ description: expect.stringMatching(new RegExp(`^${code}: `)) }],
          },
        ]
      : []),
  ],
});

/** an OTLP/JSON request of one HTTP SERVER span per path ('' = a span without a path) */
const jsonRequest = (...paths: string[]) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'inventory' } }] },
      scopeSpans: [
        {
          spans: paths.map((path, i) => ({
            traceId: PARENT.traceId,
            spanId: `00000000000000${String(i + 1).padStart(2, '0')}`,
            name: 'GET',
            kind: 2,
            startTimeUnixNano: `${T0}000000`,
            endTimeUnixNano: `${T0 + 3}000000`,
            attributes: [
              { key: 'http.request.method', value: { stringValue: 'GET' } },
              { key: 'http.response.status_code', value: { intValue: '200' } },
              ...(path ? [{ key: 'url.path', value: { stringValue: path } }] : []),
            ],
          })),
        },
      ],
    },
  ],
});

/** the same request as binary protobuf (ids as bytes) */
const protoRequest = (...paths: string[]) =>
  encodeProtobufRequest({
    resourceSpans: jsonRequest(...paths).resourceSpans.map((rs) => ({
      ...rs,
      scopeSpans: rs.scopeSpans.map((ss) => ({
        spans: ss.spans.map((s) => ({
          ...s,
          traceId: Buffer.from(s.traceId, 'hex'),
          spanId: Buffer.from(s.spanId, 'hex'),
        })),
      })),
    })),
  });

describe('OTLP/HTTP trace receiver on the collector', () => {
  it('records the SERVER spans the OpenTelemetry SDK exports as protobuf', async () => {
    await expectSdkExportRecorded(new OtlpProtoExporter({ url, headers: { Authorization: `Bearer ${TOKEN}` } }));
  });

  it('records the SERVER spans the OpenTelemetry SDK exports as OTLP/JSON, gzip-compressed', async () => {
    type JsonConfig = NonNullable<ConstructorParameters<typeof OtlpJsonExporter>[0]>;
    const gzip = 'gzip' as unknown as NonNullable<JsonConfig['compression']>;
    await expectSdkExportRecorded(
      new OtlpJsonExporter({ url, headers: { Authorization: `Bearer ${TOKEN}` }, compression: gzip }),
    );
  });

  it('answers in the encoding of the request, with partial_success naming the rejected spans', async () => {
    const before = { calls: got.calls.length, dlq: got.dlq.length };
    const asJson = await post(JSON.stringify(jsonRequest('/stock/1', '')), { 'content-type': 'application/json' });
    expect([asJson.status, asJson.type]).toEqual([200, 'application/json; charset=utf-8']);
    expect(json(asJson.body)).toEqual({
      partialSuccess: {
        rejectedSpans: '1',
        errorMessage: expect.stringMatching(/^1 of 2 spans rejected \(1 no_path\)/),
      },
    });
    const all = await post(JSON.stringify(jsonRequest('/stock/2')), { 'content-type': 'application/json' });
    expect(json(all.body)).toEqual({});

    const proto = protoRequest('/stock/3', '');
    const asProto = await post(gzipSync(proto), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    expect([asProto.status, asProto.type]).toEqual([200, 'application/x-protobuf']);
    expect(decodeProtobufResponse(asProto.body)).toEqual({
      partialSuccess: { rejectedSpans: 1, errorMessage: expect.stringContaining('no_path') },
    });
    await settle(before.calls + 3, before.dlq + 2);
    expect(got.calls.slice(before.calls).map((r) => [r.service, r.path, r.trace?.traceId])).toEqual([
      ['inventory', '/stock/1', PARENT.traceId],
      ['inventory', '/stock/2', PARENT.traceId],
      ['inventory', '/stock/3', PARENT.traceId],
    ]);
    // an empty protobuf request is a valid request of no spans
    const empty = await post(new Uint8Array(0), { 'content-type': 'application/x-protobuf' });
    expect([empty.status, empty.body.length]).toEqual([200, 0]);
  });

  const many = Array.from({ length: 21 }, (_, i) => `/s/${i}`);
  it.each([
    ['no token', { authorization: '', 'content-type': 'application/json' }, '{}', 401, 'MW_ERR_UNAUTHENTICATED', 16],
    [
      'no token, to a protobuf request',
      { authorization: '', 'content-type': PROTO },
      '',
      401,
      'MW_ERR_UNAUTHENTICATED',
      16,
    ],
    [
      'a wrong token',
      { authorization: 'Bearer not-the-exporter-token-000', 'content-type': 'application/json' },
      '{}',
      401,
      'MW_ERR_UNAUTHENTICATED',
      16,
    ],
    ['another content type', { 'content-type': 'text/plain' }, '{}', 415, 'MW_ERR_UNSUPPORTED_MEDIA_TYPE', 3],
    ['no content type', {}, '{}', 415, 'MW_ERR_UNSUPPORTED_MEDIA_TYPE', 3],
    ['a body that is not protobuf', { 'content-type': PROTO }, '\xff\xff\xff', 400, 'MW_ERR_BAD_REQUEST', 3],
    [
      'a gzip body that does not decompress',
      { 'content-type': PROTO, 'content-encoding': 'gzip' },
      'not gzip',
      400,
      'MW_ERR_BAD_REQUEST',
      3,
    ],
    [
      'a body that is not JSON',
      { 'content-type': 'application/json' },
      '{"resourceSpans": [',
      400,
      'MW_ERR_BAD_REQUEST',
      3,
    ],
    ['a JSON array', { 'content-type': 'application/json' }, '[]', 400, 'MW_ERR_BAD_REQUEST', 3],
    [
      'an unknown encoding',
      { 'content-type': 'application/json', 'content-encoding': 'br' },
      '{}',
      415,
      'MW_ERR_UNSUPPORTED_ENCODING',
      3,
    ],
    [
      'an unknown encoding, protobuf',
      { 'content-type': PROTO, 'content-encoding': 'br' },
      '',
      415,
      'MW_ERR_UNSUPPORTED_ENCODING',
      3,
    ],
    [
      'a body past the limit',
      { 'content-type': 'application/json' },
      ' '.repeat(65 * 1024),
      413,
      'MW_ERR_BODY_TOO_LARGE',
      3,
    ],
    [
      'a protobuf body past the limit',
      { 'content-type': PROTO },
      new Uint8Array(65 * 1024),
      413,
      'MW_ERR_BODY_TOO_LARGE',
      3,
    ],
    [
      'more spans than max_spans',
      { 'content-type': 'application/json' },
      JSON.stringify(jsonRequest(...many)),
      413,
      'MW_ERR_BATCH_TOO_LARGE',
      3,
    ],
    [
      'more spans than max_spans, protobuf',
      { 'content-type': PROTO },
      protoRequest(...many),
      413,
      'MW_ERR_BATCH_TOO_LARGE',
      3,
    ],
  ])(
    'refuses %s with a google.rpc.Status in the request encoding, naming the catalogue code, counted',
    async (_what, headers, body, status, code, grpcCode) => {
      const counted = await metricSum('meshward_http_errors_total', { server: 'collector', code });
      const calls = got.calls.length;
      const sent = headers as Record<string, string>;
      const res = await post(body, sent);
      expect([res.status, res.retryAfter]).toEqual([status, null]);
      const binary = sent['content-type'] === PROTO;
      expect(res.type).toBe(binary ? PROTO : JSON_UTF8);
      const answer = binary ? decodeProtobufStatus(res.body) : json(res.body);
      if (binary) expect(wireFields(res.body)).toEqual([[1, 0], [2, 2], ...(status === 400 ? [[3, 2]] : []), [3, 2]]);
      expect(answer).toEqual(expectedStatus(grpcCode, code, status === 400));
      expect(await metricSum('meshward_http_errors_total', { server: 'collector', code })).toBe(counted + 1);
      expect(got.calls.length).toBe(calls);
    },
  );

  it('the SDK exporter reports a refusal as a failure naming the code, and does not retry it', async () => {
    const code = 'MW_ERR_UNAUTHENTICATED';
    const counted = await metricSum('meshward_http_errors_total', { server: 'collector', code });
    const exporter = new OtlpProtoExporter({ url, headers: { Authorization: 'Bearer not-the-exporter-token-000' } });
    const result = await exportFromSdk(exporter);
    expect(result.code).toBe(1); // ExportResultCode.FAILED
    // the exporter keeps the body it got as text: the Status's message and ErrorInfo reason are strings in it
    expect(result.error).toMatchObject({ code: 401, data: expect.stringContaining(`${code}: `) });
    expect(await metricSum('meshward_http_errors_total', { server: 'collector', code })).toBe(counted + 1);
  });

  it('never quotes a body it cannot decode (it may hold credentials)', async () => {
    const res = await post(`{"secret": "Bearer ${JWT}"`, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(Buffer.from(res.body).toString('utf8')).not.toContain('eyJ');
  });
});

describe('OTLP/HTTP trace receiver when the pipeline cannot take the spans', () => {
  it('answers 429 and 503 with Retry-After and a google.rpc.Status in the request encoding', async () => {
    // a backlog of one message: two spans saturate it
    const bus = new MemoryBus({ partitions: 1, maxBacklogPerPartition: 1 });
    await bus.subscribe({ groupId: 'correlator', topics: [TOPICS.calls], onBatch: async () => {} });
    const ingest = createRecordIngest({ bus, logger: silentLogger });
    const app = createCollectorServer({
      ingest,
      auth: new SensorAuth([{ id: 's1', token: 'collector-sensor-token-0123' }]),
      logger: silentLogger,
      busHealthy: () => bus.healthy(),
    });
    await app.register(otlpTracesPlugin, {
      ingest,
      key: 'otlp_traces/full',
      config: { sensor_id: 'otlp-full', tokens: [TOKEN] },
    });
    const send = (payload: Uint8Array | string, type: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/traces',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
        payload: typeof payload === 'string' ? payload : Buffer.from(payload),
      });
    const unavailable = () =>
      metricSum('meshward_otlp_requests_total', { receiver: 'otlp-full', outcome: 'unavailable' });
    const before = await unavailable();

    const full = await send(protoRequest('/a', '/b'), PROTO);
    expect([full.statusCode, full.headers['content-type'], full.headers['retry-after']]).toEqual([429, PROTO, '2']);
    expect(decodeProtobufStatus(full.rawPayload)).toEqual(expectedStatus(8, 'MW_ERR_BUS_SATURATED', false));
    const fullJson = await send(JSON.stringify(jsonRequest('/a', '/b')), 'application/json');
    expect([fullJson.statusCode, fullJson.headers['content-type'], fullJson.headers['retry-after']]).toEqual([
      429,
      JSON_UTF8,
      '2',
    ]);
    expect(fullJson.json()).toEqual(expectedStatus(8, 'MW_ERR_BUS_SATURATED', false));

    await bus.close();
    const down = await send(JSON.stringify(jsonRequest('/c')), 'application/json');
    expect([down.statusCode, down.headers['content-type'], down.headers['retry-after']]).toEqual([503, JSON_UTF8, '5']);
    expect(down.json()).toEqual(expectedStatus(14, 'MW_ERR_BUS_UNAVAILABLE', false));
    const downProto = await send(protoRequest('/c'), PROTO);
    expect([downProto.statusCode, downProto.headers['content-type'], downProto.headers['retry-after']]).toEqual([
      503,
      PROTO,
      '5',
    ]);
    expect(decodeProtobufStatus(downProto.rawPayload)).toEqual(expectedStatus(14, 'MW_ERR_BUS_UNAVAILABLE', false));
    expect(await unavailable()).toBe(before + 4);

    // the collector's own route keeps its catalogue JSON, with the same Retry-After
    const records = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { authorization: 'Bearer collector-sensor-token-0123', 'content-type': 'application/json' },
      payload: '[{}]',
    });
    expect([records.statusCode, records.headers['content-type'], records.headers['retry-after']]).toEqual([
      503,
      JSON_UTF8,
      '5',
    ]);
    expect(records.json()).toEqual({ code: 'MW_ERR_BUS_UNAVAILABLE', message: expect.any(String) });
    await app.close();
  });
});
