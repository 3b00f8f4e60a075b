import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../../sensors/common/redact.js';
import { tokenHash, tokenHasher } from '../../../sensors/common/token-hash.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../core/record.js';
import { type OtlpKeyValue, type OtlpSpan, decodeJsonRequest } from './otlp-protocol.js';
import { type SpanMapContext, attributesOf, mapSpan, resourceService } from './span-mapper.js';

const KEY = 'otlp-test-token-hash-key';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const checkRecord = TypeCompiler.Compile(ApiCallRecordSchema);

const ctx = (over: Partial<SpanMapContext> = {}): SpanMapContext => ({
  sensorId: 'otlp-mesh',
  serviceFallback: 'otlp',
  hash: tokenHasher(KEY),
  redactor: createRedactor(),
  queryParams: ['*'],
  ...over,
});

/** OTLP/JSON attributes from a plain object: strings, integers (int64 as strings), doubles, booleans, string arrays */
function kv(attributes: Record<string, string | number | boolean | string[]>): OtlpKeyValue[] {
  return Object.entries(attributes).map(([key, v]) => ({
    key,
    value: Array.isArray(v)
      ? { arrayValue: { values: v.map((s) => ({ stringValue: s })) } }
      : typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v },
  }));
}

const T0 = 1_700_000_000_123_456_789n;
const span = (attributes: Record<string, string | number | boolean | string[]>, over: Partial<OtlpSpan> = {}) => ({
  traceId: '4BF92F3577B34DA6A3CE929D0E0E4736',
  spanId: '00f067aa0ba902b7',
  parentSpanId: '',
  name: 'GET /orders/{id}',
  kind: 2,
  startTimeUnixNano: String(T0),
  endTimeUnixNano: String(T0 + 37_250_000n),
  attributes: kv(attributes),
  ...over,
});

function record(s: OtlpSpan, service?: string, c = ctx()): ApiCallRecord {
  const r = mapSpan(s, service, c);
  if (r.outcome !== 'record') throw new Error(`not a record: ${JSON.stringify(r)}`);
  expect(checkRecord.Check(r.record), JSON.stringify([...checkRecord.Errors(r.record)])).toBe(true);
  return r.record;
}

describe('OTLP span → ApiCallRecord', () => {
  it('reads the current HTTP semantic conventions', () => {
    const r = record(
      span({
        'http.request.method': 'GET',
        'url.path': '/orders/42',
        'url.query': 'expand=items&access_token=abc123',
        'url.scheme': 'https',
        'http.route': '/orders/{id}',
        'http.response.status_code': 200,
        'server.address': 'api.example.com',
        'client.address': '203.0.113.10',
        'network.peer.address': '10.0.0.5',
        'user_agent.original': 'curl/8.5.0',
        'http.request.body.size': 512,
        'http.response.body.size': 1834,
        'enduser.id': 'alice',
      }),
      'orders',
    );
    const { id, ...rest } = r;
    expect(id).toMatch(/^[0-9A-Z]{26}$/);
    expect(rest).toEqual({
      v: 1,
      ts: 1_700_000_000_123.456,
      durationMs: 37.25,
      sensor: { kind: 'otlp', id: 'otlp-mesh' },
      service: 'orders',
      method: 'GET',
      host: 'api.example.com',
      path: '/orders/42',
      route: '/orders/{id}',
      status: 200,
      reqBytes: 512,
      respBytes: 1834,
      source: { ip: '203.0.113.10' },
      user: { authOutcome: 'success', sub: 'alice' },
      trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
      params: { expand: 'items', access_token: '[redacted]' },
      tags: { 'header.user-agent': 'curl/8.5.0' },
    });
  });

  it('reads the older names still emitted by older SDKs (http.method, http.target, net.*, content lengths)', () => {
    const r = record(
      span({
        'http.method': 'post',
        'http.target': '/v1/pay?card=4111&session=s1#frag',
        'http.status_code': 201,
        'http.host': 'pay.internal:8443',
        'net.sock.peer.addr': '198.51.100.7',
        'http.user_agent': 'okhttp/4.12',
        'http.request_content_length': 1203,
        'http.response_content_length': 310.4,
        'user.id': 'bob',
      }),
      undefined,
      ctx({ queryParams: ['card'] }),
    );
    expect(r).toMatchObject({
      method: 'POST',
      path: '/v1/pay',
      status: 201,
      host: 'pay.internal:8443',
      source: { ip: '198.51.100.7' },
      reqBytes: 1203,
      respBytes: 310,
      service: 'otlp',
      user: { sub: 'bob', authOutcome: 'success' },
      params: { card: '4111' },
      tags: { 'header.user-agent': 'okhttp/4.12' },
    });
    expect(r.route).toBeUndefined();
    expect(record(span({ 'http.method': 'GET', 'http.target': '/x', 'net.peer.ip': '192.0.2.1' })).source).toEqual({
      ip: '192.0.2.1',
    });
  });

  it("reads an Istio sidecar's Envoy span: http.url, string tags, peer.address, request_size, the canonical service", () => {
    const resource = attributesOf(kv({ 'service.name': 'reviews.bookinfo', 'istio.canonical_service': 'reviews' }));
    expect(resourceService(resource)).toBe('reviews');
    const envoy = span({
      'http.url': 'http://reviews.bookinfo.svc.cluster.local:9080/reviews/0?limit=5&api_key=k-123',
      'http.method': 'GET',
      'http.protocol': 'HTTP/1.1',
      'http.status_code': '503',
      upstream_cluster: 'inbound|9080||',
      'peer.address': '10.44.0.17',
      user_agent: 'Envoy/HC',
      request_size: '0',
      response_size: '95',
      response_flags: 'UF',
      component: 'proxy',
      'istio.canonical_service': 'reviews',
      'istio.namespace': 'bookinfo',
      'guid:x-request-id': '4c2a1f0e-1111-2222-3333-444455556666',
    });
    const r = record(envoy, resourceService(resource));
    expect(r).toMatchObject({
      service: 'reviews',
      method: 'GET',
      host: 'reviews.bookinfo.svc.cluster.local:9080',
      path: '/reviews/0',
      status: 503,
      reqBytes: 0,
      respBytes: 95,
      source: { ip: '10.44.0.17' },
      params: { limit: '5', api_key: '[redacted]' },
      tags: { 'header.user-agent': 'Envoy/HC' },
    });
    expect(JSON.stringify(r)).not.toContain('k-123');
    // the span's own istio.canonical_service names the service when the resource has none
    expect(record(envoy, 'fallback-from-resource').service).toBe('reviews');
    expect(record(span({ 'http.method': 'GET', 'url.full': 'https://h.example/a/b' })).path).toBe('/a/b');
  });

  it("maps an Istio sidecar's export as data (testdata/istio-sidecar.*): Envoy's inbound span, its outbound span skipped, the app's span", () => {
    const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'testdata', name));
    const request = decodeJsonRequest(fixture('istio-sidecar.otlp.json'));
    const [rs] = request.resourceSpans ?? [];
    const service = resourceService(attributesOf(rs.resource?.attributes));
    const got = (rs.scopeSpans?.[0].spans ?? []).map((s) => {
      const r = mapSpan(s, service, ctx());
      if (r.outcome === 'skipped') return { skipped: r.reason };
      if (r.outcome === 'rejected') return { rejected: r.reason };
      expect(checkRecord.Check(r.record)).toBe(true);
      const { id, ...rest } = r.record;
      return rest;
    });
    const want = JSON.parse(
      fixture('istio-sidecar.expected.json')
        .toString('utf8')
        .replace('TOKEN_HASH', tokenHash(KEY, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkYXZlIn0.c2lnbmF0dXJl')),
    );
    expect(got).toEqual(want);
    expect(JSON.stringify(got)).not.toContain('k-0123456789');
  });

  it('skips what is no API call: spans of other kinds, server spans without an HTTP method', () => {
    const http = { 'http.request.method': 'GET', 'url.path': '/x' };
    for (const kind of [0, 1, 3, 4, 5, 'SPAN_KIND_CLIENT', undefined])
      expect(mapSpan(span(http, { kind }), undefined, ctx())).toEqual({ outcome: 'skipped', reason: 'not_server' });
    expect(mapSpan(span({ 'rpc.system': 'grpc', 'rpc.method': 'Get' }), undefined, ctx())).toEqual({
      outcome: 'skipped',
      reason: 'not_http',
    });
    expect(mapSpan(span(http, { kind: 'SPAN_KIND_SERVER' }), undefined, ctx()).outcome).toBe('record');
  });

  it('rejects an HTTP server span it cannot make a record of, saying why', () => {
    const reject = (s: OtlpSpan) => {
      const r = mapSpan(s, undefined, ctx());
      return r.outcome === 'rejected' ? r.reason : r.outcome;
    };
    expect(reject(span({ 'http.request.method': 'GET' }))).toBe('no_path');
    expect(reject(span({ 'http.request.method': 'GET', 'url.path': '/' }, { startTimeUnixNano: '0' }))).toBe(
      'bad_time',
    );
    expect(reject(span({ 'http.request.method': 'GET', 'url.path': '/' }, { startTimeUnixNano: 'soon' }))).toBe(
      'bad_time',
    );
    expect(reject(span({ 'http.request.method': 'G T', 'url.path': '/' }))).toBe('bad_method');
    expect(reject(span({ 'http.request.method': 'GET', 'url.path': '/', 'http.response.status_code': 1000 }))).toBe(
      'bad_status',
    );
    // _OTHER: the method the client sent, as http.request.method_original carries it
    expect(
      record(span({ 'http.request.method': '_OTHER', 'http.request.method_original': 'PURGE', 'url.path': '/' }))
        .method,
    ).toBe('PURGE');
  });

  it('never copies a credential attribute: the Authorization header becomes the keyed token hash, or nothing', () => {
    const withAuth = span({
      'http.request.method': 'GET',
      'url.path': '/me',
      'http.response.status_code': 401,
      'http.request.header.authorization': [`Bearer ${JWT}`],
      'http.request.header.cookie': ['session=abcdef0123456789abcdef'],
      'http.request.header.x-api-key': ['k-0123456789abcdef'],
    });
    const hashed = record(withAuth);
    expect(hashed.user).toEqual({ authOutcome: 'failure', tokenHash: tokenHash(KEY, JWT) });
    // accepted, the credential counts as a success though no user is named (as the access-log receiver reads it)
    const accepted = { ...withAuth, attributes: [...(withAuth.attributes ?? [])] };
    accepted.attributes = accepted.attributes.map((kv) =>
      kv.key === 'http.response.status_code' ? { key: kv.key, value: { intValue: 200 } } : kv,
    );
    expect(record(accepted).user).toEqual({ authOutcome: 'success', tokenHash: tokenHash(KEY, JWT) });
    const dropped = record(withAuth, undefined, ctx({ hash: undefined }));
    expect(dropped.user).toBeUndefined();
    for (const r of [hashed, dropped]) {
      const text = JSON.stringify(r);
      for (const secret of ['c2lnbmF0dXJl', 'eyJhbGci', 'abcdef0123456789', 'k-0123456789'])
        expect(text).not.toContain(secret);
    }
  });

  it('takes protobuf ids (bytes) and int64 times as numbers; all-zero and malformed ids are no ids', () => {
    const r = record(
      span(
        { 'http.request.method': 'GET', 'url.path': '/' },
        {
          traceId: Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex'),
          spanId: new Uint8Array(Buffer.from('00f067aa0ba902b7', 'hex')),
          parentSpanId: Buffer.from('b7ad6b7169203331', 'hex'),
          startTimeUnixNano: 1_700_000_000_000_000_000,
          endTimeUnixNano: 1_699_999_999_000_000_000,
        },
      ),
    );
    expect(r.trace).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      parentSpanId: 'b7ad6b7169203331',
    });
    expect([r.ts, r.durationMs]).toEqual([1_700_000_000_000, 0]); // an end before the start: no duration
    const zero = record(span({ 'http.request.method': 'GET', 'url.path': '/' }, { traceId: '0'.repeat(32) }));
    expect(zero.trace).toBeUndefined();
    const bad = record(span({ 'http.request.method': 'GET', 'url.path': '/' }, { traceId: 'xyz', spanId: '12' }));
    expect(bad.trace).toBeUndefined();
  });

  it('bounds what callers control: long paths, many and long parameters, a __proto__ parameter', () => {
    const query = [
      '__proto__=x',
      ...Array.from({ length: 300 }, (_, i) => `p${i}=${i}`),
      `long=${'v'.repeat(5000)}`,
    ].join('&');
    const r = record(span({ 'http.request.method': 'GET', 'url.path': `/${'a'.repeat(9000)}`, 'url.query': query }));
    expect(r.path).toHaveLength(8192);
    expect(Object.keys(r.params ?? {})).toHaveLength(256);
    expect(Object.hasOwn(r.params ?? {}, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
