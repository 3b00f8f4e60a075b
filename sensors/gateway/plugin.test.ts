import { mkdtempSync, writeFileSync } from 'node:fs';
import { type Server, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import Fastify, { type FastifyInstance } from 'fastify';
import { type CryptoKey, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { splitBody } from '../../pipeline/collector/collector-server.js';
import type { Decision } from '../../pipeline/core/decision.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';
import type { RecordSink } from '../common/batching-shipper.js';
import { metricSum } from '../../test/harness/metrics.js';
import { REDACTED } from '../common/redact.js';
import { tokenHash } from '../common/token-hash.js';
import { DecisionView } from './decision-view.js';
import { meshwardSensor } from './plugin.js';

const recordCheck = TypeCompiler.Compile(ApiCallRecordSchema);
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const KEY = 'test-token-hash-key-0123';

/** a stand-in collector over real HTTP: keeps the records that arrive at POST /v1/records */
let collector: Server;
let collectorUrl: string;
const received: ApiCallRecord[] = [];
const auths: (string | undefined)[] = [];

let signKey: CryptoKey;
let wrongKey: CryptoKey;
let jwksServer: Server;
let jwksUrl: string;

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      // the collector's own decoding of the body (the sensor sends rows)
      const batch = splitBody(Buffer.concat(chunks), String(req.headers['content-type'])) as ApiCallRecord[];
      received.push(...batch);
      auths.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: batch.length, rejected: [] }));
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;

  const kp = await generateKeyPair('ES256');
  signKey = kp.privateKey;
  wrongKey = (await generateKeyPair('ES256')).privateKey;
  const jwk = { ...(await exportJWK(kp.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
});
afterAll(async () => {
  await new Promise((r) => collector.close(r));
  await new Promise((r) => jwksServer.close(r));
});

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  received.length = 0;
  auths.length = 0;
});

const jwt = (claims: Record<string, unknown>, key: CryptoKey = signKey) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().setExpirationTime('5m').sign(key);

async function app(config: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<FastifyInstance> {
  const a = Fastify();
  apps.push(a);
  await a.register(meshwardSensor, {
    config: {
      token_hash_key: KEY,
      shipper: { collector_url: collectorUrl, token: 'sensor-tok', flush_interval_ms: 10 },
      ...config,
    },
    ...extra,
  });
  a.get('/orders/:id', async (req) => ({ id: (req.params as { id: string }).id, items: [1, 2, 3] }));
  a.post('/orders', async (_req, reply) => reply.code(201).send({ ok: true }));
  a.get('/healthz', async () => 'ok');
  return a;
}

const decision = (over: Partial<Decision>): Decision => ({
  v: 1,
  id: `d-${Math.random().toString(36).slice(2)}`,
  type: 'deny',
  scope: 'user',
  value: 'mallory',
  until: Date.now() + 60_000,
  reason: 'test',
  simulated: false,
  state: 'active',
  createdAt: Date.now(),
  updatedAt: Date.now(),
  ...over,
});

const until = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** a sink that keeps records in memory, for tests about enforcement */
const memorySink = (): RecordSink & { records: ApiCallRecord[] } => {
  const records: ApiCallRecord[] = [];
  return {
    records,
    push: (r) => {
      records.push(r);
      return true;
    },
  };
};

describe('meshward fastify sensor: recording', () => {
  it('ships one valid record per request to the collector, with hashed token, user, trace and redacted params', async () => {
    const a = await app({ service: 'orders', query_params: ['expand', 'api_key', 'sig'], region: 'eu-1' });
    const token = await jwt({ sub: 'alice' });
    const res = await a.inject({
      method: 'GET',
      url: '/orders/42?expand=items&api_key=abc&sig=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b&other=1',
      headers: {
        host: 'orders.example:8443',
        authorization: `Bearer ${token}`,
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      remoteAddress: '10.1.2.3',
    });
    expect(res.statusCode).toBe(200);
    await until(() => received.length === 1);
    const r = received[0];
    expect(recordCheck.Check(r)).toBe(true);
    expect(r).toMatchObject({
      v: 1,
      service: 'orders',
      sensor: { kind: 'fastify', id: 'fastify-gateway' },
      method: 'GET',
      host: 'orders.example:8443',
      path: '/orders/42?expand=items&api_key=abc&sig=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b&other=1',
      route: '/orders/:id',
      status: 200,
      reqBytes: 0,
      respBytes: res.body.length,
      source: { ip: '10.1.2.3' },
      user: { sub: 'alice', tokenHash: tokenHash(KEY, token), authOutcome: 'success' },
      trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b7' },
      params: { expand: 'items', api_key: REDACTED, sig: REDACTED },
      region: 'eu-1',
    });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(r.ts - Date.now())).toBeLessThan(10_000);
    expect(JSON.stringify(r)).not.toContain(token);
    expect(auths).toEqual(['Bearer sensor-tok']);
  });

  it('records unrouted requests without a route, bodies by content-length, and the host as service by default', async () => {
    const a = await app({});
    await a.inject({ method: 'GET', url: '/nope', headers: { host: 'api.example' } });
    await a.inject({
      method: 'POST',
      url: '/orders',
      headers: { host: 'api.example' },
      payload: { a: 'x'.repeat(100) },
    });
    await until(() => received.length === 2);
    const [notFound, created] = received;
    expect(notFound).toMatchObject({ status: 404, path: '/nope', service: 'api.example' });
    expect(notFound.route).toBeUndefined();
    expect(notFound.user).toBeUndefined();
    expect(created).toMatchObject({
      status: 201,
      method: 'POST',
      route: '/orders',
      reqBytes: JSON.stringify({ a: 'x'.repeat(100) }).length,
    });
    for (const r of received) expect(recordCheck.Check(r)).toBe(true);
  });

  it('labels the user from a request property set by the app auth, or from a header', async () => {
    const a = await app({ user: { from: 'request_property', property: 'auth.user.name' } });
    a.addHook('preHandler', async (req) => {
      (req as unknown as { auth: unknown }).auth = { user: { name: 'bob' } };
    });
    await a.inject({ method: 'GET', url: '/orders/1' });
    const b = await app({ user: { from: 'header', header: 'X-Authenticated-User' } });
    await b.inject({ method: 'GET', url: '/orders/2', headers: { 'x-authenticated-user': 'carol' } });
    await until(() => received.length === 2);
    const byPath = Object.fromEntries(received.map((r) => [r.path, r]));
    expect(byPath['/orders/1'].user).toEqual({ sub: 'bob', authOutcome: 'none' });
    expect(byPath['/orders/2'].user).toEqual({ sub: 'carol', authOutcome: 'none' });
  });

  it('skips ignored routes and hashes opaque (non-JWT) tokens without a user', async () => {
    const a = await app({ ignore_routes: ['/healthz'] });
    await a.inject({ method: 'GET', url: '/healthz' });
    await a.inject({ method: 'GET', url: '/orders/7', headers: { authorization: 'Bearer opaque-token-123' } });
    await until(() => received.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(1);
    expect(received[0].user).toEqual({ tokenHash: tokenHash(KEY, 'opaque-token-123'), authOutcome: 'success' });
  });

  it('answers requests normally while the collector is down, dropping and counting records', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    // the plugin's own shipper (rows on the wire), against a port nobody listens on
    const a = Fastify();
    await a.register(meshwardSensor, {
      config: {
        sensor_id: 'gw-down',
        token_hash_key: KEY,
        shipper: {
          collector_url: `http://127.0.0.1:${deadPort}`,
          token: 't',
          max_buffer: 5,
          batch_size: 2,
          flush_interval_ms: 10,
          max_in_flight: 1,
          timeout_ms: 500,
          backoff_ms: 10,
          max_backoff_ms: 50,
        },
      },
    });
    a.get('/x', async () => ({ ok: true }));
    for (let i = 0; i < 20; i++) expect((await a.inject({ method: 'GET', url: '/x' })).statusCode).toBe(200);
    await a.close();
    expect(await metricSum('meshward_sensor_dropped_total', { sensor: 'gw-down' })).toBe(20);
    expect(await metricSum('meshward_sensor_accepted_total', { sensor: 'gw-down' })).toBe(0);
  });

  it('records a request the client aborted when record_aborted is on: status 499, tagged, timed until the abort', async () => {
    for (const recordAborted of [true, false]) {
      const sensorId = `gw-abort-${recordAborted}`;
      const a = await app({ sensor_id: sensorId, record_aborted: recordAborted });
      // answers only once the client has gone (or after 3 s), so the abort always comes first
      a.get('/slow', async (req) => {
        await new Promise((r) => {
          req.raw.once('close', r);
          setTimeout(r, 3000).unref();
        });
        return { ok: true };
      });
      await a.listen({ port: 0, host: '127.0.0.1' });
      const port = (a.server.address() as AddressInfo).port;
      await new Promise<void>((resolve) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/slow', headers: { traceparent: TRACEPARENT } });
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 60);
      });
      // the handler then answers into a closed socket; the shipper flushes every 10 ms
      await new Promise((r) => setTimeout(r, 200));
      expect((await a.inject({ method: 'GET', url: '/orders/1' })).statusCode).toBe(200);
      await until(() => received.some((r) => r.sensor.id === sensorId && r.route === '/orders/:id'));
      const slow = received.filter((r) => r.sensor.id === sensorId && r.route === '/slow');
      if (!recordAborted) {
        expect(slow).toEqual([]);
        continue;
      }
      expect(slow).toHaveLength(1);
      expect(slow[0]).toMatchObject({ status: 499, respBytes: 0, tags: { aborted: 'client' }, method: 'GET' });
      expect(slow[0].trace?.traceId).toBe(TRACEPARENT.split('-')[1]);
      // timed until the abort (the client leaves 60 ms after sending), not until the handler's 3 s answer; no lower
      // bound tighter than > 0: on a loaded machine the request reaches the server late in those 60 ms (38 ms seen)
      expect(slow[0].durationMs).toBeGreaterThan(0);
      expect(slow[0].durationMs).toBeLessThan(3000);
      expect(recordCheck.Check(slow[0])).toBe(true);
    }
  });

  it('refuses an invalid config at registration with a clear error', async () => {
    const a = Fastify();
    apps.push(a);
    await expect(
      a.register(meshwardSensor, { config: { query_params: 'expand' }, sink: memorySink() }),
    ).rejects.toThrow(/MW_ERR|configuration is invalid: .*query_params/);
  });

  it('has no built-in token hash key: refuses a config without one, reads token_hash_key_file', async () => {
    const a = Fastify();
    apps.push(a);
    await expect(a.register(meshwardSensor, { config: {}, sink: memorySink() })).rejects.toMatchObject({
      code: 'MW_ERR_CONFIG_INVALID',
      message: expect.stringMatching(/meshward fastify sensor: token_hash_key_file \(or token_hash_key\) is required/),
    });

    const file = join(mkdtempSync(join(tmpdir(), 'meshward-gw-')), 'token-hash-key');
    writeFileSync(file, `${KEY}\n`);
    const sink = memorySink();
    const b = Fastify();
    apps.push(b);
    await b.register(meshwardSensor, { config: { token_hash_key_file: file }, sink });
    b.get('/x', async () => 'x');
    await b.inject({ url: '/x', headers: { authorization: 'Bearer opaque-token-123' } });
    expect(sink.records[0].user?.tokenHash).toBe(tokenHash(KEY, 'opaque-token-123'));
  });
});

describe('meshward fastify sensor: enforcement', () => {
  it('follows the analyst API decision feed (NDJSON over HTTP) with the real feed client', async () => {
    const d = decision({ scope: 'ip', value: '192.0.2.77' });
    let feedAuth: string | undefined;
    let feedUrl: string | undefined;
    const feed = createServer((req, res) => {
      feedAuth = req.headers.authorization;
      feedUrl = req.url;
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ type: 'upsert', decision: d })}\n${JSON.stringify({ type: 'sync' })}\n`);
      setTimeout(() => res.write(`${JSON.stringify({ type: 'remove', id: d.id })}\n`), 300);
    });
    await new Promise<void>((r) => feed.listen(0, '127.0.0.1', r));
    try {
      const port = (feed.address() as AddressInfo).port;
      const a = await app(
        {
          enforce: {
            enabled: true,
            decisions_url: `http://127.0.0.1:${port}/v1/decisions/stream`,
            decisions_token: 'feed-tok',
          },
        },
        { sink: memorySink() },
      );
      const status = async () => (await a.inject({ url: '/orders/1', remoteAddress: '192.0.2.77' })).statusCode;
      await until(() => feedUrl !== undefined);
      const seen: number[] = [];
      const end = Date.now() + 5_000;
      while (Date.now() < end && !(seen.includes(403) && seen.at(-1) === 200)) {
        seen.push(await status());
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toContain(403);
      expect(seen.at(-1)).toBe(200);
      expect(feedAuth).toBe('Bearer feed-tok');
      expect(feedUrl).toBe('/v1/decisions/stream?startup=true');
    } finally {
      feed.closeAllConnections();
      await new Promise((r) => feed.close(r));
    }
  });

  it('denies by token hash, user and ip with 403, and records the enforced decision', async () => {
    const view = new DecisionView();
    const sink = memorySink();
    const a = await app({ enforce: { enabled: true } }, { decisions: view, sink });
    const evil = await jwt({ sub: 'mallory' });
    const good = await jwt({ sub: 'alice' });
    expect((await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${evil}` } })).statusCode).toBe(200);

    const byUser = decision({ scope: 'user', value: 'mallory' });
    view.onUpsert(byUser);
    const denied = await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${evil}` } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'MW_ERR_FORBIDDEN', details: { decision: byUser.id } });
    expect((await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${good}` } })).statusCode).toBe(200);
    view.onRemove(byUser.id);
    expect((await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${evil}` } })).statusCode).toBe(200);

    view.onUpsert(decision({ scope: 'token', value: tokenHash(KEY, good) }));
    expect((await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${good}` } })).statusCode).toBe(403);

    view.onUpsert(decision({ scope: 'ip', value: '203.0.113.9' }));
    expect((await a.inject({ url: '/orders/1', remoteAddress: '203.0.113.9' })).statusCode).toBe(403);
    expect((await a.inject({ url: '/orders/1', remoteAddress: '203.0.113.10' })).statusCode).toBe(200);

    const enforced = sink.records.filter((r) => r.status === 403);
    expect(enforced).toHaveLength(3);
    expect(enforced[0].tags).toEqual({ meshward_decision: byUser.id, meshward_action: 'deny' });
    for (const r of sink.records) expect(recordCheck.Check(r)).toBe(true);
  });

  it('honours route and service restrictions, and ignores simulated, expired and non-active decisions', async () => {
    const view = new DecisionView();
    const a = await app({ service: 'orders', enforce: { enabled: true } }, { decisions: view, sink: memorySink() });
    view.onUpsert(decision({ scope: 'ip', value: '198.51.100.1', route: 'POST /orders' }));
    view.onUpsert(decision({ scope: 'ip', value: '198.51.100.2', service: 'payments' }));
    view.onUpsert(decision({ scope: 'ip', value: '198.51.100.3', simulated: true }));
    view.onUpsert(decision({ scope: 'ip', value: '198.51.100.4', until: Date.now() - 1 }));
    view.onUpsert(decision({ scope: 'ip', value: '198.51.100.5', state: 'pending_approval' }));
    view.onUpsert(decision({ scope: 'route', value: 'GET /healthz' }));
    const status = async (method: 'GET' | 'POST', url: string, ip: string) =>
      (await a.inject({ method, url, remoteAddress: ip, ...(method === 'POST' ? { payload: {} } : {}) })).statusCode;
    expect(await status('POST', '/orders', '198.51.100.1')).toBe(403);
    expect(await status('GET', '/orders/1', '198.51.100.1')).toBe(200);
    expect(await status('GET', '/orders/1', '198.51.100.2')).toBe(200);
    expect(await status('GET', '/orders/1', '198.51.100.3')).toBe(200);
    expect(await status('GET', '/orders/1', '198.51.100.4')).toBe(200);
    expect(await status('GET', '/orders/1', '198.51.100.5')).toBe(200);
    expect(await status('GET', '/healthz', '192.0.2.1')).toBe(403);
  });

  it('step_up: 401 with an RFC 9470 challenge until a verified token carries the required acr', async () => {
    const view = new DecisionView();
    const a = await app({ enforce: { enabled: true, jwks_url: jwksUrl } }, { decisions: view, sink: memorySink() });
    view.onUpsert(decision({ type: 'step_up', scope: 'user', value: 'alice', acr: 'urn:mfa' }));
    const weak = await jwt({ sub: 'alice', acr: 'urn:pwd' });
    const strong = await jwt({ sub: 'alice', acr: 'urn:mfa' });
    const forged = await jwt({ sub: 'alice', acr: 'urn:mfa' }, wrongKey);

    const r1 = await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${weak}` } });
    expect(r1.statusCode).toBe(401);
    expect(r1.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A stronger authentication is required for this request", acr_values="urn:mfa"',
    );
    expect((await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${strong}` } })).statusCode).toBe(200);
    const r3 = await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${forged}` } });
    expect(r3.statusCode).toBe(401);
    expect(r3.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    // other users are not affected
    expect(
      (await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${await jwt({ sub: 'bob' })}` } }))
        .statusCode,
    ).toBe(200);
  });

  it('step_up without a JWKS reads acr unverified (and warns)', async () => {
    const view = new DecisionView();
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), debug: () => {} } as never;
    const a = await app({ enforce: { enabled: true } }, { decisions: view, sink: memorySink(), logger });
    view.onUpsert(decision({ type: 'step_up', scope: 'user', value: 'alice', acr: 'urn:mfa' }));
    expect(warnings.some((w) => w.includes('WITHOUT verifying'))).toBe(true);
    const forged = await jwt({ sub: 'alice', acr: 'urn:mfa' }, wrongKey);
    expect((await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${forged}` } })).statusCode).toBe(200);
    expect(
      (await a.inject({ url: '/orders/1', headers: { authorization: `Bearer ${await jwt({ sub: 'alice' })}` } }))
        .statusCode,
    ).toBe(401);
  });

  it('follows an injected decision feed and closes it with the app', async () => {
    let handlers: { onUpsert(d: Decision): void; onRemove(id: string): void } | undefined;
    let seen: { url: string; token?: string } | undefined;
    let closed = 0;
    const a = Fastify();
    await a.register(meshwardSensor, {
      config: {
        token_hash_key: KEY,
        enforce: { enabled: true, decisions_url: 'http://api/v1/decisions/stream?startup=true', decisions_token: 'dt' },
      },
      sink: memorySink(),
      followDecisions: (url, o) => {
        seen = { url, token: o.token };
        handlers = o;
        return { close: () => void closed++ };
      },
    });
    a.get('/x', async () => 'x');
    expect(seen).toEqual({ url: 'http://api/v1/decisions/stream?startup=true', token: 'dt' });
    handlers!.onUpsert(decision({ scope: 'ip', value: '127.0.0.1' }));
    expect((await a.inject({ url: '/x' })).statusCode).toBe(403);
    await a.close();
    expect(closed).toBe(1);
  });
});
