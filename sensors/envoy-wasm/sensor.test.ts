import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { RIG_HASH_KEY, RIG_SENSOR_TOKEN, type Rig, startRig } from './host/rig.js';
import { SAMPLE_SPAN_ID, SAMPLE_SPIFFE, SAMPLE_TOKEN, SAMPLE_TRACE_ID, sampleRequest } from './host/sample-traffic.js';

// The compiled sensor in the Node proxy-wasm host, shipping over real HTTP to a collector stub that validates every
// record against ApiCallRecordSchema.

const twinHash = (token: string) => `h1:${createHmac('sha256', RIG_HASH_KEY).update(token).digest('hex').slice(0, 32)}`;

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function withRig(config: Record<string, unknown> = {}): Promise<Rig> {
  rig = await startRig(config);
  expect(rig.configured).toBe(true);
  return rig;
}

const byId = (records: ApiCallRecord[]) => new Map(records.map((r) => [r.id, r]));

describe('envoy_wasm sensor: records', () => {
  it('ships one valid ApiCallRecord per request, in size-triggered batches and a tick for the rest', async () => {
    const { host, collector } = await withRig({ batch_size: 10 });
    for (let i = 0; i < 25; i++) host.request(sampleRequest(i));
    await host.settle();
    expect(collector!.batchSizes).toEqual([10, 10]);
    host.tick();
    await host.settle();
    expect(collector!.batchSizes).toEqual([10, 10, 5]);
    expect(collector!.rejected).toEqual([]);
    expect(collector!.records.map((r) => r.id)).toEqual(Array.from({ length: 25 }, (_, i) => `req-${i}`));
    expect(host.metric('meshward_sensor.records_sent')).toBe(25n);
    expect(host.metric('meshward_sensor.batches_sent')).toBe(3n);
  });

  it('fills every field from Envoy attributes and headers', async () => {
    const { host, collector } = await withRig({ batch_size: 1, keep_params: ['page', 'expand'] });
    host.request(sampleRequest(7));
    await host.settle();
    const r = collector!.records[0];
    expect(r).toEqual({
      v: 1,
      id: 'req-7',
      ts: 1_700_000_000_070,
      durationMs: 1.57,
      sensor: { kind: 'envoy_wasm', id: 'envoy-test-1' },
      service: 'outbound|8080||orders.shop.svc.cluster.local',
      method: 'POST',
      host: 'orders.shop.svc',
      path: '/api/orders/1007?expand=items&access_token=[redacted]&page=2',
      status: 200,
      reqBytes: 427,
      respBytes: 1337,
      source: { ip: '10.1.2.7', principal: SAMPLE_SPIFFE, mtls: true },
      user: { tokenHash: twinHash(SAMPLE_TOKEN) },
      trace: { traceId: SAMPLE_TRACE_ID, spanId: SAMPLE_SPAN_ID },
      params: { expand: 'items', page: '2' },
      tags: { 'x-request-id': 'req-7' },
    });
  });

  it('never sends the bearer token or a redacted query value, in any byte', async () => {
    const { host, collector, calls } = await withRig({ batch_size: 4, keep_params: ['access_token'] });
    for (let i = 0; i < 12; i++) host.request(sampleRequest(i));
    await host.settle();
    expect(collector!.records).toHaveLength(12);
    const wire = Buffer.concat([
      ...collector!.bodies,
      ...calls.map((c) => Buffer.from(JSON.stringify(c.headers))),
      Buffer.from(JSON.stringify(host.logs)),
    ]).toString('latin1');
    expect(wire).not.toContain(SAMPLE_TOKEN);
    expect(wire).not.toContain('leaky-');
    expect(wire).not.toContain(RIG_HASH_KEY);
    for (const r of collector!.records) expect(r.params).toEqual({ access_token: '[redacted]' });
  });

  it('hashes tokens exactly like the Node twin, whatever the scheme spelling and spacing', async () => {
    const { host, collector } = await withRig({ batch_size: 50 });
    const cases: Array<[string, string]> = [
      ['Bearer abc.def.ghi', 'abc.def.ghi'],
      ['bearer   spaced-token  ', 'spaced-token'],
      ['BEARER x', 'x'],
      ['Basic dXNlcjpwYXNz', 'Basic dXNlcjpwYXNz'],
      [`Bearer ${'t'.repeat(3000)}`, 't'.repeat(3000)],
    ];
    cases.forEach(([header], i) => {
      const req = sampleRequest(i, { token: null });
      host.request({ ...req, requestHeaders: [...req.requestHeaders, ['authorization', header]] });
    });
    host.request(sampleRequest(99, { token: null }));
    host.tick();
    await host.settle();
    const records = byId(collector!.records);
    for (const [i, [, token]] of cases.entries())
      expect(records.get(`req-${i}`)?.user?.tokenHash).toBe(twinHash(token));
    expect(records.get('req-99')?.user).toBeUndefined();
  });

  it('reads trace context, B3 parent span and ignores malformed traceparents', async () => {
    const { host, collector } = await withRig({ batch_size: 50 });
    const withHeader = (i: number, extra: Array<[string, string]>) => {
      const req = sampleRequest(i);
      host.request({ ...req, requestHeaders: [...req.requestHeaders.filter(([k]) => k !== 'traceparent'), ...extra] });
    };
    withHeader(0, [
      ['traceparent', `00-${SAMPLE_TRACE_ID}-${SAMPLE_SPAN_ID}-01`],
      ['x-b3-parentspanid', 'a3ce929d0e0e4736'],
    ]);
    withHeader(1, [['traceparent', `00-${'0'.repeat(32)}-${SAMPLE_SPAN_ID}-01`]]);
    withHeader(2, [['traceparent', `ff-${SAMPLE_TRACE_ID}-${SAMPLE_SPAN_ID}-01`]]);
    withHeader(3, [['traceparent', `00-${SAMPLE_TRACE_ID.toUpperCase()}-${SAMPLE_SPAN_ID}-01`]]);
    withHeader(4, [['traceparent', 'garbage']]);
    host.tick();
    await host.settle();
    const records = byId(collector!.records);
    expect(records.get('req-0')?.trace).toEqual({
      traceId: SAMPLE_TRACE_ID,
      spanId: SAMPLE_SPAN_ID,
      parentSpanId: 'a3ce929d0e0e4736',
    });
    for (const id of ['req-1', 'req-2', 'req-3', 'req-4']) expect(records.get(id)?.trace).toBeUndefined();
  });

  it('redacts configured query params case-insensitively, even percent-encoded, and keeps the listed ones', async () => {
    const { host, collector } = await withRig({
      batch_size: 50,
      redact_params: ['token', 'ssn'],
      keep_params: ['q', 'SSN', 'empty', 'dup'],
    });
    const path = '/search?q=caf%C3%A9+au+lait&TOKEN=t1&%74oken=t2&SSN=123-45&empty&dup=1&dup=2&other=x&&';
    host.request(sampleRequest(1, { path }));
    host.tick();
    await host.settle();
    const r = collector!.records[0];
    expect(r.path).toBe(
      '/search?q=caf%C3%A9+au+lait&TOKEN=[redacted]&%74oken=[redacted]&SSN=[redacted]&empty&dup=1&dup=2&other=x&&',
    );
    expect(r.params).toEqual({ q: 'café au lait', SSN: '[redacted]', empty: '', dup: '1' });
  });

  it('sends batches to the configured cluster with the sensor token and JSON headers', async () => {
    const { host, collector, calls } = await withRig({ batch_size: 2, collector_authority: 'collector.meshward' });
    host.request(sampleRequest(1));
    host.request(sampleRequest(2));
    await host.settle();
    expect(calls).toHaveLength(1);
    expect(calls[0].cluster).toBe('meshward_collector');
    expect(new Map(calls[0].headers)).toEqual(
      new Map([
        [':method', 'POST'],
        [':path', '/v1/records'],
        [':authority', 'collector.meshward'],
        ['content-type', 'application/json'],
        ['authorization', `Bearer ${RIG_SENSOR_TOKEN}`],
      ]),
    );
    expect(collector!.unauthorized).toBe(0);
    expect(collector!.headers[0]['content-type']).toBe('application/json');
  });

  it('makes unique ids when requests carry no usable x-request-id', async () => {
    const { host, collector } = await withRig({ batch_size: 100 });
    for (let i = 0; i < 60; i++)
      host.request(
        sampleRequest(i, { requestId: i % 2 ? null : `bad id with spaces ${i}`, startMs: 1_700_000_000_000 }),
      );
    host.tick();
    await host.settle();
    const ids = collector!.records.map((r) => r.id);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
    for (const id of ids) expect(id).toMatch(/^mw[0-9a-f]{8}-[0-9a-f]+-[0-9a-f]+$/);
  });

  it('samples: rate 0 records nothing (counted), rate 0.5 about half', async () => {
    const none = await withRig({ sample_rate: 0, batch_size: 10 });
    for (let i = 0; i < 40; i++) none.host.request(sampleRequest(i));
    none.host.tick();
    await none.host.settle();
    expect(none.collector!.records).toHaveLength(0);
    expect(none.host.metric('meshward_sensor.records_sampled_out')).toBe(40n);
    await none.close();

    const half = await withRig({ sample_rate: 0.5, batch_size: 1000, max_buffer: 1000 });
    for (let i = 0; i < 400; i++) half.host.request(sampleRequest(i));
    half.host.tick();
    await half.host.settle();
    const kept = half.collector!.records.length;
    expect(kept).toBeGreaterThan(140);
    expect(kept).toBeLessThan(260);
    expect(half.host.metric('meshward_sensor.records_sampled_out')).toBe(BigInt(400 - kept));
  });

  it('flushes on the proxy timer at tick_ms', async () => {
    const { host, collector } = await withRig({ batch_size: 100, tick_ms: 50 });
    expect(host.tickPeriodMs).toBe(50);
    host.startTicker();
    for (let i = 0; i < 3; i++) host.request(sampleRequest(i));
    const deadline = Date.now() + 3000;
    while (collector!.records.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(collector!.batchSizes).toEqual([3]);
  });

  it('drains buffered records when the plugin is unloaded, then signals proxy_done', async () => {
    const { host, collector } = await withRig({ batch_size: 2, max_in_flight: 1 });
    for (let i = 0; i < 7; i++) host.request(sampleRequest(i));
    await host.shutdown();
    expect(host.doneSignalled).toBe(true);
    expect(collector!.records).toHaveLength(7);
    await host.shutdown();
  });
});
