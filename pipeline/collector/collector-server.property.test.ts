import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum, protoSnapshot } from '../../test/harness/metrics.js';
import { TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { ERRORS } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { ROWS_CONTENT_TYPE } from '../core/record-rows.js';
import type { ApiCallRecord } from '../core/record.js';
import { createCollectorServer } from './collector-server.js';
import { createRecordIngest } from './record-ingest.js';
import { SensorAuth } from './sensor-auth.js';

/**
 * Hostile bodies over HTTP: whatever the bytes, the collector answers with a catalogue code (200 per-record, 400,
 * 413), counts the refusal, keeps serving, and never answers 5xx or pollutes Object.prototype.
 */

const TOKEN = 'sensor-token-0123456789';
const BODY_LIMIT = 64 * 1024;
const MAX_RECORDS = 200;
const auth = { authorization: `Bearer ${TOKEN}` };
const CODES = new Set(Object.values(ERRORS).map((e) => e.code));

const record = (i: number): ApiCallRecord => ({
  id: `rec-${i}`,
  ts: Date.now() - 1000,
  durationMs: 12,
  sensor: { kind: 'test', id: 's1' },
  service: 'orders',
  method: 'GET',
  host: 'orders.svc',
  path: `/v1/orders/${i}`,
  status: 200,
  reqBytes: 10,
  respBytes: 20,
  source: { ip: '10.1.1.1' },
});

describe('collector HTTP ingest under hostile bodies (property)', () => {
  const bus = new MemoryBus({ partitions: 2, maxBacklogPerPartition: 1_000_000 });
  const app = createCollectorServer({
    ingest: createRecordIngest({ bus, logger: silentLogger }),
    auth: new SensorAuth([{ id: 's1', token: TOKEN }]),
    logger: silentLogger,
    bodyLimit: BODY_LIMIT,
    maxRecordsPerRequest: MAX_RECORDS,
    busHealthy: () => bus.healthy(),
  });
  const dlq: { code: string }[] = [];

  let port = 0;

  beforeAll(async () => {
    await bus.subscribe({ groupId: 'calls', topics: [TOPICS.calls], onBatch: async () => {} });
    await bus.subscribe({
      groupId: 'dlq',
      topics: [TOPICS.callsDlq],
      onBatch: async (b) => void dlq.push(...b.messages.map((m) => JSON.parse(m.value.toString()) as { code: string })),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
    await bus.close();
  });

  const post = (payload: Buffer | string, contentType: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { ...auth, ...(contentType ? { 'content-type': contentType } : {}) },
      payload,
    });

  const recordFields = [
    'id',
    'ts',
    'durationMs',
    'service',
    'method',
    'host',
    'path',
    'status',
    'reqBytes',
    'respBytes',
  ];
  /** a rows document (core/record-rows.ts): valid rows of records, junk rows, and hostile field lists and commons */
  const rowsDoc = fc
    .record({
      fields: fc.oneof(
        fc.constant(['source.ip', ...recordFields]),
        fc.array(
          fc.oneof(
            fc.constantFrom(
              '__proto__.polluted',
              'constructor.prototype',
              'a.b.c',
              'x',
              'toJSON',
              'hasOwnProperty',
              'source.toJSON',
            ),
            fc.string(),
          ),
          {
            maxLength: 5,
          },
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      common: fc.oneof(
        fc.constant({ v: 1, sensor: { kind: 'test', id: 's1' }, source: {} }),
        fc.constant(JSON.parse('{"__proto__":{"polluted":true}}')),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      rows: fc.array(
        fc.oneof(
          fc.nat(1000).map((i) => {
            const r = record(i) as unknown as Record<string, unknown>;
            return ['10.1.1.1', ...recordFields.map((f) => r[f])];
          }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        { maxLength: 20 },
      ),
    })
    .map((d) => JSON.stringify(d));

  /** a body: random bytes, JSON (arrays of mixed junk and records), NDJSON, rows, deep nesting, or past the limits */
  const body = fc.oneof(
    rowsDoc,
    fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((b) => Buffer.from(b)),
    fc.json({ maxDepth: 4 }),
    fc
      .array(fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.nat(1000).map(record)), { maxLength: 30 })
      .map((a) => JSON.stringify(a)),
    fc
      .array(
        fc.oneof(
          fc.nat(1000).map((i) => JSON.stringify(record(i))),
          fc.string({ maxLength: 60, unit: 'binary' }),
          fc.constant('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
        ),
        { maxLength: 30 },
      )
      .map((lines) => lines.join('\n')),
    fc.constantFrom(
      `[${'['.repeat(200_000)}${']'.repeat(200_000)}]`.slice(0, BODY_LIMIT - 2),
      `[${'['.repeat(30_000)}${']'.repeat(30_000)}]`,
      `[${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}]`,
      `${'['.repeat(30_000)}${']'.repeat(30_000)}`,
      '{"__proto__":{"polluted":true}}',
      '[{"constructor":{"prototype":{"polluted":true}}}]',
      JSON.stringify(Array.from({ length: MAX_RECORDS + 1 }, (_, i) => record(i))),
      'x'.repeat(BODY_LIMIT + 1),
      '\u0000',
      '\ufeff[]',
    ),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/x-ndjson',
    'application/jsonl',
    'text/plain',
    'application/octet-stream',
    '',
    'application/json; charset=latin1',
    'multipart/form-data; boundary=x',
    ROWS_CONTENT_TYPE,
  );

  it('answers every body with a catalogue code and a counted refusal, and keeps serving', async () => {
    const proto = protoSnapshot();
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(body, contentType, async (payload, type) => {
        const dlqBefore = dlq.length;
        const res = await post(payload, type);
        statuses.add(res.statusCode);
        expect([200, 400, 413], res.body.slice(0, 300)).toContain(res.statusCode);
        const answer = res.json() as {
          code?: string;
          accepted?: number;
          ids?: string[];
          rejected?: { index: number; code: string }[];
        };
        if (res.statusCode === 200) {
          const rejected = answer.rejected ?? [];
          expect(answer.ids).toHaveLength(answer.accepted as number);
          expect(new Set(rejected.map((r) => r.index)).size).toBe(rejected.length);
          for (const r of rejected) expect(['MW_ERR_RECORD_PARSE', 'MW_ERR_RECORD_INVALID']).toContain(r.code);
          // every rejection is in the dead-letter topic (the in-process bus delivers within a few ms)
          await expect.poll(() => dlq.length - dlqBefore, { timeout: 2000, interval: 5 }).toBe(rejected.length);
        } else {
          expect(CODES.has(answer.code as string), answer.code).toBe(true);
          expect(
            await metricSum('meshward_http_errors_total', { server: 'collector', code: answer.code as string }),
          ).toBeGreaterThan(0);
        }
        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      {
        numRuns: 250,
        // one body of each answer always runs (the random ones may miss one): records, an empty body, an oversize one
        examples: [
          [JSON.stringify([record(0)]), 'application/json'],
          ['', 'application/json'],
          ['x'.repeat(BODY_LIMIT + 1), 'application/json'],
        ],
      },
    );
    expect([...statuses].sort()).toEqual([200, 400, 413]);
    const ok = await post(JSON.stringify([record(1)]), 'application/json');
    expect(ok.json()).toMatchObject({ accepted: 1, rejected: [] });
  });

  it('refuses an oversize body with 413 BODY_TOO_LARGE and counts it, whatever its shape', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 * BODY_LIMIT }), contentType, async (extra, type) => {
        const before = await metricSum('meshward_http_errors_total', {
          server: 'collector',
          code: 'MW_ERR_BODY_TOO_LARGE',
        });
        const res = await post(Buffer.alloc(BODY_LIMIT + extra, 0x5b), type);
        expect(res.statusCode).toBe(413);
        expect(res.json().code).toBe('MW_ERR_BODY_TOO_LARGE');
        expect(
          await metricSum('meshward_http_errors_total', { server: 'collector', code: 'MW_ERR_BODY_TOO_LARGE' }),
        ).toBe(before + 1);
      }),
      { numRuns: 20 },
    );
  });

  it('rejects deeply nested bodies per record (MW_ERR_RECORD_INVALID into the DLQ), other records in the batch still accepted', async () => {
    const deepArray = `${'['.repeat(15_000)}${']'.repeat(15_000)}`;
    const deepObject = `${'{"a":'.repeat(3_000)}1${'}'.repeat(3_000)}`;
    const dlqBefore = dlq.length;
    const res = await post(`[${JSON.stringify(record(1))},${deepArray},${deepObject}]`, 'application/json');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      accepted: 1,
      rejected: [
        { index: 1, code: 'MW_ERR_RECORD_INVALID' },
        { index: 2, code: 'MW_ERR_RECORD_INVALID' },
      ],
    });
    await expect.poll(() => dlq.length - dlqBefore, { timeout: 2000, interval: 5 }).toBe(2);
  });

  /** one POST over the socket, the path as given (percent-encoding and all) */
  const send = (path: string, body: Buffer, headers: Record<string, string>) =>
    new Promise<{ status: number; json: { code?: string; accepted?: number } }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let json = {};
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // no JSON, no code: the property says so
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      });
      req.on('error', reject);
      req.end(body);
    });

  it('over a socket: any encoding, content type and path gets a catalogue answer below 500, refusals counted', async () => {
    const encoded = fc.constantFrom(
      'none',
      'gzip',
      'x-gzip',
      'deflate',
      'br',
      'gzip, gzip',
      'corrupt gzip',
      'truncated gzip',
      'gzip bomb',
    );
    const path = fc.constantFrom('/v1/records', '/v1/records?x=1', '/v1/records/', '/v1/records%ff', '/%E0%A4%A');
    await fc.assert(
      fc.asyncProperty(body, contentType, encoded, path, fc.boolean(), async (payload, type, encoding, url, signed) => {
        const raw = Buffer.from(payload);
        const headers: Record<string, string> = signed ? { ...auth } : {};
        if (type) headers['content-type'] = type;
        let sent = raw;
        if (encoding === 'gzip' || encoding === 'x-gzip') sent = gzipSync(raw);
        else if (encoding === 'deflate') sent = deflateSync(raw);
        else if (encoding === 'corrupt gzip') {
          sent = gzipSync(raw);
          sent[sent.length - 5] ^= 0xff;
        } else if (encoding === 'truncated gzip') sent = gzipSync(raw).subarray(0, 12);
        else if (encoding === 'gzip bomb') sent = gzipSync(Buffer.alloc(BODY_LIMIT * 16));
        if (encoding !== 'none') headers['content-encoding'] = encoding.includes(' gzip') ? 'gzip' : encoding;
        const before = new Map<string, number>();
        for (const code of CODES)
          before.set(code, await metricSum('meshward_http_errors_total', { server: 'collector', code }));
        const res = await send(url, sent, headers);
        expect(res.status, `${url} ${encoding} ${type}`).toBeLessThan(500);
        if (res.status >= 400) {
          const code = res.json.code as string;
          expect(CODES.has(code), `${url} ${encoding} ${type} -> ${res.status} ${JSON.stringify(res.json)}`).toBe(true);
          expect(await metricSum('meshward_http_errors_total', { server: 'collector', code })).toBe(
            (before.get(code) ?? 0) + 1,
          );
        }
      }),
      { seed: 20_260_101, numRuns: 200 },
    );
  });

  it('answers a path the router cannot decode, and one with no route, from the catalogue and counts them', async () => {
    for (const [path, status, code] of [
      ['/v1/records%ff', 400, 'MW_ERR_BAD_REQUEST'],
      ['/v1/records/', 404, 'MW_ERR_NOT_FOUND'],
    ] as const) {
      const before = await metricSum('meshward_http_errors_total', { server: 'collector', code });
      const res = await send(path, Buffer.from(JSON.stringify([record(1)])), {
        ...auth,
        'content-type': 'application/json',
      });
      expect(res.status, path).toBe(status);
      expect(res.json.code).toBe(code);
      expect(await metricSum('meshward_http_errors_total', { server: 'collector', code })).toBe(before + 1);
    }
  });
});
