import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { CapturingIngest } from '../../sensors/common/capturing-ingest.js';
import { capturedBus } from '../../test/harness/captured-bus.js';
import { metricSum } from '../../test/harness/metrics.js';
import { freePort } from '../../test/harness/ports.js';
import { createRecordIngest } from '../collector/record-ingest.js';
import { silentLogger } from '../core/logger.js';
import { receiverConfigs, startReceivers } from './receivers.js';

const KEY = 'receivers-test-token-hash-key';
const entry = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'receivers', 'kong-http-log', 'testdata', 'single-entry.json'), 'utf8'),
);

/** an HAProxy JSON access log line for `path`, as the syslog receiver takes it */
const accessLog = (path: string) =>
  `<134>Nov 22 08:00:00 haproxy[1]: ${JSON.stringify({ ts: 1_700_000_000_000, ta: 3, method: 'GET', host: 'api', uri: path, status: 200, bytes_in: 1, bytes_out: 2, client_ip: '10.0.0.1' })}`;

/** one newline-framed syslog message over TCP, the connection closed once it is written */
async function sendSyslog(port: number, line: string): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.end(`${line}\n`, resolve);
  });
}

/** POST a JSON body to the collector's server, expecting `status` */
async function post(base: string, path: string, body: unknown, status: number): Promise<void> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(status);
}

describe('HTTP receivers on the collector', () => {
  it('refuses two receivers on one path, or one on a path of the collector, naming both keys', () => {
    expect(() =>
      receiverConfigs({
        kong_http_log: { token_hash_key: KEY },
        'kong_http_log/edge': { token_hash_key: KEY },
      }),
    ).toThrow(
      'configuration is invalid: receivers.kong_http_log/edge.path: /v1/kong/http-log is taken by receivers.kong_http_log (give each HTTP receiver a path of its own)',
    );
    expect(() =>
      receiverConfigs({
        'kong_http_log/a': { token_hash_key: KEY, path: '/hooks/kong' },
        'idp/keycloak': { token_hash_key: KEY, path: '/hooks/kong' },
      }),
    ).toThrow('receivers.idp/keycloak.path: /hooks/kong is taken by receivers.kong_http_log/a');
    expect(() => receiverConfigs({ idp: { token_hash_key: KEY, path: '/v1/records' } })).toThrow(
      'receivers.idp.path: /v1/records is taken by the collector',
    );
  });

  it('runs two Kong receivers side by side, each on its own path, over a real socket', async () => {
    const app = Fastify();
    const ingest = new CapturingIngest();
    const receivers = await startReceivers(
      {
        kong_http_log: { sensor_id: 'kong-public', token_hash_key: KEY },
        'kong_http_log/partners': { sensor_id: 'kong-partners', token_hash_key: KEY, path: '/v1/kong/partners' },
      },
      { app, ingest, logger: silentLogger },
    );
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      for (const path of ['/v1/kong/http-log', '/v1/kong/partners']) {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(entry),
        });
        expect(res.status, path).toBe(200);
        expect(await res.json()).toEqual({ accepted: 1, rejected: [] });
      }
      expect(ingest.origins.map((o) => o.sensorId)).toEqual(['kong-public', 'kong-partners']);
      expect(receivers.describe).toEqual([
        'kong_http_log: Kong http-log at POST /v1/kong/http-log on the collector',
        'kong_http_log/partners: Kong http-log at POST /v1/kong/partners on the collector',
      ]);
    } finally {
      await receivers.close();
      await app.close();
    }
  });
});

describe('the OTLP trace receiver', () => {
  it('mounts on the collector at /v1/traces, its sensor id from its key, refusing a path another receiver has', async () => {
    expect(() =>
      receiverConfigs({ kong_http_log: { token_hash_key: KEY, path: '/v1/traces' }, otlp_traces: {} }),
    ).toThrow('receivers.otlp_traces.path: /v1/traces is taken by receivers.kong_http_log');
    const app = Fastify();
    const ingest = new CapturingIngest();
    const receivers = await startReceivers({ 'otlp_traces/mesh': {} }, { app, ingest, logger: silentLogger });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const span = {
        kind: 2,
        startTimeUnixNano: '1700000000000000000',
        attributes: [
          { key: 'http.request.method', value: { stringValue: 'GET' } },
          { key: 'url.path', value: { stringValue: '/v1/orders' } },
        ],
      };
      const res = await fetch(`${base}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({});
      expect(ingest.origins).toEqual([{ receiver: 'otlp', key: 'otlp_traces/mesh', sensorId: 'otlp_traces/mesh' }]);
      expect(ingest.records[0]).toMatchObject({ sensor: { kind: 'otlp', id: 'otlp_traces/mesh' }, path: '/v1/orders' });
      expect(receivers.describe).toEqual(['otlp_traces/mesh: OTLP/HTTP traces at POST /v1/traces on the collector']);
    } finally {
      await receivers.close();
      await app.close();
    }
  });
});

describe("a receiver's sensor id", () => {
  it('is its key when it is named after a slash, the type default under the bare type key, the config when given', () => {
    const ids = receiverConfigs({
      syslog: {},
      'syslog/edge': {},
      kong_http_log: { token_hash_key: KEY },
      'kong_http_log/eu': { token_hash_key: KEY, path: '/kong/eu' },
      'kong_http_log/named': { token_hash_key: KEY, path: '/kong/named', sensor_id: 'kong-partners' },
      idp: { token_hash_key: KEY },
      'idp/okta': { token_hash_key: KEY, path: '/idp/okta' },
      bus: { mapping: { topics: [{ topic: 'a', service: 'a' }] } },
      'bus/orders': { mapping: { topics: [{ topic: 'b', service: 'b' }] } },
    }).map((r) => [r.key, (r.config as { sensor_id: string }).sensor_id]);
    expect(Object.fromEntries(ids)).toEqual({
      syslog: 'syslog',
      'syslog/edge': 'syslog/edge',
      kong_http_log: 'kong',
      'kong_http_log/eu': 'kong_http_log/eu',
      'kong_http_log/named': 'kong-partners',
      idp: 'idp-webhook',
      'idp/okta': 'idp/okta',
      bus: 'bus',
      'bus/orders': 'bus/orders',
    });
  });

  it('refuses a key with an empty name after the slash, naming the key, whatever the config gives', () => {
    for (const [key, raw] of [
      ['syslog/', {}],
      ['syslog/ ', { sensor_id: 'edge' }],
      ['kong_http_log/', { token_hash_key: KEY, path: '/kong/x' }],
      ['idp/', { token_hash_key: KEY, path: '/idp/unnamed', idp_name: 'unnamed' }],
      ['bus/', { mapping: { topics: [{ topic: 'a', service: 'a' }] } }],
    ] as const) {
      const type = key.split('/')[0];
      expect(() => receiverConfigs({ [key]: raw })).toThrow(
        `configuration is invalid: receivers.${key}: the name after the slash is empty (name it, e.g. ${type}/edge, or declare it under the bare key ${type})`,
      );
    }
    // the unknown type is what is said of an unknown type, slash or not
    expect(() => receiverConfigs({ 'nosuch/': {} })).toThrow('receivers.nosuch/: unknown receiver type');
  });

  it('keeps two receivers of one type without a sensor_id apart in their records and metrics (syslog, Kong, IdP)', async () => {
    const [bare, edge, internal] = await Promise.all([freePort(), freePort(), freePort()]);
    const syslog = (port: number) => ({ listen_tcp: `127.0.0.1:${port}`, flush_interval_ms: 10 });
    const app = Fastify();
    const ingest = new CapturingIngest();
    const receivers = await startReceivers(
      {
        syslog: syslog(bare),
        'syslog/edge': syslog(edge),
        'syslog/internal': syslog(internal),
        kong_http_log: { token_hash_key: KEY },
        'kong_http_log/eu': { token_hash_key: KEY, path: '/v1/kong/eu' },
        'kong_http_log/us': { token_hash_key: KEY, path: '/v1/kong/us' },
        idp: { token_hash_key: KEY },
        'idp/keycloak': { token_hash_key: KEY, path: '/v1/idp/keycloak' },
        'idp/okta': { token_hash_key: KEY, path: '/v1/idp/okta' },
      },
      { app, ingest, logger: silentLogger },
    );
    const sensors = ['syslog', 'syslog/edge', 'syslog/internal', 'kong', 'kong_http_log/eu', 'kong_http_log/us'];
    const counted = () =>
      Promise.all(
        sensors.map((receiver) =>
          receiver.startsWith('syslog')
            ? metricSum('meshward_syslog_messages_total', { receiver })
            : metricSum('meshward_kong_entries_total', { receiver, outcome: 'accepted' }),
        ),
      );
    const before = await counted();
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      // one call through each receiver, one at a time: the records come in the order they were sent
      for (const [port, path] of [
        [bare, '/bare'],
        [edge, '/edge'],
        [internal, '/internal'],
      ] as const) {
        await sendSyslog(port, accessLog(path));
        await ingest.waitFor(ingest.records.length + 1);
      }
      for (const path of ['/v1/kong/http-log', '/v1/kong/eu', '/v1/kong/us']) await post(base, path, entry, 200);
      const login = { event: 'login.success', sub: 'alice', client_id: 'web', ip: '203.0.113.10', path: '/login' };
      for (const path of ['/v1/idp/events', '/v1/idp/keycloak', '/v1/idp/okta']) await post(base, path, login, 202);

      expect(ingest.records.map((r) => r.sensor)).toEqual([
        { kind: 'haproxy', id: 'syslog' },
        { kind: 'haproxy', id: 'syslog/edge' },
        { kind: 'haproxy', id: 'syslog/internal' },
        { kind: 'kong', id: 'kong' },
        { kind: 'kong', id: 'kong_http_log/eu' },
        { kind: 'kong', id: 'kong_http_log/us' },
        { kind: 'idp', id: 'idp-webhook' },
        { kind: 'idp', id: 'idp/keycloak' },
        { kind: 'idp', id: 'idp/okta' },
      ]);
      expect(ingest.records.slice(0, 3).map((r) => r.path)).toEqual(['/bare', '/edge', '/internal']);
      // the origin the collector's ingest dead-letters under
      expect(ingest.origins.map((o) => o.sensorId)).toEqual(ingest.records.map((r) => r.sensor.id));
      // each receiver's metrics count its own message or entry, under its own id
      const after = await counted();
      expect(after.map((n, i) => n - before[i])).toEqual([1, 1, 1, 1, 1, 1]);
    } finally {
      await receivers.close();
      await app.close();
    }
  });
});

describe("the collector's meshward_collector_* counters", () => {
  it('count two receivers of one type apart by their key (receiver_key), keeping the type in receiver', async () => {
    const [bare, edge, dmz] = await Promise.all([freePort(), freePort(), freePort()]);
    const syslog = (port: number) => ({ listen_tcp: `127.0.0.1:${port}`, flush_interval_ms: 10 });
    const { bus, settle } = await capturedBus();
    const app = Fastify();
    const receivers = await startReceivers(
      {
        syslog: syslog(bare),
        'syslog/edge': syslog(edge),
        'syslog/dmz': syslog(dmz),
        'kong_http_log/eu': { token_hash_key: KEY, path: '/v1/kong/eu' },
        'kong_http_log/us': { token_hash_key: KEY, path: '/v1/kong/us' },
        'idp/keycloak': { token_hash_key: KEY, path: '/v1/idp/keycloak' },
        'idp/okta': { token_hash_key: KEY, path: '/v1/idp/okta' },
      },
      { app, ingest: createRecordIngest({ bus, logger: silentLogger }), logger: silentLogger },
    );
    const keys = [
      'syslog',
      'syslog/edge',
      'syslog/dmz',
      'kong_http_log/eu',
      'kong_http_log/us',
      'idp/keycloak',
      'idp/okta',
    ];
    const types = ['syslog', 'kong', 'idp'];
    const names = ['accepted', 'rejected', 'dlq'] as const;
    const counted = async () => ({
      byKey: await Promise.all(
        names.map((n) => Promise.all(keys.map((k) => metricSum(`meshward_collector_${n}_total`, { receiver_key: k })))),
      ),
      byType: await Promise.all(
        names.map((n) => Promise.all(types.map((t) => metricSum(`meshward_collector_${n}_total`, { receiver: t })))),
      ),
    });
    const before = await counted();
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      for (const [port, times] of [
        [bare, 1],
        [edge, 2],
        [dmz, 1],
      ] as const) {
        for (let i = 0; i < times; i++) await sendSyslog(port, accessLog(`/${port}/${i}`));
      }
      await settle(4, 0);
      // an entry through each Kong receiver, and one without a request only through us (rejected, dead-lettered)
      await post(base, '/v1/kong/eu', [entry], 200);
      await post(base, '/v1/kong/us', [entry, { response: { status: 200 } }], 200);
      const login = { event: 'login.success', sub: 'alice', client_id: 'web', ip: '203.0.113.10', path: '/login' };
      await post(base, '/v1/idp/keycloak', [login, { event: 'login.maybe' }], 202);
      await post(base, '/v1/idp/okta', [login], 202);
      await settle(8, 2);
      const after = await counted();
      const delta = (a: number[][], b: number[][]) => a.map((row, i) => row.map((n, j) => n - b[i][j]));
      //                       syslog edge dmz eu us keycloak okta
      expect(delta(after.byKey, before.byKey)).toEqual([
        [1, 2, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 1, 1, 0],
        [0, 0, 0, 0, 1, 1, 0],
      ]);
      // the type's series add up as before (what existing dashboards sum by)
      expect(delta(after.byType, before.byType)).toEqual([
        [4, 2, 2],
        [0, 1, 1],
        [0, 1, 1],
      ]);
    } finally {
      await receivers.close();
      await app.close();
    }
  });
});

describe("an IdP receiver's idp_name", () => {
  it('is its name when it is named after a slash, idp under the bare key, the config when given', () => {
    const names = receiverConfigs({
      idp: { token_hash_key: KEY },
      'idp/okta': { token_hash_key: KEY, path: '/idp/okta' },
      'idp/entra': { token_hash_key: KEY, path: '/idp/entra', idp_name: 'azure-ad' },
    }).map((r) => [r.key, (r.config as { idp_name: string; sensor_id: string }).idp_name]);
    expect(Object.fromEntries(names)).toEqual({
      idp: 'idp',
      'idp/okta': 'okta',
      'idp/entra': 'azure-ad',
    });
    // a name the schema refuses, without an idp_name of its own: the error names the key
    const long = `idp/${'a'.repeat(257)}`;
    expect(() => receiverConfigs({ [long]: { token_hash_key: KEY } })).toThrow(
      `configuration is invalid: receivers.${long}.idp_name: Expected string length less or equal to 256 (taken from the name after the slash: rename the receiver or give its idp_name)`,
    );
  });

  it("keeps two IdP receivers without an idp_name apart in their records' service and their meshward_idp_* series", async () => {
    const app = Fastify();
    const ingest = new CapturingIngest();
    const receivers = await startReceivers(
      {
        idp: { token_hash_key: KEY },
        'idp/keycloak': { token_hash_key: KEY, path: '/v1/idp/keycloak' },
        'idp/okta': { token_hash_key: KEY, path: '/v1/idp/okta' },
        'idp/entra': { token_hash_key: KEY, path: '/v1/idp/entra', idp_name: 'azure-ad' },
      },
      { app, ingest, logger: silentLogger },
    );
    const idps = ['idp', 'keycloak', 'okta', 'azure-ad', 'entra'];
    const series = [
      ['meshward_idp_events_total', { format: 'generic' }],
      ['meshward_idp_events_invalid_total', { code: 'MW_ERR_RECORD_INVALID' }],
      ['meshward_idp_webhook_rejected_total', { code: 'MW_ERR_BAD_REQUEST' }],
    ] as const;
    const counted = () =>
      Promise.all(series.map(([name, labels]) => Promise.all(idps.map((idp) => metricSum(name, { ...labels, idp })))));
    const before = await counted();
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const login = { event: 'login.success', sub: 'alice', client_id: 'web', ip: '203.0.113.10', path: '/login' };
      for (const path of ['/v1/idp/events', '/v1/idp/keycloak', '/v1/idp/okta', '/v1/idp/entra']) {
        // a recorded event, an invalid one (dead-lettered), then a request refused as a whole
        await post(base, path, [login, { event: 'login.maybe' }], 202);
        await post(base, path, [], 400);
      }
      expect(ingest.records.map((r) => [r.service, r.host, r.sensor.id])).toEqual([
        ['idp', 'idp', 'idp-webhook'],
        ['keycloak', 'keycloak', 'idp/keycloak'],
        ['okta', 'okta', 'idp/okta'],
        ['azure-ad', 'azure-ad', 'idp/entra'],
      ]);
      // every series counts its receiver's event, invalid event and refused request under its own idp
      const after = await counted();
      const delta = after.map((row, i) => row.map((n, j) => n - before[i][j]));
      expect(Object.fromEntries(series.map(([name], i) => [name, delta[i]]))).toEqual({
        meshward_idp_events_total: [1, 1, 1, 1, 0],
        meshward_idp_events_invalid_total: [1, 1, 1, 1, 0],
        meshward_idp_webhook_rejected_total: [1, 1, 1, 1, 0],
      });
    } finally {
      await receivers.close();
      await app.close();
    }
  });
});
