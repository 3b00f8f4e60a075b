import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../pipeline/core/logger.js';
import { testCa } from '../../test/harness/test-ca.js';
import { loadConfig } from '../common/load-config.js';
import { BusSensorConfigSchema } from './config.js';
import { busSensorFactory } from './factory.js';
import { busKafkaConfig } from './kafka-client.js';

const PASSWORD = 'bus-tap-password-0123456789';
const mapping = { topics: [{ topic: 'orders.requests', service: 'orders' }] };
let dir: string;
const file = (n: string) => join(dir, n);

/** a CA and a broker certificate for 127.0.0.1 it signed (openssl CLI), and the SASL password file */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mw-bus-kafka-client-'));
  testCa(dir).leaf('broker', 'IP:127.0.0.1');
  writeFileSync(file('password'), `${PASSWORD}\n`);
  writeFileSync(file('empty'), '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (raw: Record<string, unknown>) =>
  loadConfig(BusSensorConfigSchema, { brokers: ['kafka-1:9093'], mapping, ...raw });

/** the message a config's Kafka options were refused with */
const refusal = (raw: Record<string, unknown>) => {
  try {
    busKafkaConfig(config(raw), 'receivers.bus/orders', silentLogger);
  } catch (err) {
    expect(err).toMatchObject({ code: 'MW_ERR_CONFIG_INVALID' });
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('the Kafka client options of the bus sensor', () => {
  it("hands kafkajs TLS with the CA file's content and SASL with the password read from its file", () => {
    const options = busKafkaConfig(
      config({
        ssl: true,
        ssl_ca_file: file('ca.crt'),
        sasl: { mechanism: 'scram-sha-512', username: 'meshward-tap', password_file: file('password') },
      }),
      'receivers.bus/orders',
      silentLogger,
    );
    expect(options).toMatchObject({
      clientId: 'meshward-bus-sensor',
      brokers: ['kafka-1:9093'],
      ssl: { ca: [readFileSync(file('ca.crt'), 'utf8')] },
      // the newline the file ends with is not part of the password
      sasl: { mechanism: 'scram-sha-512', username: 'meshward-tap', password: PASSWORD },
    });
    // TLS with the system's CAs; and a plaintext cluster without authentication, as before these options
    expect(busKafkaConfig(config({ ssl: true }), 'receivers.bus', silentLogger).ssl).toBe(true);
    expect(busKafkaConfig(config({}), 'receivers.bus', silentLogger)).toMatchObject({
      ssl: undefined,
      sasl: undefined,
    });
  });

  it('refuses a missing or empty password file or an unreadable CA bundle, naming the option and never a password', () => {
    const sasl = { mechanism: 'plain', username: 'meshward-tap' };
    const missing = file('no-such-password');
    expect(refusal({ sasl: { ...sasl, password_file: missing } })).toBe(
      `configuration is invalid: receivers.bus/orders.sasl.password_file: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    );
    expect(refusal({ sasl: { ...sasl, password_file: file('empty') } })).toBe(
      `configuration is invalid: receivers.bus/orders.sasl.password_file: ${file('empty')} is empty`,
    );
    const noCa = file('no-such-ca.crt');
    const caRefused = refusal({ ssl: true, ssl_ca_file: noCa, sasl: { ...sasl, password_file: file('password') } });
    expect(caRefused).toMatch(`receivers.bus/orders.ssl_ca_file: cannot read ${noCa}: ENOENT`);
    expect(caRefused).not.toContain(PASSWORD);
    // a CA bundle without ssl would be ignored and the connection made in plaintext: refused, not ignored
    expect(refusal({ ssl_ca_file: file('ca.crt') })).toBe(
      'configuration is invalid: receivers.bus/orders.ssl_ca_file: a CA bundle is used only over TLS; set receivers.bus/orders.ssl: true (or drop the file)',
    );
  });

  it('connects over TLS, trusting the brokers the CA of ssl_ca_file signed, and no others', async () => {
    // a TLS server with the broker certificate: what the sensor sends first (a Kafka request) is read decrypted
    const requests: { apiKey: number; clientId: string }[] = [];
    const server = createServer({ key: readFileSync(file('broker.key')), cert: readFileSync(file('broker.crt')) });
    server.on('secureConnection', (socket) =>
      socket.once('data', (b: Buffer) => {
        requests.push({ apiKey: b.readInt16BE(4), clientId: b.toString('utf8', 14, 14 + b.readInt16BE(12)) });
        socket.destroy();
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const broker = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sensor = (clientId: string, raw: Record<string, unknown>) =>
      busSensorFactory.create(
        loadConfig(BusSensorConfigSchema, { brokers: [broker], client_id: clientId, mapping, ssl: true, ...raw }),
        { sink: { push: () => true } },
      );
    const trusting = sensor('bus-tls-with-ca', { ssl_ca_file: file('ca.crt') });
    const untrusting = sensor('bus-tls-system-cas', {});
    try {
      // neither gets an answer from this broker: start() fails for both after kafkajs's retries, with their reason
      const [trusted, untrusted] = await Promise.all(
        [trusting, untrusting].map((s) =>
          s.start().then(
            () => 'started',
            (err: Error) => err.message,
          ),
        ),
      );
      // the sensor with the CA completed the handshake: its ApiVersions request (key 18) came through TLS
      expect(requests.filter((r) => r.clientId === 'bus-tls-with-ca')[0]).toEqual({
        apiKey: 18,
        clientId: 'bus-tls-with-ca',
      });
      expect(trusted).not.toMatch(/certificate/);
      // the sensor with the system's CAs refused the broker's certificate: nothing of it came through
      expect(requests.filter((r) => r.clientId === 'bus-tls-system-cas')).toEqual([]);
      expect(untrusted).toMatch(/unable to verify the first certificate/);
    } finally {
      await Promise.all([trusting.shutdown(), untrusting.shutdown()]);
      server.close();
    }
  }, 60_000);
});
