import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApi } from '../../pipeline/app/roles.js';
import { MemoryBus } from '../../pipeline/bus/memory-bus.js';
import { resolveConfig } from '../../pipeline/config/load.js';
import { silentLogger } from '../../pipeline/core/logger.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
import { type KafkaRedis, startKafkaRedis } from '../harness/kafka-redis.js';
import { startRole, writeConfig } from '../harness/meshward.js';
import { repoRoot } from '../harness/paths.js';
import { tails, waitFor } from '../harness/pipeline-client.js';
import type { Child } from '../harness/processes.js';

/**
 * Who may call what, across the real processes: every analyst API route (enumerated from the running Fastify app,
 * not from a list here) refuses callers without credentials (401) and callers below its role (403; viewers never
 * change anything); sensor tokens open the collector's ingest and nothing else. Then the secrets every process saw
 * (sensor token, API keys, bearer tokens inside records and headers) must not appear in any line they logged.
 */

const secret = (label: string) => `${label}-${randomBytes(18).toString('hex')}`;
const SENSOR_TOKEN = secret('sensor');
const KEYS = { viewer: secret('viewer'), responder: secret('responder'), admin: secret('admin') } as const;
type Role = keyof typeof KEYS;
/** a credential a sensor saw in traffic and put into a record (or an attacker sends) */
const BEARER = secret('bearer');
const JWT = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: secret('subject') })).toString('base64url')}.${randomBytes(24).toString('base64url')}`;
const WRONG_KEY = secret('wrong');
const SECRETS = { SENSOR_TOKEN, ...KEYS, BEARER, JWT, WRONG_KEY };

/** routes meant to be public: health, metrics, the OpenAPI document, the published JSON Schemas, the console's files */
const PUBLIC = [
  /^\/healthz$/,
  /^\/metrics$/,
  /^\/docs(\/.*)?$/,
  /^\/v1\/schemas(\/.*)?$/,
  // the console: its static files (a route per file: index, scripts, styles) and vendored scripts
  /^\/$/,
  /^\/index\.html$/,
  /^\/(js|css)\/[\w/-]+\.(js|css)$/,
  /^\/vendor\//,
];
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface Route {
  method: string;
  url: string;
}

/** every route of a Fastify app, from its route tree (`printRoutes`): what it really serves, nothing stale */
function routesOf(app: FastifyInstance): Route[] {
  const out: Route[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    const path = (depth > 0 ? prefixes[depth - 1] : '') + m[2];
    prefixes.length = depth;
    prefixes[depth] = path;
    for (const method of m[3]?.split(', ') ?? []) out.push({ method, url: path });
  }
  return out;
}

/** a concrete URL for a route pattern */
const concrete = (url: string) => url.replace(/:[^/]+/g, 'x').replace(/\*/g, 'index.html');

interface Answer {
  status: number;
  body: string;
}

/**
 * One HTTP request from a chosen loopback address (the API throttles failed authentication per address, so the
 * refusals are spread over several). Streams (SSE, NDJSON feeds) answer with headers and never end: after the headers
 * a short wait is enough.
 */
function call(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string | undefined>; body?: string; from?: string } = {},
): Promise<Answer> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        localAddress: opts.from,
        headers: Object.fromEntries(
          Object.entries({
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...opts.headers,
          }).filter((e): e is [string, string] => e[1] !== undefined),
        ),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        const streaming = setTimeout(() => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        }, 1500);
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => {
          clearTimeout(streaming);
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.end(opts.body);
  });
}

const codeOf = (a: Answer) => {
  try {
    return (JSON.parse(a.body) as { code?: string }).code;
  } catch {
    return undefined;
  }
};

describe('security: authentication and roles on every route, no secret in any log', () => {
  let engines: KafkaRedis | undefined;
  const children: Child[] = [];
  let doc: Record<string, unknown>;
  let apiUrl: string;
  let collectorUrl: string;
  let routes: Route[] = [];

  beforeAll(async () => {
    engines = await startKafkaRedis({
      brokers: 1,
      callsPartitions: 2,
      extraTopics: [{ name: 'meshward.decisions', partitions: 1 }],
    });
    doc = {
      log_level: 'trace',
      ...engines.sections(),
      collector: { listen: '127.0.0.1:0', sensor_tokens: [{ id: 'sec-sensor', token: SENSOR_TOKEN }] },
      api: {
        listen: '127.0.0.1:0',
        api_keys: (Object.keys(KEYS) as Role[]).map((role) => ({ name: `${role}-user`, role, key: KEYS[role] })),
      },
      correlator: { checkpoint_interval_ms: 300 },
      // the policy engine in the API process: its decision routes are API routes too
      actions: { policy_file: join(repoRoot(), 'policy-actions/engine/testdata/policy.yaml') },
    };
    const config = writeConfig(doc);

    // the route table of the API exactly as the api role builds it (same function, in this process)
    let captured: FastifyInstance | undefined;
    const bus = new MemoryBus();
    const store = new MemoryStore();
    const local = await runApi(
      { config: resolveConfig(structuredClone(doc)), bus, store, logger: silentLogger },
      {
        plugins: [
          (app) => {
            captured = app;
          },
        ],
      },
    );
    routes = routesOf(captured as FastifyInstance);
    await local.close();
    await bus.close();
    await store.close();

    // the roles as processes, logging everything they would log
    const env = { MESHWARD_LOG_LEVEL: 'trace' };
    const [c, api, collector] = await Promise.all([
      startRole('correlator', config, [], env),
      startRole('api', config, [], env),
      startRole('collector', config, [], env),
    ]);
    children.push(c.child, api.child, collector.child);
    apiUrl = api.url as string;
    collectorUrl = collector.url as string;
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(children.map((c) => c.stop(3000)));
    await engines?.stop();
  });

  it('the route table is read from the app: alerts, services, inventory, decisions, access log, console', () => {
    const urls = new Set(routes.map((r) => r.url));
    for (const u of ['/v1/alerts', '/v1/alerts/:id/acknowledge', '/v1/services', '/v1/decisions', '/v1/me', '/healthz'])
      expect(urls, u).toContain(u);
    expect(routes.filter((r) => MUTATING.has(r.method)).length).toBeGreaterThanOrEqual(5);
  });

  it('every non-public API route refuses missing, wrong and sensor credentials (401) and roles below its own (403)', async () => {
    const isPublic = (r: Route) => PUBLIC.some((p) => p.test(r.url));
    // nothing public changes anything, and nothing under /v1 is public but the schemas
    for (const r of routes.filter(isPublic))
      expect(['GET', 'HEAD'], `${r.method} ${r.url} is public`).toContain(r.method);
    const guarded = routes.filter((r) => !isPublic(r));
    expect(guarded.length).toBeGreaterThan(15);

    let address = 2;
    for (const r of guarded) {
      const url = concrete(r.url);
      const body = MUTATING.has(r.method) ? '{}' : undefined;
      const label = `${r.method} ${r.url}`;
      // refusals from an address of their own, well under the throttle
      const from = `127.0.${Math.floor(address / 250)}.${(address % 250) + 2}`;
      address++;
      for (const headers of [
        {},
        { 'x-api-key': WRONG_KEY },
        { authorization: `Bearer ${WRONG_KEY}` },
        { authorization: `Bearer ${SENSOR_TOKEN}` },
        { 'x-api-key': SENSOR_TOKEN },
        { authorization: `Bearer ${JWT}` },
      ]) {
        const a = await call(apiUrl, r.method, url, { headers, body, from });
        expect(a.status, `${label} with ${Object.keys(headers).join() || 'no credentials'}: ${a.body}`).toBe(401);
        if (r.method !== 'HEAD') expect(codeOf(a), label).toBe('MW_ERR_UNAUTHENTICATED');
      }
      // the least role that gets through; every role below it is refused with 403
      const byRole: Record<Role, Answer> = {} as Record<Role, Answer>;
      for (const role of Object.keys(KEYS) as Role[]) {
        byRole[role] = await call(apiUrl, r.method, url, { headers: { 'x-api-key': KEYS[role] }, body });
        expect(byRole[role].status, `${label} as ${role}: ${byRole[role].body}`).not.toBe(401);
      }
      const roles = Object.keys(KEYS) as Role[];
      const least = roles.findIndex((role) => byRole[role].status !== 403);
      expect(least, `${label}: refused to every role`).toBeGreaterThanOrEqual(0);
      for (const role of roles.slice(least)) expect(byRole[role].status, `${label} as ${role}`).not.toBe(403);
      for (const role of roles.slice(0, least)) {
        if (r.method !== 'HEAD') expect(codeOf(byRole[role]), `${label} as ${role}`).toBe('MW_ERR_FORBIDDEN');
      }
      if (MUTATING.has(r.method)) expect(byRole.viewer.status, `${label}: a viewer may change nothing`).toBe(403);
    }
  }, 90_000);

  it('a sensor token opens the collector ingest and nothing else; API keys do not open the ingest', async () => {
    const record: ApiCallRecord = {
      id: 'sec-ok-1',
      ts: Date.now() - 1000,
      durationMs: 3,
      sensor: { kind: 'test', id: 'sec' },
      service: 'sec-orders',
      method: 'GET',
      host: 'orders.svc',
      path: '/v1/orders/1',
      status: 200,
      reqBytes: 1,
      respBytes: 2,
      source: { ip: '10.0.0.1' },
    };
    const body = JSON.stringify([record]);
    const ok = await call(collectorUrl, 'POST', '/v1/records', {
      headers: { authorization: `Bearer ${SENSOR_TOKEN}` },
      body,
    });
    expect(ok.status, ok.body).toBe(200);
    for (const headers of [
      {},
      { authorization: `Bearer ${KEYS.admin}` },
      { 'x-api-key': KEYS.admin },
      { authorization: `Bearer ${WRONG_KEY}` },
      { authorization: SENSOR_TOKEN },
      { authorization: `Basic ${Buffer.from(`sec-sensor:${SENSOR_TOKEN}`).toString('base64')}` },
    ]) {
      const a = await call(collectorUrl, 'POST', '/v1/records', { headers, body });
      expect(a.status, `${Object.keys(headers).join()}: ${a.body}`).toBe(401);
    }
    // the API refuses the sensor token on a read any viewer may do
    for (const headers of [{ authorization: `Bearer ${SENSOR_TOKEN}` }, { 'x-api-key': SENSOR_TOKEN }]) {
      expect((await call(apiUrl, 'GET', '/v1/alerts', { headers, from: '127.0.9.9' })).status).toBe(401);
    }
  });

  it('no secret that went through the processes appears in anything they logged', async () => {
    const base = {
      ts: Date.now() - 1000,
      durationMs: 3,
      sensor: { kind: 'test', id: 'sec' },
      service: 'sec-orders',
      method: 'POST',
      host: 'orders.svc',
      status: 200,
      reqBytes: 1,
      respBytes: 2,
      source: { ip: '10.0.0.1' },
    };
    const sensor = { authorization: `Bearer ${SENSOR_TOKEN}` };
    // credentials inside records: params, tags, the query string; in valid and in rejected records
    const records = [
      {
        ...base,
        id: 'sec-1',
        path: `/v1/login?access_token=${JWT}&api_key=${BEARER}&page=2`,
        params: { authorization: `Bearer ${BEARER}`, q: JWT, password: WRONG_KEY },
        tags: { 'x-api-key': KEYS.admin, cookie: `session=${BEARER}`, token: SENSOR_TOKEN },
      },
      {
        ...base,
        id: 'sec-2',
        status: 'not-a-status',
        path: `/v1/x?token=${BEARER}`,
        params: { authorization: `Bearer ${BEARER}` },
      },
      { ...base, id: BEARER, path: '/v1/y', reqBytes: -1, tags: { authorization: `Bearer ${JWT}` } },
    ];
    const posted = await call(collectorUrl, 'POST', '/v1/records', {
      headers: { ...sensor, cookie: `session=${BEARER}`, 'x-api-key': KEYS.admin },
      body: JSON.stringify(records),
    });
    expect(posted.status, posted.body).toBe(200);
    // not JSON at all, with credentials in it; and requests with credentials in the wrong place
    const nd = [`Bearer ${BEARER}`, `{"token": "${JWT}"`, `${SENSOR_TOKEN} ${KEYS.viewer}`].join('\n');
    const ndAnswer = await call(collectorUrl, 'POST', '/v1/records', {
      headers: { ...sensor, 'content-type': 'application/x-ndjson' },
      body: nd,
    });
    expect(ndAnswer.status, ndAnswer.body).toBe(200);
    await call(collectorUrl, 'POST', `/v1/records?token=${BEARER}`, {
      headers: { authorization: `Bearer ${WRONG_KEY}` },
      body: '[]',
    });
    await call(collectorUrl, 'GET', `/v1/nowhere?api_key=${KEYS.admin}`, { headers: sensor });

    // the API: every key, refused credentials, secrets in query strings and bodies
    for (const role of Object.keys(KEYS) as Role[]) {
      await call(apiUrl, 'GET', '/v1/alerts', { headers: { authorization: `Bearer ${KEYS[role]}` } });
      await call(apiUrl, 'GET', `/v1/alerts?cursor=${BEARER}`, { headers: { 'x-api-key': KEYS[role] } });
      await call(apiUrl, 'GET', `/v1/alerts?token=${JWT}`, { headers: { 'x-api-key': KEYS[role] } });
    }
    await call(apiUrl, 'POST', `/v1/alerts/${BEARER}/acknowledge`, {
      headers: { 'x-api-key': KEYS.responder },
      body: JSON.stringify({ comment: `pasted by mistake: ${JWT}` }),
    });
    await call(apiUrl, 'GET', `/v1/services/${BEARER}/metrics?endpoint=${JWT}`, {
      headers: { 'x-api-key': KEYS.viewer },
    });
    await call(apiUrl, 'GET', '/v1/alerts', {
      headers: { authorization: `Bearer ${JWT}`, cookie: `session=${BEARER}` },
      from: '127.0.9.10',
    });
    await call(apiUrl, 'GET', '/v1/alerts', { headers: { 'x-api-key': WRONG_KEY }, from: '127.0.9.10' });

    // the records went through: the correlator has them (the service shows once a window closes) — so every
    // process has had the chance to log them
    await call(collectorUrl, 'POST', '/v1/records', {
      headers: sensor,
      body: JSON.stringify([{ ...base, id: 'sec-late', ts: Date.now(), path: '/v1/z' }]),
    });
    await waitFor(
      'the DLQ warning in the collector log',
      () => (children[2].lines().some((l) => l.text.includes('records rejected to the DLQ')) ? true : undefined),
      10_000,
    );

    // everything the processes and their public endpoints said
    const said: { where: string; text: string }[] = [];
    for (const c of children) for (const l of c.lines()) said.push({ where: `${c.name} ${l.stream}`, text: l.text });
    for (const [where, url] of [
      ['collector /metrics', `${collectorUrl}/metrics`],
      ['api /metrics', `${apiUrl}/metrics`],
      ['api /healthz', `${apiUrl}/healthz`],
    ] as const) {
      said.push({ where, text: (await call(url, 'GET', url)).body });
    }
    const accessLog = await call(apiUrl, 'GET', '/v1/access-log?limit=1000', { headers: { 'x-api-key': KEYS.admin } });
    expect(accessLog.status).toBe(200);
    said.push({ where: 'api access log', text: accessLog.body });
    expect(said.filter((s) => s.where.startsWith('meshward')).length, tails(children)).toBeGreaterThan(5);

    // neither a secret nor any 16 characters of one
    for (const [name, value] of Object.entries(SECRETS)) {
      const pieces = new Set<string>();
      for (let i = 0; i + 16 <= value.length; i++) pieces.add(value.slice(i, i + 16));
      for (const s of said) {
        const leak = [...pieces].find((p) => s.text.includes(p));
        expect(leak, `${name} leaked into ${s.where}: ${s.text.slice(0, 400)}`).toBeUndefined();
      }
    }
  }, 60_000);
});
