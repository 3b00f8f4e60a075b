import type { AddressInfo } from 'node:net';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollectorServer } from '../../pipeline/collector/collector-server.js';
import { type DeadLetter, createRecordIngest } from '../../pipeline/collector/record-ingest.js';
import { SensorAuth } from '../../pipeline/collector/sensor-auth.js';
import { capturedBus, postWithToken } from '../../test/harness/captured-bus.js';
import { ERRORS } from '../../pipeline/core/errors.js';
import { silentLogger } from '../../pipeline/core/logger.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';
import { metricSum, protoSnapshot } from '../../test/harness/metrics.js';
import { defaultIdpSensorConfig } from './config.js';
import { IDP_EVENT_TYPES } from './events.js';
import { idpSensorFactory } from './factory.js';
import { OIDC_PROVIDER_EVENT_NAMES } from './oidc-provider-events.js';

/**
 * Hostile webhook requests over a real socket, on the collector's server and into its own ingest: whatever the body, the webhook
 * answers 202 with every event accounted for (accepted, ignored or rejected, each rejection dead-lettered and
 * counted) or refuses the request with a catalogue code and a counter; never a 5xx. An event valid by its own
 * schema is recorded (or, an oidc-provider event of a name meshward does not record, ignored), whatever its strings.
 */

const KEY = 'test-token-hash-key-0123456789';
const TOKEN = 'webhook-token-0123456789abcdef';
const NOW = Date.now();
const SEED = 20_260_101;
const CODES = new Set(Object.values(ERRORS).map((e) => e.code));
const checkRecord = TypeCompiler.Compile(ApiCallRecordSchema);

/** Object.prototype's member names: strings a lookup table keyed by event text must not take for its own */
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype);

let app: FastifyInstance;
let url: string;
let got: { calls: ApiCallRecord[]; dlq: DeadLetter[] };
let settle: (calls: number, dlq: number) => Promise<void>;

beforeAll(async () => {
  const captured = await capturedBus({ maxBacklogPerPartition: 1_000_000 });
  const { bus } = captured;
  ({ got, settle } = captured);
  const ingest = createRecordIngest({ bus, logger: silentLogger });
  // mounted on the collector's server, as the collector mounts it
  app = createCollectorServer({
    ingest,
    auth: new SensorAuth([{ id: 's1', token: 'collector-sensor-token-0123' }]),
    logger: silentLogger,
    busHealthy: () => true,
  });
  await idpSensorFactory.create(
    {
      ...defaultIdpSensorConfig,
      sensor_id: 'idp-prop',
      token_hash_key: KEY,
      webhook_token: TOKEN,
      max_events: 20,
      body_limit: 64 * 1024,
    },
    { app, ingest, logger: silentLogger },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/idp/events`;
});
afterAll(async () => {
  await app?.close();
});

const post = (body: string | Uint8Array, contentType = 'application/json', token = TOKEN) =>
  postWithToken(url, body, contentType, token);

const webhookRejected = (code: string) => metricSum('meshward_idp_webhook_rejected_total', { idp: 'idp', code });
const httpErrors = (code: string) => metricSum('meshward_http_errors_total', { server: 'collector', code });
/** refusals counted so far, by code: by the webhook (per IdP) and by the server (meshward_http_errors_total) */
async function refusalsCounted() {
  const counted = { webhook: new Map<string, number>(), http: new Map<string, number>() };
  for (const code of CODES) {
    counted.webhook.set(code, await webhookRejected(code));
    counted.http.set(code, await httpErrors(code));
  }
  return counted;
}

const short = (max: number) => fc.oneof(fc.string({ maxLength: max }), fc.constantFrom(...PROTO_NAMES));
const oauthError = fc.oneof(
  fc.constantFrom('invalid_client', 'unauthorized_client', 'access_denied', 'invalid_grant', ...PROTO_NAMES),
  fc.string({ maxLength: 128 }),
);
const ts = fc.oneof(
  fc.integer({ min: 0, max: NOW }),
  fc.date({ min: new Date(0), max: new Date(NOW), noInvalidDate: true }).map((d) => d.toISOString()),
  // any text: one that is no RFC 3339 date-time from 1970 on is recorded at its time of receipt
  fc.string({ maxLength: 64 }),
);
const method = fc.stringMatching(/^[A-Za-z]{1,16}$/);

const genericEvent = fc.record(
  {
    event: fc.constantFrom(...IDP_EVENT_TYPES),
    ts,
    sub: short(256),
    client_id: short(256),
    session_id: short(256),
    token: fc.string({ maxLength: 200 }),
    ip: short(64),
    path: fc.string({ maxLength: 100 }).map((p) => `/${p}`),
    method,
    status: fc.integer({ min: 100, max: 599 }),
    error: oauthError,
    grant_type: short(256),
    duration_ms: fc.double({ min: 0, max: 86_400_000, noNaN: true }),
  },
  { requiredKeys: ['event'] },
);

const oidcEvent = fc.record(
  {
    source: fc.constant('oidc-provider' as const),
    name: fc.oneof(
      fc.constantFrom(...OIDC_PROVIDER_EVENT_NAMES),
      fc.constantFrom(...PROTO_NAMES),
      fc.string({ minLength: 1, maxLength: 128 }),
    ),
    ts: fc.integer({ min: 0, max: NOW }),
    account_id: short(256),
    client_id: short(256),
    sid: short(256),
    grant_type: fc.oneof(fc.constant('refresh_token'), short(256)),
    error: oauthError,
    status: fc.integer({ min: 100, max: 599 }),
    ip: short(64),
    path: fc.string({ maxLength: 100 }).map((p) => `/${p}`),
    method,
    duration_ms: fc.double({ min: 0, max: 86_400_000, noNaN: true }),
  },
  { requiredKeys: ['source', 'name'] },
);

/** an oidc-provider event meshward records: one whose name is one of its own, not inherited from Object */
const recorded = (e: object) =>
  !('source' in e) || OIDC_PROVIDER_EVENT_NAMES.includes((e as unknown as { name: string }).name);

describe('IdP webhook under hostile requests (property)', () => {
  it('records every event valid by its schema (ignoring oidc-provider names it does not record), whatever its strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(genericEvent, oidcEvent), { minLength: 1, maxLength: 20 }), async (events) => {
        const before = { calls: got.calls.length, dlq: got.dlq.length };
        const res = await post(JSON.stringify(events));
        const kept = events.filter(recorded).length;
        expect(res.status).toBe(202);
        expect(res.json).toEqual({ accepted: kept, ignored: events.length - kept, rejected: [] });
        await settle(before.calls + kept, before.dlq);
        for (const r of got.calls.slice(before.calls)) {
          expect(checkRecord.Check(r)).toBe(true);
          expect(r.status).toBeGreaterThanOrEqual(100);
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('accounts for every event of any body, or refuses it with a catalogue code and a counter; never a 5xx', async () => {
    const junk = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      genericEvent.map((e) => ({ ...e, extra: 1 })),
      genericEvent.map((e) => ({ ...e, ts: -1 })),
      oidcEvent.map((e) => ({ ...e, status: 'x' })),
    );
    const body = fc.oneof(
      fc.array(fc.oneof(genericEvent, oidcEvent, junk), { maxLength: 25 }).map((a) => JSON.stringify(a)),
      fc.array(fc.oneof(genericEvent, junk), { maxLength: 5 }).map((events) => JSON.stringify({ events })),
      junk.map((j) => JSON.stringify(j)),
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.constantFrom(
        '{"event": "logout", "__proto__": {"polluted": true}}',
        '[{"event": "logout", "constructor": {"prototype": {"polluted": true}}}]',
        `[${'['.repeat(20_000)}${']'.repeat(20_000)}]`,
        `{"events": [${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}]}`,
        '[]',
        '{"events": []}',
        'x'.repeat(70 * 1024),
        '\u0000',
      ),
    );
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', '');
    const proto = protoSnapshot();
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(body, contentType, fc.boolean(), async (payload, type, signed) => {
        const before = { calls: got.calls.length, dlq: got.dlq.length };
        const refusedBefore = await refusalsCounted();
        const res = await post(payload, type, signed ? TOKEN : 'not-the-webhook-token-000');
        statuses.add(res.status);
        expect(res.status).toBeLessThan(500);
        if (res.status === 202) {
          const { accepted, ignored, rejected } = res.json as {
            accepted: number;
            ignored: number;
            rejected: { index: number; code: string }[];
          };
          for (const r of rejected) expect(['MW_ERR_RECORD_INVALID', 'MW_ERR_RECORD_PARSE']).toContain(r.code);
          await settle(before.calls + accepted, before.dlq + rejected.length);
          let count = 1;
          const text = Buffer.from(payload).toString('utf8');
          try {
            const parsed = JSON.parse(text) as unknown;
            count = Array.isArray(parsed) ? parsed.length : ((parsed as { events?: unknown[] })?.events?.length ?? 1);
          } catch {
            // not JSON: one item, dead-lettered whole
          }
          expect(accepted + ignored + rejected.length).toBe(count);
        } else {
          const code = res.json.code as string;
          expect(CODES.has(code), JSON.stringify(res.json)).toBe(true);
          expect(res.json).toEqual({ code, message: expect.any(String) });
          // counted once by the webhook, by IdP, and once by the server it is on, as all of its refusals are
          expect(await webhookRejected(code), `${code} by the webhook`).toBe(refusedBefore.webhook.get(code)! + 1);
          expect(await httpErrors(code), `${code} by the server`).toBe(refusedBefore.http.get(code)! + 1);
          await settle(before.calls, before.dlq);
        }
        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { seed: SEED, numRuns: 250 },
    );
    expect([...statuses].sort()).toEqual([202, 400, 401, 413]);
  });

  it('ignores an oidc-provider event named after an Object.prototype member, and records the rest of its batch', async () => {
    const before = got.calls.length;
    const res = await post(
      JSON.stringify([
        { source: 'oidc-provider', name: 'constructor' },
        { source: 'oidc-provider', name: 'toString' },
        { source: 'oidc-provider', name: '__proto__' },
        { event: 'login.success', sub: 'alice' },
      ]),
    );
    expect(res).toEqual({ status: 202, json: { accepted: 1, ignored: 3, rejected: [] } });
    await settle(before + 1, got.dlq.length);
    expect(got.calls[before].user?.sub).toBe('alice');
  });

  it('records a failure whose OAuth error is an Object.prototype member name with status 400', async () => {
    const before = got.calls.length;
    const res = await post(
      JSON.stringify([
        { event: 'login.failure', error: 'constructor' },
        { event: 'token.failure', error: 'toString' },
        { event: 'token.failure', error: 'invalid_client' },
      ]),
    );
    expect(res).toEqual({ status: 202, json: { accepted: 3, ignored: 0, rejected: [] } });
    await settle(before + 3, got.dlq.length);
    expect(got.calls.slice(before).map((r) => [r.tags?.idp_error, r.status])).toEqual([
      ['constructor', 400],
      ['toString', 400],
      ['invalid_client', 401],
    ]);
  });

  it('rejects an event with a prototype key by itself, dead-lettered as it came, and records the rest of its batch', async () => {
    const before = { calls: got.calls.length, dlq: got.dlq.length };
    const proto = protoSnapshot();
    const res = await post(
      '[{"event":"logout","__proto__":{"polluted":true}},{"event":"logout","constructor":{"prototype":{"polluted":true}}},{"event":"logout","sub":"carol"}]',
    );
    expect(res).toEqual({
      status: 202,
      json: {
        accepted: 1,
        ignored: 0,
        rejected: [
          { index: 0, code: 'MW_ERR_RECORD_INVALID', reason: '/__proto__: Unexpected property' },
          { index: 1, code: 'MW_ERR_RECORD_INVALID', reason: '/constructor: Unexpected property' },
        ],
      },
    });
    await settle(before.calls + 1, before.dlq + 2);
    expect(got.calls[before.calls].user?.sub).toBe('carol');
    expect(got.dlq.slice(before.dlq).map((d) => d.raw)).toEqual([
      '{"event":"logout","__proto__":{"polluted":true}}',
      '{"event":"logout","constructor":{"prototype":{"polluted":true}}}',
    ]);
    expect(protoSnapshot()).toBe(proto);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("counts a request it refuses as a whole once by IdP and once as the collector's HTTP error", async () => {
    const refusals: [body: string, token: string, status: number, code: string][] = [
      ['{"event":"logout"}', 'not-the-webhook-token-000', 401, 'MW_ERR_UNAUTHENTICATED'],
      ['[]', TOKEN, 400, 'MW_ERR_BAD_REQUEST'],
      [JSON.stringify(Array.from({ length: 21 }, () => ({ event: 'logout' }))), TOKEN, 413, 'MW_ERR_BATCH_TOO_LARGE'],
      [JSON.stringify({ event: 'logout', sub: 'x'.repeat(65 * 1024) }), TOKEN, 413, 'MW_ERR_BODY_TOO_LARGE'],
    ];
    for (const [body, token, status, code] of refusals) {
      const before = { webhook: await webhookRejected(code), http: await httpErrors(code) };
      expect(await post(body, 'application/json', token)).toEqual({
        status,
        json: { code, message: expect.any(String) },
      });
      expect(await webhookRejected(code), code).toBe(before.webhook + 1);
      expect(await httpErrors(code), code).toBe(before.http + 1);
    }
  });
});
