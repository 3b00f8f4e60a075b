import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IngestOrigin, IngestResult, RecordIngest } from '../../pipeline/collector/ingest.js';
import { createRecordIngest } from '../../pipeline/collector/record-ingest.js';
import { capturedBus } from '../../test/harness/captured-bus.js';
import { silentLogger } from '../../pipeline/core/logger.js';
import { registry } from '../../pipeline/core/metrics.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';
import { type OidcProviderHarness, startOidcProvider } from '../../test/harness/oidc-provider.js';
import { tokenHash } from '../common/token-hash.js';
import { defaultIdpSensorConfig } from './config.js';
import { idpSensorFactory } from './factory.js';
import { bridgeOidcProvider } from './oidc-provider-bridge.js';

const KEY = 'test-token-hash-key-0123456789';
const WEBHOOK_TOKEN = 'webhook-token-0123456789abcdef';

/** records as the collector would receive them; each is checked against the record schema */
class CapturingIngest implements RecordIngest {
  records: ApiCallRecord[] = [];
  origins: IngestOrigin[] = [];
  async ingest(items: unknown[], origin: IngestOrigin): Promise<IngestResult> {
    for (const item of items) {
      if (!Value.Check(ApiCallRecordSchema, item)) throw new Error(`invalid record: ${JSON.stringify(item)}`);
      this.records.push(item);
      this.origins.push(origin);
    }
    return { accepted: items.length, ids: (items as ApiCallRecord[]).map((r) => r.id), rejected: [] };
  }
}

async function rejectedCount(code: string): Promise<number> {
  const m = (await registry.getSingleMetric('meshward_idp_webhook_rejected_total')?.get())?.values ?? [];
  return m.filter((v) => v.labels.code === code).reduce((a, v) => a + v.value, 0);
}

async function invalidCount(code: string): Promise<number> {
  const m = (await registry.getSingleMetric('meshward_idp_events_invalid_total')?.get())?.values ?? [];
  return m.filter((v) => v.labels.code === code).reduce((a, v) => a + v.value, 0);
}

async function tsReplacedCount(): Promise<number> {
  const m = (await registry.getSingleMetric('meshward_idp_events_ts_replaced_total')?.get())?.values ?? [];
  return m.reduce((a, v) => a + v.value, 0);
}

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('IdP callback sensor', () => {
  let app: FastifyInstance;
  let ingest: CapturingIngest;
  let url: string;

  beforeAll(async () => {
    ingest = new CapturingIngest();
    app = Fastify();
    await idpSensorFactory.create(
      {
        ...defaultIdpSensorConfig,
        idp_name: 'acme-idp',
        sensor_id: 'idp-test',
        token_hash_key: KEY,
        webhook_token: WEBHOOK_TOKEN,
        max_events: 10,
        body_limit: 8192,
      },
      { app, ingest, logger: silentLogger },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/idp/events`;
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    ingest.records = [];
    ingest.origins = [];
  });

  describe('events from a real oidc-provider through the bridge', () => {
    let idp: OidcProviderHarness;
    let bridge: ReturnType<typeof bridgeOidcProvider>;
    beforeAll(async () => {
      idp = await startOidcProvider();
      bridge = bridgeOidcProvider(idp.provider, { url, token: WEBHOOK_TOKEN, tokenHashKey: KEY, flushMs: 20 });
    });
    afterAll(async () => {
      await bridge.close();
      await idp.stop();
    });

    it('a client_credentials grant becomes a successful token.issued record with the token hashed', async () => {
      const res = await idp.clientCredentials({ scope: 'api:read' });
      expect(res.status).toBe(200);
      const token = res.body.access_token as string;
      await bridge.flush();
      await until(() => ingest.records.length >= 1);
      const [r] = ingest.records;
      expect(r).toMatchObject({
        sensor: { kind: 'idp', id: 'idp-test' },
        service: 'acme-idp',
        method: 'POST',
        path: '/token',
        status: 200,
        source: { ip: expect.stringMatching(/127\.0\.0\.1/) },
        user: { clientId: idp.clientId, authOutcome: 'success', tokenHash: tokenHash(KEY, token) },
        tags: { idp_event: 'token.issued', grant_type: 'client_credentials' },
      });
      expect(ingest.origins[0]).toEqual({ receiver: 'idp', key: 'idp', sensorId: 'idp-test' });
      expect(JSON.stringify(ingest.records)).not.toContain(token);
    });

    it('a grant with a wrong client secret becomes a failed record naming the client, never the secret', async () => {
      const res = await idp.clientCredentials({ clientSecret: 'definitely-wrong-secret' });
      expect(res.status).toBe(401);
      await bridge.flush();
      await until(() => ingest.records.length >= 1);
      const [r] = ingest.records;
      expect(r).toMatchObject({
        path: '/token',
        status: 401,
        user: { clientId: idp.clientId, authOutcome: 'failure' },
        tags: { idp_event: 'token.failure', idp_error: 'invalid_client', grant_type: 'client_credentials' },
      });
      expect(r.user?.tokenHash).toBeUndefined();
      expect(JSON.stringify(r)).not.toContain('definitely-wrong-secret');
    });

    it('a revocation becomes token.revoked with the revoked token hash', async () => {
      const token = await idp.issueAccessToken('alice');
      const res = await fetch(idp.endpoints.revocation, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${idp.clientId}:${idp.clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      });
      expect(res.status).toBe(200);
      await bridge.flush();
      await until(() => ingest.records.length >= 1);
      expect(ingest.records[0]).toMatchObject({
        path: '/token/revocation',
        status: 200,
        user: { clientId: idp.clientId, authOutcome: 'success', tokenHash: tokenHash(KEY, token) },
        tags: { idp_event: 'token.revoked' },
      });
      expect(ingest.records[0].durationMs).toBeGreaterThanOrEqual(0);
    });
  });

  it('accepts generic events: raw tokens are replaced by their keyed hash, ISO timestamps parsed', async () => {
    const events = JSON.parse(readFileSync(join(import.meta.dirname, 'testdata/generic-events.json'), 'utf8'));
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 4, ignored: 0, rejected: [] });
    const [login, failure, refresh, logout] = ingest.records;
    expect(login).toMatchObject({
      ts: Date.parse('2026-01-05T10:00:00.000Z'),
      durationMs: 84,
      path: '/login',
      status: 200,
      user: { sub: 'alice', clientId: 'web', sessionId: 's-1', authOutcome: 'success' },
    });
    expect(failure).toMatchObject({ ts: 1767607201000, status: 403, user: { authOutcome: 'failure' } });
    expect(refresh.user?.tokenHash).toBe(tokenHash(KEY, 'raw-refresh-token-value-123'));
    expect(refresh.tags?.idp_event).toBe('token.refreshed');
    expect(logout).toMatchObject({ path: '/session/end', user: { authOutcome: 'none' } });
    expect(JSON.stringify(ingest.records)).not.toContain('raw-refresh-token-value-123');
  });

  it('ignores oidc-provider events it does not record, and counts them', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/idp/events',
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
      payload: [
        { source: 'oidc-provider', name: 'jwks.error' },
        { source: 'oidc-provider', name: 'end_session.success', account_id: 'bob' },
      ],
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 1, ignored: 1 });
    expect(ingest.records[0]).toMatchObject({ user: { sub: 'bob' }, tags: { idp_event: 'logout' } });
  });

  it('a request it cannot take as a whole gets a clear 400 / 401 / 413 and a counter, never a crash', async () => {
    const auth = { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' };
    const before = await rejectedCount('MW_ERR_BAD_REQUEST');
    const empty = await app.inject({ method: 'POST', url: '/v1/idp/events', headers: auth, payload: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().code).toBe('MW_ERR_BAD_REQUEST');
    const notJson = await app.inject({
      method: 'POST',
      url: '/v1/idp/events',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: '{"event": "logout"}',
    });
    expect(notJson.statusCode).toBe(400);
    expect(await rejectedCount('MW_ERR_BAD_REQUEST')).toBe(before + 2);
    expect(ingest.records).toEqual([]);

    const many = await app.inject({
      method: 'POST',
      url: '/v1/idp/events',
      headers: auth,
      payload: Array(11).fill({ event: 'logout' }),
    });
    expect(many.statusCode).toBe(413);
    const big = await app.inject({
      method: 'POST',
      url: '/v1/idp/events',
      headers: auth,
      payload: { event: 'logout', sub: 'x'.repeat(9000) },
    });
    expect(big.statusCode).toBe(413);
    const noAuth = await app.inject({ method: 'POST', url: '/v1/idp/events', payload: { event: 'logout' } });
    expect(noAuth.statusCode).toBe(401);
    const wrongAuth = await app.inject({
      method: 'POST',
      url: '/v1/idp/events',
      headers: { authorization: 'Bearer nope' },
      payload: { event: 'logout' },
    });
    expect(wrongAuth.statusCode).toBe(401);
    // still serving
    const ok = await app.inject({ method: 'POST', url: '/v1/idp/events', headers: auth, payload: { event: 'logout' } });
    expect(ok.statusCode).toBe(202);
  });
});

describe('IdP callback sensor: invalid events, as the collector takes invalid records', () => {
  /** the webhook in front of the collector's own ingest over an in-process bus */
  async function webhook() {
    const { bus, got } = await capturedBus();
    const a = Fastify();
    await idpSensorFactory.create(
      { ...defaultIdpSensorConfig, sensor_id: 'idp-dlq', token_hash_key: KEY },
      { app: a, ingest: createRecordIngest({ bus, logger: silentLogger }), logger: silentLogger },
    );
    const post = (payload: string) =>
      a.inject({ method: 'POST', url: '/v1/idp/events', headers: { 'content-type': 'application/json' }, payload });
    return { a, got, post };
  }
  const settle = () => new Promise((r) => setTimeout(r, 30));

  it('accepts the valid events of a batch and dead-letters the invalid ones with their reason, counted', async () => {
    const { a, got, post } = await webhook();
    const before = await invalidCount('MW_ERR_RECORD_INVALID');
    const res = await post(
      JSON.stringify([
        { source: 'oidc-provider', name: 'jwks.error' },
        { event: 'login.success', sub: 'a' },
        { event: 'login.success', extra: 1 },
        { event: 'teleport', token: 'secret-raw-token-xyz' },
        { event: 'logout', sub: 'b' },
      ]),
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      accepted: 2,
      ignored: 1,
      rejected: [
        { index: 2, code: 'MW_ERR_RECORD_INVALID', reason: '/extra: Unexpected property' },
        { index: 3, code: 'MW_ERR_RECORD_INVALID', reason: expect.stringMatching(/^\/event: /) },
      ],
    });
    expect(res.body).not.toContain('secret-raw-token-xyz');
    await settle();
    expect(got.calls.map((r) => r.user?.sub)).toEqual(['a', 'b']);
    expect(got.dlq.map((d) => [d.receiver, d.sensorId, d.code, d.reason])).toEqual([
      ['idp', 'idp-dlq', 'MW_ERR_RECORD_INVALID', '/extra: Unexpected property'],
      ['idp', 'idp-dlq', 'MW_ERR_RECORD_INVALID', expect.stringMatching(/^\/event: /)],
    ]);
    expect(JSON.parse(got.dlq[0].raw)).toEqual({ event: 'login.success', extra: 1 });
    expect(JSON.parse(got.dlq[1].raw)).toEqual({ event: 'teleport', token: '[redacted]' });
    expect(JSON.stringify(got.dlq)).not.toContain('secret-raw-token-xyz');
    expect(await invalidCount('MW_ERR_RECORD_INVALID')).toBe(before + 2);
    await a.close();
  });

  it('dead-letters a body that is not JSON, with credential-looking spans redacted, and answers what it rejected', async () => {
    const { a, got, post } = await webhook();
    const before = await invalidCount('MW_ERR_RECORD_PARSE');
    const res = await post('{"event": "token.issued", "token": "raw-token-abc123", "sub": ');
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      accepted: 0,
      ignored: 0,
      rejected: [{ index: 0, code: 'MW_ERR_RECORD_PARSE', reason: expect.stringMatching(/^not valid JSON/) }],
    });
    await settle();
    expect(got.calls).toEqual([]);
    expect(got.dlq).toHaveLength(1);
    expect(got.dlq[0]).toMatchObject({ receiver: 'idp', code: 'MW_ERR_RECORD_PARSE', scrubbed: 1 });
    expect(got.dlq[0].raw).toBe('{"event": "token.issued", "token": "[redacted]", "sub": ');
    expect(await invalidCount('MW_ERR_RECORD_PARSE')).toBe(before + 1);
    await a.close();
  });

  it('records an event whose ts string is no RFC 3339 date-time from 1970 on at its time of receipt, counted', async () => {
    const { a, got, post } = await webhook();
    const before = await tsReplacedCount();
    // V8's Date.parse reads the first four as 1950, 1 AD, March 1st and 1950, the fifth as a date without a zone
    const junk = ['50', 'x 1', '2024-02-30T00:00:00Z', '1950-01-01T00:00:00Z', 'Jan 5 2026', '2026-01-05', 'now'];
    const sent = Date.now();
    const res = await post(
      JSON.stringify([
        ...junk.map((ts, i) => ({ event: 'login.success', sub: `j${i}`, ts })),
        { event: 'logout', sub: 'offset', ts: '2026-01-05T11:00:00.123456+01:00' },
        { event: 'logout', sub: 'leap', ts: '2016-12-31T23:59:60Z' },
      ]),
    );
    const answered = Date.now();
    expect(res.json()).toEqual({ accepted: junk.length + 2, ignored: 0, rejected: [] });
    await settle();
    expect(got.dlq).toEqual([]);
    const bySub = Object.fromEntries(got.calls.map((r) => [r.user?.sub, r.ts]));
    for (const i of junk.keys()) {
      expect(bySub[`j${i}`]).toBeGreaterThanOrEqual(sent);
      expect(bySub[`j${i}`]).toBeLessThanOrEqual(answered);
    }
    expect(bySub.offset).toBe(Date.parse('2026-01-05T10:00:00.123Z'));
    expect(bySub.leap).toBe(Date.parse('2017-01-01T00:00:00Z'));
    expect(await tsReplacedCount()).toBe(before + junk.length);
    await a.close();
  });
});
