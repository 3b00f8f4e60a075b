import { createSocket } from 'node:dgram';
import { type Socket, connect } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CapturingIngest } from '../../../sensors/common/capturing-ingest.js';
import { loadConfig } from '../../../sensors/common/load-config.js';
import { mwError } from '../../core/errors.js';
import { registry } from '../../core/metrics.js';
import { SyslogReceiverConfigSchema } from './config.js';
import { syslogReceiverFactory } from './factory.js';
import type { SyslogReceiver } from './syslog-receiver.js';

const good = (path: string) =>
  `<134>Nov 22 08:00:00 haproxy[1]: ${JSON.stringify({ ts: 1_700_000_000_000, ta: 3, method: 'GET', host: 'api', uri: path, status: 200, bytes_in: 1, bytes_out: 2, client_ip: '10.0.0.1' })}`;

const receivers: SyslogReceiver[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const r of receivers.splice(0)) await r.shutdown();
});

async function start(over: Record<string, unknown> = {}) {
  const ingest = new CapturingIngest();
  const config = loadConfig(SyslogReceiverConfigSchema, {
    listen_udp: '127.0.0.1:0',
    listen_tcp: '127.0.0.1:0',
    sensor_id: `rx-${Math.random().toString(36).slice(2, 8)}`,
    flush_interval_ms: 10,
    max_message_bytes: 4096,
    ...over,
  });
  const receiver = syslogReceiverFactory.create(config, { ingest });
  receivers.push(receiver);
  await receiver.start();
  const { udp, tcp } = receiver.addresses();
  return { ingest, receiver, udpPort: udp!.port, tcpPort: tcp!.port, sensorId: config.sensor_id };
}

async function sendUdp(port: number, ...msgs: (string | Buffer)[]): Promise<void> {
  const s = createSocket('udp4');
  for (const m of msgs) await new Promise<void>((r, j) => s.send(m, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  s.close();
}

async function tcp(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

const until = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('syslog receiver listeners', () => {
  it('receives over UDP and over TCP with octet-counted and newline framing', async () => {
    const { ingest, udpPort, tcpPort } = await start();
    await sendUdp(udpPort, good('/udp'));
    const s = await tcp(tcpPort);
    const m1 = good('/tcp-octet');
    s.write(`${Buffer.byteLength(m1)} ${m1}`);
    s.write(`${good('/tcp-newline')}\n`);
    const records = await ingest.waitFor(3);
    expect(records.map((r) => r.path).sort()).toEqual(['/tcp-newline', '/tcp-octet', '/udp']);
    expect(records.every((r) => r.sensor.kind === 'haproxy')).toBe(true);
  });

  it('counts garbage by reason, keeps running, and still takes good messages', async () => {
    const { ingest, receiver, udpPort, tcpPort, sensorId } = await start();
    await sendUdp(
      udpPort,
      'garbage',
      '<134>Nov 22 08:00:00 haproxy[1]: {"ts":1,"method":"GET"',
      '<134>Nov 22 08:00:00 haproxy[1]: {"ts":1,"tt":1,"method":7,"uri":"/x","status":"200"}',
      Buffer.alloc(5000, 0x41), // larger than max_message_bytes
      Buffer.from([0x3c, 0x31, 0x3e, 0xff, 0xfe, 0x00]),
    );
    const s = await tcp(tcpPort);
    s.write(`${'z'.repeat(6000)}\n`); // oversize newline frame
    const big = `<1>${'q'.repeat(5000)}`;
    s.write(`${big.length} ${big}`); // oversize octet-counted frame
    s.write(`${good('/after-garbage')}\n`);
    await ingest.waitFor(1);
    await until(() => receiver.stats().messages >= 8);
    const st = receiver.stats();
    expect(st.failures).toMatchObject({ no_pri: 1, not_json: 1, field_type: 1, too_large: 3, bad_header: 1 });
    expect(ingest.records.map((r) => r.path)).toEqual(['/after-garbage']);
    const metric = await registry.getSingleMetric('meshward_syslog_parse_failures_total')!.get();
    const mine = metric.values.filter((v) => v.labels.receiver === sensorId);
    expect(mine.reduce((a, v) => a + v.value, 0)).toBe(7);
  });

  it('replaces invalid UTF-8 by default and rejects it when configured', async () => {
    const line = (path: Buffer) =>
      Buffer.concat([
        Buffer.from('<134>Nov 22 08:00:00 haproxy[1]: {"ts":1700000000000,"ta":1,"method":"GET","uri":"'),
        path,
        Buffer.from('","status":200}'),
      ]);
    const raw = Buffer.concat([Buffer.from('/caf'), Buffer.from([0xc3, 0x28]), Buffer.from('/x')]);

    const lenient = await start();
    await sendUdp(lenient.udpPort, line(raw));
    const [r] = await lenient.ingest.waitFor(1);
    expect(r.path).toBe('/caf\ufffd(/x');
    expect(lenient.receiver.stats().invalidUtf8).toBe(1);

    const strict = await start({ invalid_utf8: 'reject' });
    await sendUdp(strict.udpPort, line(raw), good('/fine'));
    await strict.ingest.waitFor(1);
    await until(() => strict.receiver.stats().messages === 2);
    expect(strict.receiver.stats().failures).toEqual({ invalid_utf8: 1 });
  });

  it('closes a connection whose length prefix is broken, other connections unaffected', async () => {
    const { ingest, receiver, tcpPort } = await start();
    const bad = await tcp(tcpPort);
    const closed = new Promise((r) => bad.once('close', r));
    bad.write('99999999999999999 <1>x');
    await closed;
    const ok = await tcp(tcpPort);
    ok.write(`${good('/still-fine')}\n`);
    await ingest.waitFor(1);
    expect(receiver.stats().failures).toEqual({ bad_frame: 1 });
  });

  it('refuses connections beyond max_connections and counts them', async () => {
    const { receiver, tcpPort } = await start({ max_connections: 2 });
    await tcp(tcpPort);
    await tcp(tcpPort);
    await until(() => receiver.stats().connections === 2);
    const third = connect(tcpPort, '127.0.0.1');
    sockets.push(third);
    third.on('error', () => {});
    await new Promise((r) => third.once('close', r));
    expect(receiver.stats().connectionsRefused).toBe(1);
  });

  it('property: random byte streams on TCP never crash the receiver', async () => {
    const { ingest, receiver, tcpPort } = await start();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), async (chunks) => {
        const s = await tcp(tcpPort);
        for (const c of chunks) s.write(c);
        s.end();
        await new Promise((r) => s.once('close', r));
      }),
      { numRuns: 40 },
    );
    const s = await tcp(tcpPort);
    s.write(`${good('/survivor')}\n`);
    await until(() => ingest.records.some((r) => r.path === '/survivor'));
    expect(receiver.stats().failures.internal).toBeUndefined();
  });

  it('keeps records buffered while the ingest is unavailable and delivers them after', async () => {
    const { ingest, receiver, udpPort } = await start();
    ingest.failWith = mwError('BUS_UNAVAILABLE');
    await sendUdp(udpPort, good('/during-outage'));
    await until(() => receiver.stats().shipper.batchesFailed > 0);
    ingest.failWith = undefined;
    const [r] = await ingest.waitFor(1);
    expect(r.path).toBe('/during-outage');
    expect(receiver.stats().shipper.dropped).toBe(0);
  });

  it('refuses a config with no listener and a bad address', () => {
    const cfg = loadConfig(SyslogReceiverConfigSchema, {});
    expect(() => syslogReceiverFactory.create(cfg, { ingest: new CapturingIngest() })).toThrow(/listen_udp/);
    // a bad address is the config's error, naming the key (before anything listens)
    for (const listen_udp of ['nope', '5514', 'host:port'])
      expect(() => loadConfig(SyslogReceiverConfigSchema, { listen_udp })).toThrow(/listen_udp/);
    for (const listen_udp of ['', ':5514', '0.0.0.0:5514', '[::1]:5514', 'syslog.internal:5514'])
      expect(loadConfig(SyslogReceiverConfigSchema, { listen_udp }).listen_udp).toBe(listen_udp);
    const bad = loadConfig(SyslogReceiverConfigSchema, { listen_tcp: '127.0.0.1:70000' });
    const rx = syslogReceiverFactory.create(bad, { ingest: new CapturingIngest() });
    return expect(rx.start()).rejects.toThrow(/host:port/);
  });

  it('shutdown is safe twice', async () => {
    const { receiver } = await start();
    await Promise.all([receiver.shutdown(), receiver.shutdown()]);
    await receiver.shutdown();
  });
});
