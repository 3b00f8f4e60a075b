import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CapturingIngest } from '../../../sensors/common/capturing-ingest.js';
import { postWithToken } from '../../../test/harness/captured-bus.js';
import { metricSum } from '../../../test/harness/metrics.js';
import { tokenHash } from '../../../sensors/common/token-hash.js';
import { TOPICS } from '../../bus/bus.js';
import { MemoryBus } from '../../bus/memory-bus.js';
import { createCollectorServer } from '../../collector/collector-server.js';
import type { RecordIngest } from '../../collector/ingest.js';
import { type DeadLetter, createRecordIngest } from '../../collector/record-ingest.js';
import { SensorAuth } from '../../collector/sensor-auth.js';
import { mwError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { kongHttpLogPlugin } from './kong-http-log.js';

const httpErrors = (code: string) => metricSum('meshward_http_errors_total', { server: 'collector', code });

const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'testdata', name), 'utf8'));
const KEY = 'kong-test-token-hash-key';
const SENSOR_TOKEN = 'kong-sensor-token-0123456789';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

/** the collector's own ingest over an in-process bus, with what reaches the dead-letter topic */
async function collectorIngest() {
  const bus = new MemoryBus({ partitions: 1 });
  const dlq: DeadLetter[] = [];
  await bus.subscribe({
    groupId: 'dlq',
    topics: [TOPICS.callsDlq],
    onBatch: async (b) => void dlq.push(...b.messages.map((m) => JSON.parse(m.value.toString()))),
  });
  return { ingest: createRecordIngest({ bus, logger: silentLogger }), dlq };
}

/** the receiver on its own Fastify app, handing records to a CapturingIngest (or to `to`) */
async function app(config: Record<string, unknown> = {}, to?: RecordIngest) {
  const ingest = new CapturingIngest();
  const a = Fastify();
  apps.push(a);
  await a.register(kongHttpLogPlugin, {
    ingest: to ?? ingest,
    config: {
      sensor_id: 'kong-edge',
      tokens: [SENSOR_TOKEN],
      token_hash_key: KEY,
      query_params: ['*'],
      header_tags: ['user-agent', 'x-api-key'],
      ...config,
    },
  });
  const post = (payload: unknown, auth = `Bearer ${SENSOR_TOKEN}`) =>
    a.inject({
      method: 'POST',
      url: '/v1/kong/http-log',
      headers: { authorization: auth },
      payload: payload as object,
    });
  return { a, ingest, post };
}

describe('Kong http-log receiver', () => {
  it('maps a single Kong 3.x entry to the expected record, hashing the Authorization header', async () => {
    const { ingest, post } = await app();
    const entry = fixture('single-entry.json');
    const res = await post(entry);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 1, rejected: [] });
    const [r] = ingest.records;
    const { id, ...rest } = r;
    const want = fixture('single-entry.expected.json');
    want.user.tokenHash = tokenHash(KEY, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl');
    expect(rest).toEqual(want);
    expect(id).toMatch(/^[0-9A-Z]{26}$/);
    expect(JSON.stringify(r)).not.toContain('c2lnbmF0dXJl');
    expect(JSON.stringify(r)).not.toContain('k-123');
    expect(ingest.origins[0]).toEqual({ receiver: 'kong', key: 'kong_http_log', sensorId: 'kong-edge' });
  });

  it('accepts a batch as Kong queues send it (Kong 2.x sizes as strings, array header values) and rejects bad entries by index', async () => {
    const { ingest, post } = await app();
    const res = await post(fixture('batch-kong-2x.json'));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toEqual([{ index: 2, code: 'MW_ERR_RECORD_INVALID', reason: 'request.uri is missing' }]);
    const [pay, get] = ingest.records;
    expect(pay).toMatchObject({
      service: 'payments',
      method: 'POST',
      status: 201,
      reqBytes: 1203,
      respBytes: 310,
      durationMs: 120,
      source: { ip: '198.51.100.7' },
      user: { tokenHash: tokenHash(KEY, 'Basic dXNlcjpwYXNz'), authOutcome: 'none' },
    });
    expect(pay.route).toBeUndefined(); // two route paths: no single template
    expect(get).toMatchObject({ service: 'payments.internal', status: 401, params: { page: '2' } });
    expect(get.user).toBeUndefined(); // Kong's own REDACTED marker is not hashed
  });

  it('refuses callers without the configured token, and oversized batches', async () => {
    const { post, ingest } = await app({ max_batch: 2 });
    expect((await post(fixture('single-entry.json'), 'Bearer wrong-token-000000000000')).statusCode).toBe(401);
    expect((await post(fixture('single-entry.json'), '')).statusCode).toBe(401);
    const big = await post([1, 2, 3].map(() => fixture('single-entry.json')));
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('MW_ERR_BATCH_TOO_LARGE');
    expect(ingest.records).toHaveLength(0);
  });

  it('has no built-in token hash key: refuses a config without one, reads token_hash_key_file', async () => {
    const ingest = new CapturingIngest();
    const bare = Fastify();
    apps.push(bare);
    await expect(
      bare.register(kongHttpLogPlugin, { ingest, config: { tokens: [SENSOR_TOKEN] } }),
    ).rejects.toMatchObject({
      code: 'MW_ERR_CONFIG_INVALID',
      message: expect.stringMatching(
        /^configuration is invalid: receivers.kong_http_log: token_hash_key_file \(or token_hash_key\) is required/,
      ),
    });
    const missing = Fastify();
    apps.push(missing);
    await expect(
      missing.register(kongHttpLogPlugin, { ingest, config: { token_hash_key_file: '/nonexistent/token-hash-key' } }),
    ).rejects.toThrow(
      /receivers\.kong_http_log\.token_hash_key_file: cannot read \/nonexistent\/token-hash-key: ENOENT/,
    );

    const file = join(mkdtempSync(join(tmpdir(), 'meshward-kong-')), 'token-hash-key');
    writeFileSync(file, `${KEY}\n`);
    const fromFile = await app({ token_hash_key: undefined, token_hash_key_file: file });
    expect((await fromFile.post(fixture('single-entry.json'))).json().accepted).toBe(1);
    expect(fromFile.ingest.records[0].user?.tokenHash).toBe(
      tokenHash(KEY, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'),
    );
    expect(ingest.records).toHaveLength(0);
  });

  it("answers 503 / 429 when the pipeline cannot take the batch, so Kong retries; counted once as the collector's HTTP errors", async () => {
    // mounted as the collector mounts it, over a real socket
    const ingest = new CapturingIngest();
    const collector = createCollectorServer({
      ingest,
      auth: new SensorAuth([{ id: 's1', token: 'collector-sensor-token-0123' }]),
      logger: silentLogger,
      busHealthy: () => true,
    });
    apps.push(collector);
    await collector.register(kongHttpLogPlugin, {
      ingest,
      config: { sensor_id: 'kong-down', tokens: [SENSOR_TOKEN], token_hash_key: KEY },
    });
    await collector.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(collector.server.address() as AddressInfo).port}/v1/kong/http-log`;
    const unavailable = () =>
      metricSum('meshward_kong_entries_total', { receiver: 'kong-down', outcome: 'unavailable' });
    const failures: [Error, number, string][] = [
      [mwError('BUS_UNAVAILABLE'), 503, 'MW_ERR_BUS_UNAVAILABLE'],
      [mwError('BUS_SATURATED'), 429, 'MW_ERR_BUS_SATURATED'],
      [new Error('the ingest broke'), 500, 'MW_ERR_INTERNAL'],
    ];
    for (const [failure, status, code] of failures) {
      ingest.failWith = failure;
      const before = { http: await httpErrors(code), entries: await unavailable() };
      const batch = JSON.stringify([fixture('single-entry.json'), fixture('single-entry.json')]);
      const res = await postWithToken(url, batch, 'application/json', SENSOR_TOKEN);
      expect(res).toEqual({ status, json: { code, message: expect.any(String) } });
      expect(await httpErrors(code), code).toBe(before.http + 1);
      expect(await unavailable(), code).toBe(before.entries + 2);
    }
    expect(ingest.records).toHaveLength(0);
  });

  it.each([
    ['a string', '"hello"', 200],
    ['null', 'null', 200],
    [
      'wrong types',
      JSON.stringify({ request: { method: 42, uri: ['/x'] }, response: { status: 'x' }, started_at: 'y' }),
      200,
    ],
    [
      'negative status',
      JSON.stringify({ request: { method: 'GET', uri: '/' }, response: { status: -1 }, started_at: 1 }),
      200,
    ],
    [
      'method with spaces',
      JSON.stringify({ request: { method: 'G T', uri: '/' }, response: { status: 200 }, started_at: 1 }),
      200,
    ],
  ])('rejects %s cleanly', async (_name, payload, status) => {
    const { a, ingest } = await app();
    const res = await a.inject({
      method: 'POST',
      url: '/v1/kong/http-log',
      headers: { authorization: `Bearer ${SENSOR_TOKEN}`, 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode).toBe(status);
    if (status === 200)
      expect(res.json()).toMatchObject({ accepted: 0, rejected: [{ index: 0, code: 'MW_ERR_RECORD_INVALID' }] });
    expect(ingest.records).toHaveLength(0);
  });

  it('dead-letters a body that is not JSON and entries that are not Kong entries, redacted, as the collector does', async () => {
    const { ingest, dlq } = await collectorIngest();
    const { a, post } = await app({}, ingest);
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
    const garbage = `{"request": {"headers": {"authorization": "Bearer ${jwt}"`;
    const res = await a.inject({
      method: 'POST',
      url: '/v1/kong/http-log',
      headers: { authorization: `Bearer ${SENSOR_TOKEN}`, 'content-type': 'application/json' },
      payload: garbage,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      accepted: 0,
      rejected: [{ index: 0, code: 'MW_ERR_RECORD_PARSE', reason: expect.stringMatching(/^not valid JSON/) }],
    });
    const noUri = {
      request: { method: 'GET', headers: { authorization: `Bearer ${jwt}` } },
      response: { status: 200 },
    };
    const batch = await post([fixture('single-entry.json'), noUri]);
    expect(batch.json()).toEqual({
      accepted: 1,
      rejected: [{ index: 1, code: 'MW_ERR_RECORD_INVALID', reason: 'request.uri is missing' }],
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(dlq.map((d) => [d.receiver, d.sensorId, d.code])).toEqual([
      ['kong', 'kong-edge', 'MW_ERR_RECORD_PARSE'],
      ['kong', 'kong-edge', 'MW_ERR_RECORD_INVALID'],
    ]);
    expect(dlq[0].raw).toBe('{"request": {"headers": {"authorization": "[redacted]"');
    expect(JSON.parse(dlq[1].raw)).toEqual({
      ...noUri,
      request: { ...noUri.request, headers: { authorization: '[redacted]' } },
    });
    expect(dlq[1].reason).toBe('request.uri is missing');
    expect(JSON.stringify(dlq)).not.toContain('c2lnbmF0dXJl');
    // a prototype key is the entry's data: an entry that is no Kong entry is dead-lettered as it came, polluting nothing
    const poisoned = await a.inject({
      method: 'POST',
      url: '/v1/kong/http-log',
      headers: { authorization: `Bearer ${SENSOR_TOKEN}`, 'content-type': 'application/json' },
      payload: '{"__proto__": {"polluted": true}}',
    });
    expect(poisoned.json()).toEqual({
      accepted: 0,
      rejected: [{ index: 0, code: 'MW_ERR_RECORD_INVALID', reason: 'request is missing' }],
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(dlq).toHaveLength(3);
    expect(dlq[2].raw).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('truncates giant fields to schema limits', async () => {
    const { post, ingest } = await app();
    const e = fixture('single-entry.json');
    e.request.uri = `/${'a'.repeat(20_000)}`;
    e.request.headers.host = 'h'.repeat(2000);
    e.service.name = 's'.repeat(1000);
    const res = await post(e);
    expect(res.json().accepted).toBe(1);
    expect(ingest.records[0].path).toHaveLength(8192);
  });

  it('property: any entry yields a schema-valid record or a rejection, never a 500', async () => {
    const { post, ingest } = await app();
    const any = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    const entry = fc.record(
      {
        request: fc.record(
          {
            method: fc.oneof(any, fc.constantFrom('GET', 'POST')),
            uri: any,
            size: any,
            headers: fc.dictionary(fc.string(), any),
            querystring: fc.dictionary(fc.string(), any),
          },
          { requiredKeys: [] },
        ),
        response: fc.record(
          { status: fc.oneof(any, fc.integer({ min: 100, max: 599 })), size: any },
          { requiredKeys: [] },
        ),
        latencies: fc.record({ request: any }, { requiredKeys: [] }),
        started_at: fc.oneof(any, fc.nat()),
        client_ip: any,
        service: fc.record({ name: any, host: any }, { requiredKeys: [] }),
        consumer: fc.record({ username: any, id: any }, { requiredKeys: [] }),
        route: fc.record({ paths: fc.array(any, { maxLength: 2 }), name: any }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 5 }), async (batch) => {
        const before = ingest.records.length;
        const res = await post(batch);
        if (res.statusCode !== 200) return false;
        const body = res.json();
        return (
          body.accepted + body.rejected.length === batch.length && ingest.records.length === before + body.accepted
        );
      }),
      { numRuns: 150 },
    );
    expect(ingest.invalid.map((i) => i.errors)).toEqual([]); // every record the mapper produced passed the schema
  });
});
