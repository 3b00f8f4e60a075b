import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingIngest } from '../../../sensors/common/capturing-ingest.js';
import { loadConfig } from '../../../sensors/common/load-config.js';
import { SyslogReceiverConfigSchema } from './config.js';
import { syslogReceiverFactory } from './factory.js';
import type { SyslogReceiver } from './syslog-receiver.js';

/**
 * Hostile syslog traffic on real UDP and TCP sockets: every message the receiver takes is a schema-valid record or a
 * failure counted by reason (messages = records + failures), nothing is dropped unsaid, whatever the bytes, the
 * framing, how the stream is cut into segments and how the connection ends.
 */

const SEED = 20_260_101;
const MAX_MESSAGE = 16_384;

let receiver: SyslogReceiver;
let ingest: CapturingIngest;
let udpPort: number;
let tcpPort: number;

beforeAll(async () => {
  ingest = new CapturingIngest();
  const config = loadConfig(SyslogReceiverConfigSchema, {
    listen_udp: '127.0.0.1:0',
    listen_tcp: '127.0.0.1:0',
    sensor_id: 'syslog-prop',
    flush_interval_ms: 5,
    max_message_bytes: MAX_MESSAGE,
  });
  receiver = syslogReceiverFactory.create(config, { ingest });
  await receiver.start();
  const { udp, tcp } = receiver.addresses();
  udpPort = udp?.port as number;
  tcpPort = tcp?.port as number;
});
afterAll(async () => {
  await receiver?.shutdown();
});

const failures = () => Object.values(receiver.stats().failures).reduce((a, n) => a + n, 0);
const snapshot = () => ({ messages: receiver.stats().messages, records: ingest.records.length, failures: failures() });

/** the receiver has taken `messages` more messages than `before`, and handed every record it made to the ingest */
async function settled(before: ReturnType<typeof snapshot>, messages?: number) {
  await expect
    .poll(
      () => {
        const st = receiver.stats();
        const taken = st.messages - before.messages;
        const done = st.connections === 0 && st.shipper.buffered === 0 && st.shipper.inFlight === 0;
        return done && (messages === undefined || taken === messages) && st.records === st.shipper.accepted;
      },
      { timeout: 3000, interval: 5 },
    )
    .toBe(true);
  const now = snapshot();
  expect(ingest.invalid).toEqual([]);
  // nothing unsaid: each message taken is a record or a failure counted by its reason
  expect(now.messages - before.messages).toBe(now.records - before.records + (now.failures - before.failures));
  return now;
}

/** free text a log line carries from the request: anything, escaped by the gateway's JSON encoder */
const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ maxLength: 30, unit: 'binary' }),
  fc.constantFrom('\u0000', '\n', '\r\n', '\u2028', '-', '', '__proto__', '"}'),
  fc.nat({ max: 2000 }).map((n) => 'l'.repeat(n)),
);

/** a JSON access log line that maps to a record: what a gateway logs, with the caller's text where it goes */
const goodMessage = fc.oneof(
  fc
    .record({ uri: text, host: text, ip: text, user: text, requestId: text })
    .map(
      (f) =>
        `<190>Nov 22 08:00:00 nginx: ${JSON.stringify({ msec: '1700000000.123', request_time: '0.004', method: 'GET', host: f.host, uri: `/${f.uri}`, status: '200', request_length: '12', bytes_sent: '34', remote_addr: f.ip, user: f.user, request_id: f.requestId })}`,
    ),
  fc
    .record({ uri: text, backend: text, ip: text, dn: text })
    .map(
      (f) =>
        `<134>1 2026-01-01T10:00:00Z lb haproxy - - - ${JSON.stringify({ ts: 1_700_000_000_000, ta: 3, tt: 4, method: 'POST', host: 'api', uri: `/${f.uri}`, status: 201, bytes_in: 1, bytes_out: 2, client_ip: f.ip, backend: f.backend, ssl_c_s_dn: f.dn })}`,
    ),
);

/** a message that is no access log (or no syslog): any bytes, not starting like a frame boundary or a length */
const junkMessage = fc.oneof(
  fc.constantFrom(
    'garbage',
    '<134>Nov 22 08:00:00 haproxy[1]: {"ts":1,"method":"GET"',
    '<134>Nov 22 08:00:00 haproxy[1]: {"ts":1,"tt":1,"method":"GET","status":200}',
    '<999>x',
    '<134>',
    '<13>1 - - - - - [unterminated',
  ),
  fc
    .uint8Array({ minLength: 1, maxLength: 200 })
    .map((b) => Buffer.from(b.map((x) => (x === 0x0a ? 0x20 : x)))) // no LF inside
    .filter((b) => !(b[0] >= 0x30 && b[0] <= 0x39) && b[0] !== 0x0a && b[0] !== 0x0d && b[0] !== 0x00)
    .map((b) => b.toString('latin1')),
);

type Frame = { good: boolean; bytes: Buffer; octet: boolean };
const frame = fc
  .tuple(
    fc.oneof(
      goodMessage.map((m) => [true, m] as const),
      junkMessage.map((m) => [false, m] as const),
    ),
    fc.boolean(),
  )
  .map(([[good, msg], octet]): Frame => {
    const bytes = Buffer.from(msg, good ? 'utf8' : 'latin1');
    return { good, bytes, octet };
  });

/** the frames as one TCP stream; the last LF-framed message may go without its LF (the connection's end ends it) */
function stream(frames: Frame[], lastUnterminated: boolean): Buffer {
  return Buffer.concat(
    frames.map((f, i) => {
      if (f.octet) return Buffer.concat([Buffer.from(`${f.bytes.length} `), f.bytes]);
      const last = i === frames.length - 1;
      return last && lastUnterminated ? f.bytes : Buffer.concat([f.bytes, Buffer.from('\n')]);
    }),
  );
}

/** write `data` on a new connection in the given segments, end it, and wait for it to close */
async function sendTcp(data: Buffer, cuts: number[]): Promise<void> {
  const s = connect(tcpPort, '127.0.0.1');
  s.on('error', () => {});
  // the receiver may close it first (a broken length prefix), while segments are still being written
  const closed = new Promise((r) => s.once('close', r));
  await new Promise((r) => s.once('connect', r));
  let prev = 0;
  for (const c of [...new Set(cuts.map((x) => x % (data.length + 1)))].sort((a, b) => a - b)) {
    s.write(data.subarray(prev, c));
    prev = c;
    await new Promise((r) => setImmediate(r));
  }
  s.end(data.subarray(prev));
  await closed;
}

describe('syslog receiver under hostile traffic (property)', () => {
  it('TCP: every framed message is a record or a counted failure, the last one without its LF included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frame, { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 5 }),
        async (frames, lastUnterminated, cuts) => {
          const before = snapshot();
          await sendTcp(stream(frames, lastUnterminated), cuts);
          const now = await settled(before, frames.length);
          expect(now.records - before.records).toBe(frames.filter((f) => f.good).length);
        },
      ),
      { seed: SEED, numRuns: 120 },
    );
  });

  it('TCP: any bytes, however cut, leave every message it took a record or a counted failure', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
            goodMessage.map((m) => Buffer.from(`${m}\n`)),
            fc
              .constantFrom('99999999999999 x', '12x ', '0 ', '7 <1>abc', '\n\r\u0000', 'z'.repeat(MAX_MESSAGE + 5))
              .map((s) => Buffer.from(s)),
          ),
          { maxLength: 6 },
        ),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (parts, cuts) => {
          const before = snapshot();
          await sendTcp(Buffer.concat(parts), cuts);
          await settled(before);
        },
      ),
      { seed: SEED, numRuns: 120 },
    );
  });

  it('UDP: every datagram is a record or a counted failure, oversized and invalid UTF-8 ones included', async () => {
    const sock = createSocket('udp4');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              goodMessage.map((m) => ({ good: true, bytes: Buffer.from(m) })),
              junkMessage.map((m) => ({ good: false, bytes: Buffer.from(m, 'latin1') })),
              fc.constant({ good: false, bytes: Buffer.alloc(MAX_MESSAGE + 1, 0x41) }),
              fc.uint8Array({ maxLength: 100 }).map((b) => ({ good: false, bytes: Buffer.from(b) })),
            ),
            { minLength: 1, maxLength: 8 },
          ),
          async (datagrams) => {
            const before = snapshot();
            for (const d of datagrams)
              await new Promise<void>((ok, fail) =>
                sock.send(d.bytes, udpPort, '127.0.0.1', (err) => (err ? fail(err) : ok())),
              );
            const now = await settled(before, datagrams.length);
            // an empty datagram or raw bytes may map by chance only if they are an access log: none of these are
            expect(now.records - before.records).toBe(datagrams.filter((d) => d.good).length);
          },
        ),
        { seed: SEED, numRuns: 80 },
      );
    } finally {
      sock.close();
    }
  });

  it('TCP: a last message without its LF is recorded, and a frame cut short by the close is counted', async () => {
    const log = (path: string) =>
      `<134>Nov 22 08:00:00 haproxy[1]: ${JSON.stringify({ ts: 1_700_000_000_000, ta: 3, method: 'GET', host: 'api', uri: path, status: 200, client_ip: '10.0.0.1' })}`;
    const before = snapshot();
    const truncatedBefore = receiver.stats().failures.truncated_frame ?? 0;
    await sendTcp(Buffer.from(`${log('/a')}\n${log('/b')}`), []);
    await sendTcp(Buffer.from(`${log('/c')}\n30 <134>x`), []);
    await settled(before, 4);
    expect(ingest.records.slice(before.records).map((r) => r.path)).toEqual(['/a', '/b', '/c']);
    expect(receiver.stats().failures.truncated_frame).toBe(truncatedBefore + 1);
  });
});
