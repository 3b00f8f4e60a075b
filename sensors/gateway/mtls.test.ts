import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';
import { testCa } from '../../test/harness/test-ca.js';
import { meshwardSensor } from './plugin.js';

const check = TypeCompiler.Compile(ApiCallRecordSchema);
let dir: string;
const file = (n: string) => join(dir, n);

/** a CA, a server certificate for 127.0.0.1 and a client certificate whose URI SAN is a SPIFFE id (openssl CLI) */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mw-gw-mtls-'));
  const { leaf } = testCa(dir);
  leaf('server', 'IP:127.0.0.1');
  leaf('client', 'URI:spiffe://corp.example/ns/shop/sa/web');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('meshward fastify sensor over TLS', () => {
  it('records mTLS and the SPIFFE id of a verified client certificate, and mtls=false without one', async () => {
    const records: ApiCallRecord[] = [];
    const app = Fastify({
      https: {
        key: readFileSync(file('server.key')),
        cert: readFileSync(file('server.crt')),
        ca: readFileSync(file('ca.crt')),
        requestCert: true,
        rejectUnauthorized: false,
      },
    });
    await app.register(meshwardSensor, {
      config: { service: 'shop', token_hash_key: 'mtls-test-token-hash-key' },
      sink: { push: (r) => records.push(r) > 0 },
    });
    app.get('/who', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const get = (withCert: boolean) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/who',
            ca: readFileSync(file('ca.crt')),
            ...(withCert ? { key: readFileSync(file('client.key')), cert: readFileSync(file('client.crt')) } : {}),
            agent: false,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get(true)).toBe(200);
      expect(await get(false)).toBe(200);
      await new Promise((r) => setTimeout(r, 20));
      expect(records).toHaveLength(2);
      expect(records[0].source).toEqual({
        ip: '127.0.0.1',
        mtls: true,
        principal: 'spiffe://corp.example/ns/shop/sa/web',
      });
      expect(records[1].source).toEqual({ ip: '127.0.0.1', mtls: false });
      for (const r of records) expect(check.Check(r)).toBe(true);
    } finally {
      await app.close();
    }
  });
});
