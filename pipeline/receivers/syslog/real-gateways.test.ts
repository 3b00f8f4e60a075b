import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingIngest } from '../../../sensors/common/capturing-ingest.js';
import { loadConfig } from '../../../sensors/common/load-config.js';
import { tokenHash } from '../../../sensors/common/token-hash.js';
import { SyslogReceiverConfigSchema } from './config.js';
import { syslogReceiverFactory } from './factory.js';
import { type Emitter, startHaproxy, startNginx, startUpstream } from './log-emitters-harness.js';
import type { SyslogReceiver } from './syslog-receiver.js';

const KEY = 'gateway-log-token-hash-key';
const JWT = [
  Buffer.from('{"alg":"none"}').toString('base64url'),
  Buffer.from('{"sub":"alice","acr":"urn:pwd"}').toString('base64url'),
  'c2ln',
].join('.');
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let upstream: { address: string; stop(): Promise<void> };
beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(async () => {
  await upstream.stop();
});

async function receiverFor(sensorId: string, format: 'nginx_json' | 'haproxy_json' | 'auto') {
  const ingest = new CapturingIngest();
  const config = loadConfig(SyslogReceiverConfigSchema, {
    listen_udp: '127.0.0.1:0',
    sensor_id: sensorId,
    format,
    flush_interval_ms: 20,
  });
  const receiver: SyslogReceiver = syslogReceiverFactory.create(config, { ingest });
  await receiver.start();
  return { ingest, receiver, syslog: `127.0.0.1:${receiver.addresses().udp!.port}` };
}

/** a GET with a Host header of our choosing (fetch does not allow setting Host) */
function getWithHost(base: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = request({ host: u.hostname, port: u.port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** the same requests through either proxy */
async function traffic(base: string) {
  const a = await getWithHost(base, '/orders/42?expand=items', {
    authorization: `Bearer ${JWT}`,
    traceparent: TRACE,
    host: 'orders.example',
  });
  expect(a).toBe(200);
  const b = await fetch(`${base}/bytes/5000?status=404`, { method: 'GET' });
  await b.text();
  const c = await fetch(`${base}/orders`, {
    method: 'POST',
    body: 'y'.repeat(1234),
    headers: { 'content-type': 'text/plain' },
  });
  await c.text();
}

describe.each([
  ['nginx', 'nginx_json', startNginx],
  ['haproxy', 'haproxy_json', startHaproxy],
] as const)('syslog receiver with a real %s', (kind, format, start) => {
  let emitter: Emitter;
  let rx: Awaited<ReturnType<typeof receiverFor>>;

  beforeAll(async () => {
    rx = await receiverFor(`${kind}-edge`, format);
    emitter = await start({ syslog: rx.syslog, upstream: upstream.address, tokenHashKey: KEY });
  });
  afterAll(async () => {
    await emitter?.stop();
    await rx?.receiver.shutdown();
  });

  it('turns each proxied request into a valid record with method, path, status, bytes, duration, source and service', async () => {
    const before = Date.now();
    await traffic(emitter.url);
    const records = await rx.ingest.waitFor(3);
    expect(rx.ingest.invalid).toEqual([]);
    expect(rx.receiver.stats().failures).toEqual({});
    const byPath = Object.fromEntries(records.map((r) => [r.path, r]));

    const a = byPath['/orders/42?expand=items'];
    expect(a).toMatchObject({
      sensor: { kind, id: `${kind}-edge` },
      service: 'orders.example',
      method: 'GET',
      host: 'orders.example',
      status: 200,
      source: { ip: '127.0.0.1' },
      user: { tokenHash: tokenHash(KEY, JWT), authOutcome: 'success' },
      trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentSpanId: '00f067aa0ba902b7' },
    });
    if (kind === 'nginx') expect(a.user?.sub).toBe('alice'); // njs decodes the JWT sub
    expect(JSON.stringify(records)).not.toContain(JWT);

    const b = byPath['/bytes/5000?status=404'];
    expect(b).toMatchObject({ method: 'GET', status: 404, service: '127.0.0.1' });
    expect(b.respBytes).toBeGreaterThan(5000); // body plus status line and headers
    expect(b.respBytes).toBeLessThan(5600);
    expect(b.user).toBeUndefined();

    const c = byPath['/orders'];
    expect(c).toMatchObject({ method: 'POST', status: 200 });
    expect(c.reqBytes).toBeGreaterThan(1234); // body plus request line and headers
    expect(c.reqBytes).toBeLessThan(1800);

    for (const r of records) {
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(r.durationMs).toBeLessThan(5_000);
      expect(r.ts).toBeGreaterThanOrEqual(before - 2_000);
      expect(r.ts).toBeLessThanOrEqual(Date.now());
    }
    expect(rx.ingest.origins[0]).toEqual({ receiver: 'syslog', key: 'syslog', sensorId: `${kind}-edge` });
  });
});

describe('syslog receiver format auto-detection', () => {
  it('accepts nginx and HAProxy logs on one listener', async () => {
    const rx = await receiverFor('mixed', 'auto');
    const ng = await startNginx({ syslog: rx.syslog, upstream: upstream.address, tokenHashKey: KEY });
    const hp = await startHaproxy({ syslog: rx.syslog, upstream: upstream.address, tokenHashKey: KEY });
    try {
      await (await fetch(`${ng.url}/via/nginx`)).text();
      await (await fetch(`${hp.url}/via/haproxy`)).text();
      const records = await rx.ingest.waitFor(2);
      const kinds = Object.fromEntries(records.map((r) => [r.path, r.sensor.kind]));
      expect(kinds).toEqual({ '/via/nginx': 'nginx', '/via/haproxy': 'haproxy' });
    } finally {
      await ng.stop();
      await hp.stop();
      await rx.receiver.shutdown();
    }
  });
});
