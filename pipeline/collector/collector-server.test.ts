import {
  expectMalformedHttpRefused,
  expectSlowBodyRefused,
  expectStalledRequestRefused,
} from '../../test/harness/raw-http.js';
import { deflateSync, gzipSync } from 'node:zlib';
import { metricSum } from '../../test/harness/metrics.js';
import { describe, expect, it } from 'vitest';
import { TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { silentLogger } from '../core/logger.js';
import { ROWS_CONTENT_TYPE } from '../core/record-rows.js';
import { registry } from '../core/metrics.js';
import type { ApiCallRecord } from '../core/record.js';
import { createCollectorServer } from './collector-server.js';
import { createRecordIngest, type DeadLetter } from './record-ingest.js';
import { SensorAuth } from './sensor-auth.js';

const TOKEN = 'sensor-token-0123456789';

const record = (i: number, extra: Partial<ApiCallRecord> = {}): ApiCallRecord => ({
  id: `rec-${i}`,
  ts: Date.now() - 1000,
  durationMs: 12,
  sensor: { kind: 'test', id: 's1' },
  service: i % 2 ? 'orders' : 'users',
  method: 'GET',
  host: 'orders.svc',
  path: `/v1/orders/${i}`,
  status: 200,
  reqBytes: 10,
  respBytes: 20,
  source: { ip: '10.1.1.1' },
  ...extra,
});

async function setup(opts: { maxBacklog?: number; bodyLimit?: number; requestTimeoutMs?: number } = {}) {
  const bus = new MemoryBus({ partitions: 2, maxBacklogPerPartition: opts.maxBacklog ?? 10_000 });
  const got = { calls: [] as string[], dlq: [] as DeadLetter[] };
  await bus.subscribe({
    groupId: 'calls',
    topics: [TOPICS.calls],
    onBatch: async (b) => void got.calls.push(...b.messages.map((m) => m.value.toString())),
  });
  await bus.subscribe({
    groupId: 'dlq',
    topics: [TOPICS.callsDlq],
    onBatch: async (b) => void got.dlq.push(...b.messages.map((m) => JSON.parse(m.value.toString()))),
  });
  const app = createCollectorServer({
    ingest: createRecordIngest({ bus, logger: silentLogger }),
    auth: new SensorAuth([{ id: 's1', token: TOKEN }]),
    logger: silentLogger,
    bodyLimit: opts.bodyLimit,
    busHealthy: () => bus.healthy(),
    requestTimeoutMs: opts.requestTimeoutMs,
  });
  return { app, bus, got };
}

const settle = () => new Promise((r) => setTimeout(r, 30));
const auth = { authorization: `Bearer ${TOKEN}` };
/** the params entries the collector dropped so far, by reason (excess, repeat) */
const droppedParams = (reason: string) =>
  metricSum('meshward_collector_dropped_keys_total', { field: 'params', reason });
/** the records published to the calls topic, by id */
const publishedById = (calls: string[]) =>
  new Map(calls.map((c) => JSON.parse(c) as ApiCallRecord).map((r) => [r.id, r]));

describe('collector POST /v1/records', () => {
  it('answers a request Node cannot parse with a catalogue code, counted, over a real socket', async () => {
    const { app } = await setup();
    await expectMalformedHttpRefused(app, 'collector');
  });
  it('answers 408 MW_ERR_REQUEST_TIMEOUT, counted, to a request whose headers stop coming, over a real socket', async () => {
    const { app } = await setup({ requestTimeoutMs: 300 });
    await expectStalledRequestRefused(app, 'collector', 300);
  });
  it('answers 408 MW_ERR_REQUEST_TIMEOUT, counted once, to a batch whose body comes a byte at a time, over a real socket; the same batch sent at once is taken', async () => {
    const { app } = await setup({ requestTimeoutMs: 1_000 });
    await expectSlowBodyRefused(app, 'collector', 1_000, {
      head: `POST /v1/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\n`,
      body: JSON.stringify([record(1), record(2)]).padEnd(1_000),
      status: 200,
    });
  });
  it('refuses a missing or unknown sensor token', async () => {
    const { app } = await setup();
    const none = await app.inject({ method: 'POST', url: '/v1/records', payload: [record(1)] });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('MW_ERR_UNAUTHENTICATED');
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { authorization: 'Bearer nope-nope-nope-nope' },
      payload: [record(1)],
    });
    expect(wrong.statusCode).toBe(401);
  });

  it('accepts a JSON array and NDJSON, answering per record; invalid ones go to the DLQ with the reason', async () => {
    const { app, got } = await setup();
    const bad = { ...record(2), status: 'two hundred' };
    const res = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: auth,
      payload: [record(1), bad, record(3)],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted).toBe(2);
    expect(body.ids).toEqual(['rec-1', 'rec-3']);
    expect(body.rejected).toEqual([
      { index: 1, code: 'MW_ERR_RECORD_INVALID', reason: expect.stringContaining('/status') },
    ]);
    const nd = `${JSON.stringify(record(4))}\n{"truncated": \n${JSON.stringify(record(5))}\n`;
    const res2 = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
      payload: nd,
    });
    expect(res2.json()).toMatchObject({ accepted: 2, rejected: [{ index: 1, code: 'MW_ERR_RECORD_PARSE' }] });
    await settle();
    expect(got.calls).toHaveLength(4);
    expect(got.dlq.map((d) => d.code)).toEqual(['MW_ERR_RECORD_INVALID', 'MW_ERR_RECORD_PARSE']);
    expect(got.dlq[1].raw).toBe('{"truncated": ');
    const metrics = await registry.getSingleMetricAsString('meshward_collector_rejected_total');
    expect(metrics).toContain('MW_ERR_RECORD_PARSE');
  });

  it('refuses byte counts past the largest exact integer: summed by the detectors, they could reach Infinity', async () => {
    const { app } = await setup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: auth,
      payload: [{ ...record(1), respBytes: 1.7e308 }, { ...record(2), reqBytes: 2 ** 53 }, record(3)],
    });
    expect(res.json()).toMatchObject({
      accepted: 1,
      rejected: [
        { index: 0, code: 'MW_ERR_RECORD_INVALID', reason: expect.stringContaining('/respBytes') },
        { index: 1, code: 'MW_ERR_RECORD_INVALID', reason: expect.stringContaining('/reqBytes') },
      ],
    });
  });

  it('names the receiver by its type and its config key in each dead letter', async () => {
    const { app, bus, got } = await setup();
    const bad = { ...record(1), status: 'x' };
    await app.inject({ method: 'POST', url: '/v1/records', headers: auth, payload: [bad] });
    // two receivers of one type, as a `receivers:` section declares them
    const ingest = createRecordIngest({ bus, logger: silentLogger });
    await ingest.ingest([bad], { receiver: 'syslog', key: 'syslog/edge', sensorId: 'edge-lb' });
    await ingest.ingest([bad], { receiver: 'syslog', key: 'syslog/partners', sensorId: 'partners-lb' });
    await settle();
    expect(got.dlq.map(({ receiver, receiverKey, sensorId }) => ({ receiver, receiverKey, sensorId }))).toEqual([
      { receiver: 'http', receiverKey: 'http', sensorId: 's1' },
      { receiver: 'syslog', receiverKey: 'syslog/edge', sensorId: 'edge-lb' },
      { receiver: 'syslog', receiverKey: 'syslog/partners', sensorId: 'partners-lb' },
    ]);
  });

  it('takes rows (a record per row), rejecting a bad row alone into the DLQ', async () => {
    const { app, got } = await setup();
    const fields = ['id', 'ts', 'durationMs', 'service', 'method', 'host', 'path', 'status', 'reqBytes', 'respBytes'];
    const records = [record(1), record(2), record(3)];
    const row = (i: number) => {
      const r = records[i - 1] as unknown as Record<string, unknown>;
      return [...fields.map((f) => r[f]), '10.1.1.1'];
    };
    const bad = row(2);
    bad[7] = 'two hundred';
    const res = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { ...auth, 'content-type': ROWS_CONTENT_TYPE },
      payload: JSON.stringify({
        fields: [...fields, 'source.ip'],
        common: { sensor: { kind: 'test', id: 's1' }, source: {} },
        rows: [row(1), bad, row(3)],
      }),
    });
    expect(res.json()).toMatchObject({ accepted: 2, rejected: [{ index: 1, code: 'MW_ERR_RECORD_INVALID' }] });
    await settle();
    expect(got.calls.map((c) => JSON.parse(c))).toEqual(
      [records[0], records[2]].map((r) => expect.objectContaining(r)),
    );
    expect(got.dlq.map((d) => d.code)).toEqual(['MW_ERR_RECORD_INVALID']);
  });

  it('keeps a body that is not JSON at all, bytes intact, in the DLQ', async () => {
    const { app, got } = await setup();
    const garbage = Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0x00]);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: garbage,
    });
    expect(res.json()).toMatchObject({ accepted: 0, rejected: [{ index: 0, code: 'MW_ERR_RECORD_PARSE' }] });
    await settle();
    expect(Buffer.from(got.dlq[0].rawBase64, 'base64')).toEqual(garbage);
  });

  it("names why a body is not JSON without quoting it: JSON.parse's message echoes a piece of the input", async () => {
    const { app, got } = await setup();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyNDIifQ.c2lnbmF0dXJlc2lnbmF0dXJl';
    const res = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
      payload: `sk_live_0123456789abcdef\n{"note": ${jwt}}\n{"id":\n`,
    });
    const reasons = res.json().rejected.map((r: { reason: string }) => r.reason);
    expect(reasons).toEqual([
      "not valid JSON: Unexpected token 's'",
      "not valid JSON: Unexpected token 'e'",
      'not valid JSON: Unexpected end of JSON input',
    ]);
    await settle();
    expect(got.dlq.map((d) => d.reason)).toEqual(reasons);
    const letters = JSON.stringify(got.dlq.map(({ reason, raw }) => ({ reason, raw })));
    expect(letters).not.toMatch(/eyJhbGci|c2lnbmF0/);
  });

  it('answers 413 for an oversize body', async () => {
    const { app } = await setup({ bodyLimit: 2048 });
    const big = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: auth,
      payload: Array.from({ length: 40 }, (_, i) => record(i)),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('MW_ERR_BODY_TOO_LARGE');
  });

  it('takes gzip and deflate bodies; the body limit holds for the decompressed bytes', async () => {
    const { app, got } = await setup({ bodyLimit: 4096 });
    const post = (payload: Buffer, encoding: string, type = 'application/x-ndjson') =>
      app.inject({
        method: 'POST',
        url: '/v1/records',
        headers: { ...auth, 'content-type': type, 'content-encoding': encoding },
        payload,
      });
    const ndjson = Buffer.from(`${JSON.stringify(record(1))}\n${JSON.stringify(record(2))}\n`);
    const gz = await post(gzipSync(ndjson), 'gzip');
    expect(gz.statusCode).toBe(200);
    expect(gz.json()).toMatchObject({ accepted: 2, rejected: [] });
    const array = Buffer.from(JSON.stringify([record(3)]));
    expect((await post(deflateSync(array), 'deflate', 'application/json')).json()).toMatchObject({ accepted: 1 });
    await settle();
    expect(got.calls).toHaveLength(3);
    // a bomb: 2 MB of blanks sent in about 2 KB
    const bomb = gzipSync(Buffer.concat([Buffer.from('['), Buffer.alloc(2_000_000, 0x20), Buffer.from(']')]));
    expect(bomb.length).toBeLessThan(4096);
    const big = await post(bomb, 'gzip', 'application/json');
    expect([big.statusCode, big.json().code]).toEqual([413, 'MW_ERR_BODY_TOO_LARGE']);
    const corrupt = await post(Buffer.from('not gzip at all'), 'gzip');
    expect([corrupt.statusCode, corrupt.json().code]).toEqual([400, 'MW_ERR_BAD_REQUEST']);
    expect(corrupt.json().message).toContain('gzip body does not decompress');
    const br = await post(ndjson, 'br');
    expect([br.statusCode, br.json().code]).toEqual([415, 'MW_ERR_UNSUPPORTED_ENCODING']);
    expect(br.json().message).toContain('send gzip, deflate or none');
    await settle();
    expect(got.calls).toHaveLength(3);
  });

  it('answers 429 BUS_SATURATED with Retry-After when the bus backlog is full (nothing half-published)', async () => {
    const bus = new MemoryBus({ partitions: 1, maxBacklogPerPartition: 3 });
    // a correlator that has stalled: what it has not committed fills the backlog
    await bus.subscribe({ groupId: 'correlator', topics: [TOPICS.calls], onBatch: () => new Promise(() => {}) });
    const app = createCollectorServer({
      ingest: createRecordIngest({ bus, logger: silentLogger }),
      auth: new SensorAuth([{ id: 's1', token: TOKEN }]),
      logger: silentLogger,
      busHealthy: () => bus.healthy(),
    });
    const ok = await app.inject({ method: 'POST', url: '/v1/records', headers: auth, payload: [record(1), record(2)] });
    expect(ok.statusCode).toBe(200);
    const full = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: auth,
      payload: [record(3), record(4)],
    });
    expect(full.statusCode).toBe(429);
    expect(full.json().code).toBe('MW_ERR_BUS_SATURATED');
    expect(full.headers['retry-after']).toBe('2');
    expect(ok.headers['retry-after']).toBeUndefined();
  });

  it('answers 503 BUS_UNAVAILABLE with Retry-After when the bus is down; other refusals carry none', async () => {
    const { app, bus } = await setup();
    const bad = await app.inject({ method: 'POST', url: '/v1/records', headers: auth, payload: '' });
    expect([bad.statusCode, bad.headers['retry-after']]).toEqual([400, undefined]);
    await bus.close();
    const down = await app.inject({ method: 'POST', url: '/v1/records', headers: auth, payload: [record(1)] });
    expect([down.statusCode, down.json().code, down.headers['retry-after']]).toEqual([
      503,
      'MW_ERR_BUS_UNAVAILABLE',
      '5',
    ]);
  });

  it('rejects timestamps far in the future and scrubs secrets that slipped into params, tags and the query', async () => {
    const { app, got } = await setup();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
    const res = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: auth,
      payload: [
        record(1, { ts: Date.now() + 365 * 86_400_000 }),
        record(2, {
          path: `/v1/orders?access_token=${jwt}&page=2`,
          params: { password: 'hunter2', q: jwt, page: 2 },
          tags: { authorization: 'Bearer abcdefghijkl' },
        }),
      ],
    });
    expect(res.json()).toMatchObject({
      accepted: 1,
      rejected: [{ index: 0, reason: expect.stringContaining('future') }],
    });
    await settle();
    expect(got.calls[0]).not.toContain(jwt);
    expect(got.calls[0]).not.toContain('hunter2');
    expect(got.calls[0]).not.toContain('abcdefghijkl');
    const r = JSON.parse(got.calls[0]) as ApiCallRecord;
    expect(r.params).toEqual({ password: '[redacted]', q: '[redacted]', page: 2 });
    expect(r.path).toBe('/v1/orders?access_token=%5Bredacted%5D&page=2');
  });

  it('cuts a param name or tag key past its bound and counts it, never refusing the record for it', async () => {
    const { app, got } = await setup();
    const cut = async (field: string) => metricSum('meshward_collector_truncated_keys_total', { field });
    const before = {
      params: await cut('params'),
      tags: await cut('tags'),
      repeat: await droppedParams('repeat'),
      excess: await droppedParams('excess'),
    };
    const res = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: auth,
      payload: [
        record(1, { params: { page: 2, ['p'.repeat(300)]: 'x' } }),
        record(2, { tags: { ['t'.repeat(200)]: 'v', env: 'prod' } }),
        // one parameter name once cut: the first is kept, the other dropped and counted
        record(3, { params: { ['a'.repeat(300)]: 'first', [`${'a'.repeat(256)}b`]: 'second' } }),
      ],
    });
    expect(res.json()).toMatchObject({ accepted: 3, rejected: [] });
    await settle();
    const byId = publishedById(got.calls);
    expect(byId.get('rec-1')?.params).toEqual({ page: 2, ['p'.repeat(256)]: 'x' });
    expect(byId.get('rec-2')?.tags).toEqual({ ['t'.repeat(128)]: 'v', env: 'prod' });
    expect(byId.get('rec-3')?.params).toEqual({ ['a'.repeat(256)]: 'first' });
    expect(got.dlq).toEqual([]);
    expect(await cut('params')).toBe(before.params + 3);
    expect(await cut('tags')).toBe(before.tags + 1);
    expect(await droppedParams('repeat')).toBe(before.repeat + 1);
    expect(await droppedParams('excess')).toBe(before.excess);
  });

  it('keeps the first 256 of many params and cuts a long path or host, counted, never refusing the record', async () => {
    const { app, got } = await setup();
    const values = async (field: string) => metricSum('meshward_collector_truncated_values_total', { field });
    const before = {
      path: await values('path'),
      host: await values('host'),
      excess: await droppedParams('excess'),
      repeat: await droppedParams('repeat'),
    };
    const params: Record<string, number> = {};
    for (let i = 0; i < 300; i++) params[`p${i}`] = i;
    const res = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: auth,
      payload: [record(1, { params }), record(2, { path: `/${'a'.repeat(9_999)}`, host: 'h'.repeat(600) })],
    });
    expect(res.json()).toMatchObject({ accepted: 2, rejected: [] });
    await settle();
    const byId = publishedById(got.calls);
    expect(Object.keys(byId.get('rec-1')?.params ?? {})).toEqual(Object.keys(params).slice(0, 256));
    expect(byId.get('rec-2')?.path).toBe(`/${'a'.repeat(8191)}`);
    expect(byId.get('rec-2')?.host).toBe('h'.repeat(512));
    expect(got.dlq).toEqual([]);
    expect(await droppedParams('excess')).toBe(before.excess + 44);
    expect(await droppedParams('repeat')).toBe(before.repeat);
    expect(await values('path')).toBe(before.path + 1);
    expect(await values('host')).toBe(before.host + 1);
  });

  it('publishes a record with only short keys byte for byte as it came', async () => {
    const { app, got } = await setup();
    const line = JSON.stringify({
      ...record(1, { params: { ['p'.repeat(256)]: 1, q: 'shoes', '': null }, tags: { ['t'.repeat(128)]: 'x' } }),
      v: 1,
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { ...auth, 'content-type': 'application/x-ndjson' },
      payload: `${line}\n`,
    });
    expect(res.json()).toMatchObject({ accepted: 1, rejected: [] });
    await settle();
    expect(got.calls).toEqual([line]);
  });

  it('reports health of the bus', async () => {
    const { app, bus } = await setup();
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    await bus.close();
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(503);
  });
});
