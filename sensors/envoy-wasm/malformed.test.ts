import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeaderValue, PropertyValue } from './host/abi.js';
import type { SimulatedRequest } from './host/proxy-wasm-host.js';
import { type Rig, startRig } from './host/rig.js';
import { sampleRequest } from './host/sample-traffic.js';

// Whatever the proxy hands over (huge values, broken UTF-8, missing or mistyped attributes), the module must not
// trap: it ships a valid record (truncated, escaped) or skips the request and counts it.

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ batch_size: 200, max_buffer: 5000, tag_headers: ['x-request-id', 'x-tenant'] });
  expect(rig.configured).toBe(true);
});
afterAll(async () => {
  await rig.close();
});

/** runs requests through the sensor and returns the records the collector accepted from them */
async function ship(requests: SimulatedRequest[]) {
  const before = rig.collector!.records.length;
  for (const r of requests) rig.host.request(r);
  rig.host.tick();
  await rig.host.settle();
  expect(rig.collector!.rejected).toEqual([]);
  return rig.collector!.records.slice(before);
}

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));

describe('envoy_wasm sensor: malformed input', () => {
  it('truncates giant values to the schema limits and counts the truncation', async () => {
    const before = rig.host.metric('meshward_sensor.fields_truncated');
    const base = sampleRequest(1, { path: `/big?${'a'.repeat(100_000)}`, requestId: 'r'.repeat(5000) });
    const [r] = await ship([
      {
        ...base,
        requestHeaders: [
          ...base.requestHeaders,
          ['x-tenant', 'T'.repeat(50_000)],
          ['authorization', `Bearer ${'z'.repeat(1 << 20)}`],
        ],
        properties: { ...base.properties, 'request.host': 'h'.repeat(10_000), 'source.address': '1'.repeat(300) },
      },
    ]);
    expect(r.path).toHaveLength(8192);
    expect(r.host).toHaveLength(512);
    expect(r.source.ip).toHaveLength(64);
    expect(r.tags?.['x-tenant']).toHaveLength(1024);
    expect(r.id).toMatch(/^mw/);
    expect(r.user?.tokenHash).toMatch(/^h1:[0-9a-f]{32}$/);
    expect(rig.host.metric('meshward_sensor.fields_truncated') - before).toBe(5n);
  });

  it('replaces invalid UTF-8 with U+FFFD, keeps valid multi-byte characters, escapes controls and quotes', async () => {
    const path = cat(
      ascii('/p/'),
      bytes(0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0x00, 0x22, 0x5c, 0x0a, 0xe2, 0x82),
    );
    const base = sampleRequest(2);
    const [r] = await ship([
      {
        ...base,
        requestHeaders: [
          ...base.requestHeaders.filter(([k]) => k !== 'x-request-id'),
          ['x-request-id', bytes(0xc0, 0x80)],
          ['x-tenant', bytes(0x80, 0x41)],
        ],
        properties: {
          ...base.properties,
          'request.path': path,
          'connection.uri_san_peer_certificate': bytes(0xf5, 0x73),
        },
      },
    ]);
    expect(r.path).toBe('/p/\ufffd\ufffd\ufffd(\ufffd\ufffd\ufffd\u{1F600}\u0000"\\\n\ufffd\ufffd');
    expect(r.tags?.['x-tenant']).toBe('\ufffdA');
    expect(r.source.principal).toBe('\ufffds');
    expect(r.id).toMatch(/^mw/);
  });

  it('cuts at a character boundary, never inside a multi-byte sequence', async () => {
    const [r] = await ship([sampleRequest(3, { path: `/${'a'.repeat(8189)}\u{1F600}tail` })]);
    expect(r.path).toBe(`/${'a'.repeat(8189)}`);
  });

  it('builds records from headers alone when attributes are missing', async () => {
    const [r] = await ship([
      {
        requestHeaders: [
          [':method', 'DELETE'],
          [':path', '/only/headers'],
          [':authority', 'svc.local'],
        ],
        responseHeaders: [[':status', '404']],
      },
    ]);
    expect(r).toMatchObject({
      method: 'DELETE',
      path: '/only/headers',
      host: 'svc.local',
      status: 404,
      service: 'unknown',
    });
    expect(r.source).toEqual({});
    expect(Math.abs(r.ts - Date.now())).toBeLessThan(60_000);
  });

  it('falls back when attributes have the wrong shape', async () => {
    const base = sampleRequest(4);
    const [r] = await ship([
      {
        ...base,
        responseHeaders: [[':status', '2x0']],
        properties: {
          ...base.properties,
          'request.time': bytes(1, 2, 3),
          'request.duration': -5n,
          'response.code': 5000,
          'request.total_size': -1,
          'source.address': '[2001:db8::1]:443',
        },
      },
    ]);
    expect(r.status).toBe(0);
    expect(r.durationMs).toBe(0);
    expect(r.reqBytes).toBe(0);
    expect(r.source.ip).toBe('2001:db8::1');
  });

  it('skips and counts a request without any path', async () => {
    const before = rig.host.metric('meshward_sensor.records_skipped');
    const records = await ship([{ requestHeaders: [[':method', 'GET']] }]);
    expect(records).toHaveLength(0);
    expect(rig.host.metric('meshward_sensor.records_skipped') - before).toBe(1n);
  });

  it('never traps and always ships valid records for arbitrary header and attribute bytes', async () => {
    const names = [
      ':path',
      ':method',
      ':authority',
      'authorization',
      'traceparent',
      'x-request-id',
      'x-tenant',
      'x-b3-parentspanid',
    ];
    const props = [
      'request.path',
      'request.method',
      'request.host',
      'request.time',
      'request.duration',
      'response.code',
      'source.address',
      'connection.mtls',
      'connection.uri_san_peer_certificate',
      'xds.cluster_name',
    ];
    const value = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 120 }),
      fc.constantFrom(
        '/a?b=c&token=x',
        '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        'Bearer x',
        '%',
        '?&=&',
      ),
    );
    const request = fc.record({
      headers: fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 10 }),
      props: fc.dictionary(
        fc.constantFrom(...props),
        fc.oneof(value, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.boolean()),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 20 }), async (batch) => {
        const requests: SimulatedRequest[] = batch.map((b) => ({
          requestHeaders: b.headers as Array<[string, HeaderValue]>,
          properties: b.props as Record<string, PropertyValue>,
        }));
        const skippedBefore = rig.host.metric('meshward_sensor.records_skipped');
        const records = await ship(requests);
        const skipped = Number(rig.host.metric('meshward_sensor.records_skipped') - skippedBefore);
        expect(records.length + skipped).toBe(requests.length);
      }),
      { numRuns: 40 },
    );
  });
});
