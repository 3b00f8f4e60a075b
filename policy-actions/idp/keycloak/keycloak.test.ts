import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../../pipeline/core/decision.js';
import { silentLogger } from '../../../pipeline/core/logger.js';
import { testDecision } from '../../testdata/decisions.js';
import { type ReplayServer, loadRecording, startReplayServer } from '../../testdata/replay-server.js';
import { keycloakFactory } from './factory.js';

const here = import.meta.dirname;
const decision = (over: Partial<Decision>): Decision =>
  testDecision({ id: 'dec_kc', type: 'revoke_session', scope: 'user', ...over });

describe('idp/keycloak contract (recorded admin API exchanges)', () => {
  let server: ReplayServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  const adapterFor = (url: string, tokenRealm?: string) =>
    keycloakFactory.create(
      {
        ...keycloakFactory.defaultConfig,
        base_url: `${url}/`,
        realm: 'acme',
        ...(tokenRealm ? { token_realm: tokenRealm } : {}),
        client_id: 'meshward',
        client_secret: 'kc-secret',
      },
      { logger: silentLogger },
    );

  it('logs a user out of every session, found by username', async () => {
    server = await startReplayServer(await loadRecording(join(here, 'testdata/logout-user-by-username.json')));
    const r = await adapterFor(server.url).apply(decision({ value: 'alice@example.com' }));
    expect(server.mismatches).toEqual([]);
    expect(server.done()).toBe(true);
    expect(r).toEqual({
      ok: true,
      detail: 'user logged out of all sessions',
      ref: '7a3c9e4e-1d2b-4c8f-9a61-2f0f3b1d9c55',
    });
  });

  it('ends sessions, renews an expired admin token once, and treats a vanished session as done', async () => {
    server = await startReplayServer(await loadRecording(join(here, 'testdata/end-session-token-refresh.json')));
    const adapter = adapterFor(server.url, 'master');
    const first = await adapter.apply(decision({ scope: 'session', value: '5f1c2d3e-aaaa-bbbb-cccc-0123456789ab' }));
    expect(first).toMatchObject({ ok: true, detail: 'session ended' });
    const second = await adapter.apply(decision({ scope: 'session', value: '9e8d7c6b-aaaa-bbbb-cccc-0123456789ab' }));
    expect(second).toMatchObject({ ok: true, detail: 'session already gone' });
    expect(server.mismatches).toEqual([]);
    expect(server.done()).toBe(true);
  });

  it('does not support deny or step_up, and revert is a documented no-op', async () => {
    const adapter = adapterFor('http://127.0.0.1:9');
    expect(adapter.supports(decision({ type: 'deny', scope: 'ip' }))).toBe(false);
    expect(adapter.supports(decision({ type: 'step_up', scope: 'user' }))).toBe(false);
    expect(adapter.supports(decision({ type: 'revoke_token', scope: 'user' }))).toBe(true);
    expect((await adapter.revert(decision({}))).ok).toBe(true);
  });

  it('a refused token request is a configuration error (not retried); an unreachable server is retryable', async () => {
    server = await startReplayServer({
      description: 'bad client secret',
      exchanges: [
        {
          request: { method: 'POST', path: '/realms/acme/protocol/openid-connect/token' },
          response: {
            status: 401,
            headers: { 'content-type': 'application/json' },
            body: { error: 'unauthorized_client' },
          },
        },
      ],
    });
    await expect(adapterFor(server.url).apply(decision({ value: 'bob' }))).rejects.toMatchObject({
      code: 'MW_ERR_CONFIG_INVALID',
      retryable: false,
    });
    await expect(adapterFor('http://127.0.0.1:9').apply(decision({ value: 'bob' }))).rejects.toMatchObject({
      code: 'MW_ERR_ADAPTER_FAILED',
      retryable: true,
    });
  });
});
