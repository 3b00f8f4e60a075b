import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpReceiver } from '../../test/harness/http-receiver.js';
import { metricSum } from '../../test/harness/metrics.js';
import { TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import type { Alert } from '../core/alert.js';
import { silentLogger } from '../core/logger.js';
import { toCef } from './formats/cef.js';
import { toOcsf } from './formats/ocsf.js';
import { ALERTS_DLQ, compileSinks, runSink } from './sink-runner.js';

const alert: Alert = {
  v: 1,
  id: 'alr_test1',
  kind: 'enumeration',
  severity: 'high',
  state: 'open',
  service: 'orders',
  endpoint: 'GET /v1/orders/{id}',
  subject: { type: 'user', value: 'mallory|x=1' },
  firstSeen: 1_700_000_000_000,
  lastSeen: 1_700_000_060_000,
  count: 1,
  summary: 'user touched 812 distinct orders in 10 min, expected ≤ 40',
  expected: '≤ 40 distinct ids / 10 min',
  observed: '812',
  evidence: { recordIds: ['r1', 'r2'], metrics: { distinct: 812 } },
  updatedAt: 1_700_000_060_000,
};

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** a syslog UDP listener on a free loopback port, and the datagrams it got */
async function udpListener() {
  const udp = createSocket('udp4');
  const udpGot: string[] = [];
  udp.on('message', (m) => udpGot.push(m.toString()));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  closers.push(() => void udp.close());
  return { udp, udpGot };
}

describe('alert formats', () => {
  it('OCSF Detection Finding carries class, severity, status, times and an API activity evidence', () => {
    const f = toOcsf(alert);
    expect(f).toMatchObject({
      class_uid: 2004,
      category_uid: 2,
      type_uid: 200401,
      severity_id: 4,
      status_id: 1,
      time: alert.updatedAt,
    });
    expect(f.finding_info).toMatchObject({
      uid: 'alr_test1',
      types: ['enumeration'],
      first_seen_time: alert.firstSeen,
    });
    expect(f.evidences[0]).toMatchObject({
      api: { operation: 'GET /v1/orders/{id}', service: { name: 'orders' } },
      http_request: { http_method: 'GET', url: { path: '/v1/orders/{id}' } },
      actor: { user: { uid: 'mallory|x=1' } },
    });
    expect(toOcsf({ ...alert, state: 'resolved', count: 3 })).toMatchObject({ activity_id: 3, status_id: 4 });
  });

  it('CEF escapes header pipes and extension equals signs', () => {
    const line = toCef({ ...alert, summary: 'a|b' });
    expect(line.startsWith('CEF:0|meshward|meshward|0.1.0|enumeration|a\\|b|8|')).toBe(true);
    expect(line).toContain('cs4=mallory|x\\=1');
    expect(line).toContain('suser=mallory|x\\=1');
  });
});

describe('sinks against real receivers on loopback', () => {
  it('webhook (signed JSON) and Slack-compatible messages', async () => {
    const bus = new MemoryBus();
    closers.push(() => bus.close());
    const json = await httpReceiver(() => 200, closers);
    const slack = await httpReceiver(() => 200, closers);
    const dir = mkdtempSync(join(tmpdir(), 'mw-sink-'));
    writeFileSync(join(dir, 'secret'), 'shh-its-a-secret\n');
    const sinks = compileSinks({
      'webhook/soc': { url: json.url, secret_file: join(dir, 'secret') },
      'webhook/slack': { url: slack.url, format: 'slack' },
    });
    for (const s of sinks) {
      const sub = await runSink(bus, silentLogger, s);
      closers.push(() => sub.close());
    }
    await bus.publish(TOPICS.alerts, [{ key: alert.id, value: JSON.stringify(alert) }]);
    await waitFor(() => json.got.length === 1 && slack.got.length === 1);
    const sig = createHmac('sha256', 'shh-its-a-secret').update(json.got[0].body).digest('hex');
    expect(json.got[0].headers['x-meshward-signature']).toBe(`sha256=${sig}`);
    expect(JSON.parse(json.got[0].body).id).toBe('alr_test1');
    const msg = JSON.parse(slack.got[0].body);
    expect(msg.text).toContain('enumeration on `orders`');
    expect(msg.blocks).toHaveLength(2);
  });

  it("names a secret file it cannot use by the sink's key as the config writes it", async () => {
    const bus = new MemoryBus();
    closers.push(() => bus.close());
    const dir = mkdtempSync(join(tmpdir(), 'mw-sink-'));
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const [soc] = compileSinks({ 'webhook/soc': { url: 'https://soc.test/hook', bearer_token_file: empty } });
    await expect(runSink(bus, silentLogger, soc)).rejects.toThrow(
      `configuration is invalid: sinks.webhook/soc.bearer_token_file: ${empty} is empty`,
    );
  });

  it('retries a failing receiver, then dead-letters the alert and moves on', async () => {
    const bus = new MemoryBus();
    closers.push(() => bus.close());
    let calls = 0;
    const flaky = await httpReceiver(() => (++calls <= 2 ? 503 : 200), closers);
    const down = await httpReceiver(() => 500, closers);
    const dlq: { sink: string; alert: Alert }[] = [];
    await bus.subscribe({
      groupId: 'dlq',
      topics: [ALERTS_DLQ],
      onBatch: async (b) => void dlq.push(...b.messages.map((m) => JSON.parse(m.value.toString()))),
    });
    for (const s of compileSinks({ 'webhook/flaky': { url: flaky.url }, 'webhook/down': { url: down.url } })) {
      const sub = await runSink(bus, silentLogger, s, { attempts: 3, baseDelayMs: 5 });
      closers.push(() => sub.close());
    }
    await bus.publish(TOPICS.alerts, [{ key: alert.id, value: JSON.stringify(alert) }]);
    await waitFor(() => dlq.length === 1 && flaky.got.length === 3);
    expect(down.got).toHaveLength(3);
    expect(dlq[0]).toMatchObject({ sink: 'webhook/down', alert: { id: 'alr_test1' } });
  });

  it('CEF over syslog UDP and TCP (octet counting)', async () => {
    const bus = new MemoryBus();
    closers.push(() => bus.close());
    const { udp, udpGot } = await udpListener();
    let tcpData = '';
    const tcp = createTcpServer((s) => s.on('data', (d) => (tcpData += d.toString())));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => tcp.close(() => r())));
    const sinks = compileSinks({
      'cef_syslog/udp': { host: '127.0.0.1', port: udp.address().port },
      'cef_syslog/tcp': { host: '127.0.0.1', port: (tcp.address() as AddressInfo).port, protocol: 'tcp' },
    });
    for (const s of sinks) {
      const sub = await runSink(bus, silentLogger, s);
      closers.push(() => sub.close());
    }
    await bus.publish(TOPICS.alerts, [{ key: alert.id, value: JSON.stringify(alert) }]);
    await waitFor(() => udpGot.length === 1 && tcpData.length > 0);
    expect(udpGot[0]).toMatch(/^<83>1 2023-11-14T22:14:20.000Z \S+ meshward - alert - CEF:0\|meshward\|/);
    const m = /^(\d+) (.*)$/s.exec(tcpData);
    expect(m).not.toBeNull();
    expect(Buffer.byteLength(m?.[2] ?? '')).toBe(Number(m?.[1]));
  });

  it('publishes OCSF findings to a topic of the bus', async () => {
    const bus = new MemoryBus();
    closers.push(() => bus.close());
    const got: string[] = [];
    await bus.subscribe({
      groupId: 'siem',
      topics: ['siem.findings'],
      onBatch: async (b) => void got.push(...b.messages.map((m) => m.value.toString())),
    });
    const [s] = compileSinks({ topic: { topic: 'siem.findings' } });
    const sub = await runSink(bus, silentLogger, s);
    closers.push(() => sub.close());
    await bus.publish(TOPICS.alerts, [{ key: alert.id, value: JSON.stringify(alert) }]);
    await waitFor(() => got.length === 1);
    expect(JSON.parse(got[0])).toMatchObject({ class_uid: 2004, finding_info: { uid: 'alr_test1' } });
  });

  it('leaves out alerts below min_severity in CEF over syslog and on a topic too', async () => {
    const bus = new MemoryBus();
    closers.push(() => bus.close());
    const { udp, udpGot } = await udpListener();
    const got: string[] = [];
    await bus.subscribe({
      groupId: 'siem-high',
      topics: ['siem.high'],
      onBatch: async (b) => void got.push(...b.messages.map((m) => m.value.toString())),
    });
    const sinks = compileSinks({
      'cef_syslog/high': { host: '127.0.0.1', port: udp.address().port, min_severity: 'high' },
      'topic/high': { topic: 'siem.high', format: 'json', min_severity: 'high' },
    });
    for (const s of sinks) {
      const sub = await runSink(bus, silentLogger, s);
      closers.push(() => sub.close());
    }
    const medium = { ...alert, id: 'alr_medium', severity: 'medium' as const };
    await bus.publish(
      TOPICS.alerts,
      [medium, alert].map((a) => ({ key: a.id, value: JSON.stringify(a) })),
    );
    await waitFor(() => udpGot.length === 1 && got.length === 1);
    expect(udpGot[0]).toContain('externalId=alr_test1');
    expect(JSON.parse(got[0]).id).toBe('alr_test1');
    for (const sink of ['cef_syslog/high', 'topic/high'])
      expect(await metricSum('meshward_sink_skipped_total', { sink, reason: 'below_min_severity' })).toBe(1);
  });

  it('fails fast on a bad sink config, naming the key', () => {
    expect(() => compileSinks({ 'webhook/x': { url: 'ftp://nope' } })).toThrow(/sinks\.webhook\/x\.url: /);
    expect(() => compileSinks({ pager: {} })).toThrow(/unknown sink type/);
    expect(() => compileSinks({ 'webhook/': { url: 'http://x' } })).toThrow(
      /sinks\.webhook\/: the name after the slash is empty/,
    );
  });
});
