import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IngestOrigin, IngestResult, RecordIngest } from '../../pipeline/collector/ingest.js';
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
      expect(ingest.origins[0]).toEqual({ receiver: 'idp', sensorId: 'idp-test' });
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

  it('malformed input gets a clear 400 (or 401/413) and a counter, never a crash', async () => {
    const auth = { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' };
    const before = await rejectedCount('MW_ERR_BAD_REQUEST');
    const notJson = await app.inject({ method: 'POST', url: '/v1/idp/events', headers: auth, payload: '{"event": ' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().code).toBe('MW_ERR_BAD_REQUEST');
    const badType = await app.inject({
      method: 'POST',
      url: '/v1/idp/events',
      headers: auth,
      payload: { events: [{ event: 'login.success' }, { event: 'teleport', token: 'secret-raw-token-xyz' }] },
    });
    expect(badType.statusCode).toBe(400);
    expect(badType.json().message).toMatch(/event 1\/event/);
    expect(badType.body).not.toContain('secret-raw-token-xyz');
    const extra = await app.inject({
      method: 'POST',
      url: '/v1/idp/events',
      headers: auth,
      payload: { event: 'logout', password: 'x' },
    });
    expect(extra.statusCode).toBe(400);
    const empty = await app.inject({ method: 'POST', url: '/v1/idp/events', headers: auth, payload: [] });
    expect(empty.statusCode).toBe(400);
    expect(await rejectedCount('MW_ERR_BAD_REQUEST')).toBe(before + 4);
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
