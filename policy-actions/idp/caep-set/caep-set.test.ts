import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JWK, type JWTPayload, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../../pipeline/core/decision.js';
import { silentLogger } from '../../../pipeline/core/logger.js';
import { testDecision } from '../../testdata/decisions.js';
import { CAEP } from './caep-set.js';
import { caepSetFactory } from './factory.js';

const decision = (over: Partial<Decision>): Decision =>
  testDecision({
    id: 'dec_caep',
    type: 'revoke_session',
    scope: 'user',
    value: 'alice',
    reason: 'credential_stuffing on login',
    ...over,
  });

/** A minimal RFC 8935 receiver: verifies the SET with the transmitter's public JWK, answers 202 or 400. */
async function startReceiver(publicJwk: JWK, audience: string) {
  const received: { header: Record<string, unknown>; payload: JWTPayload; auth?: string; type?: string }[] = [];
  const key = await importJWK(publicJwk, 'ES256');
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const jwt = Buffer.concat(chunks).toString('utf8');
      try {
        if (req.headers['content-type'] !== 'application/secevent+jwt') throw new Error('wrong content type');
        const { payload, protectedHeader } = await jwtVerify(jwt, key, {
          typ: 'secevent+jwt',
          audience,
          issuer: 'https://meshward.test',
        });
        received.push({
          header: protectedHeader as Record<string, unknown>,
          payload,
          auth: req.headers.authorization,
          type: req.headers['content-type'],
        });
        res.writeHead(202).end();
      } catch (err) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ err: 'invalid_request', description: (err as Error).message }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/caep`,
    received,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('idp/caep_set pushes signed CAEP SETs to a real receiver', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = { ...(privateKey.export({ format: 'jwk' }) as Record<string, string>), kid: 'mw-1' };
  const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'mw-1' };
  const dir = mkdtempSync(join(tmpdir(), 'mw-caep-'));
  const pemFile = join(dir, 'key.pem');
  writeFileSync(pemFile, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const base = { ...caepSetFactory.defaultConfig, issuer: 'https://meshward.test', audience: 'https://rp.test' };

  beforeAll(async () => {
    receiver = await startReceiver(publicJwk, 'https://rp.test');
  });
  afterAll(async () => {
    await receiver.stop();
  });

  it('revoke_session → session-revoked SET signed ES256 with typ secevent+jwt (key from a JWK, bearer auth)', async () => {
    const adapter = caepSetFactory.create(
      {
        ...base,
        receiver_url: receiver.url,
        key_jwk: privateJwk,
        bearer_token: 'rcv-token',
        subject_issuer: 'https://idp.test',
      },
      { logger: silentLogger },
    );
    const r = await adapter.apply(decision({}));
    expect(r).toMatchObject({ ok: true, detail: 'session-revoked delivered' });
    const got = receiver.received.at(-1)!;
    expect(got.header).toMatchObject({ alg: 'ES256', typ: 'secevent+jwt', kid: 'mw-1' });
    expect(got.auth).toBe('Bearer rcv-token');
    expect(got.payload.sub_id).toEqual({ format: 'iss_sub', iss: 'https://idp.test', sub: 'alice' });
    const ev = (got.payload.events as Record<string, Record<string, unknown>>)[CAEP.sessionRevoked];
    expect(ev.initiating_entity).toBe('policy');
    expect(typeof ev.event_timestamp).toBe('number');
    expect(got.payload.txn).toBe('dec_caep');
    expect(typeof got.payload.jti).toBe('string');
  });

  it('step_up → assurance-level-change with the required acr (key from a PEM file)', async () => {
    const adapter = caepSetFactory.create(
      { ...base, receiver_url: receiver.url, key_file: pemFile, kid: 'pem-1' },
      { logger: silentLogger },
    );
    expect((await adapter.check()).ok).toBe(true);
    await adapter.apply(
      decision({ type: 'step_up', scope: 'session', value: 'sess-9', acr: 'urn:mace:incommon:iap:silver' }),
    );
    const got = receiver.received.at(-1)!;
    expect(got.payload.sub_id).toEqual({ format: 'opaque', id: 'sess-9' });
    expect((got.payload.events as Record<string, unknown>)[CAEP.assuranceLevelChange]).toMatchObject({
      namespace: 'RFC8176',
      current_level: 'urn:mace:incommon:iap:silver',
      change_direction: 'increase',
    });
  });

  it('a SET signed with another key is refused by the receiver: a non-retryable error', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as Record<
      string,
      string
    >;
    const adapter = caepSetFactory.create(
      { ...base, receiver_url: receiver.url, key_jwk: other },
      { logger: silentLogger },
    );
    const set = await adapter.token(decision({}));
    expect(decodeProtectedHeader(set).typ).toBe('secevent+jwt');
    const before = receiver.received.length;
    await expect(adapter.apply(decision({}))).rejects.toMatchObject({ code: 'MW_ERR_BAD_REQUEST', retryable: false });
    expect(receiver.received.length).toBe(before);
  });

  it('supports revoke_session and step_up on users and sessions only', () => {
    const adapter = caepSetFactory.create({ ...base, key_jwk: privateJwk }, { logger: silentLogger });
    expect(adapter.supports(decision({ type: 'deny' }))).toBe(false);
    expect(adapter.supports(decision({ scope: 'ip' }))).toBe(false);
    expect(() => caepSetFactory.create({ ...base }, { logger: silentLogger })).toThrow(/key_file or key_jwk/);
  });
});
