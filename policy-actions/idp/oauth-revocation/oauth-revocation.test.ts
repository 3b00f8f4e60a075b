import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../../pipeline/core/decision.js';
import { silentLogger } from '../../../pipeline/core/logger.js';
import { testDecision } from '../../testdata/decisions.js';
import { type OidcProviderHarness, startOidcProvider } from '../../../test/harness/oidc-provider.js';
import { oauthRevocationFactory } from './factory.js';
import type { OAuthRevocationAdapter } from './oauth-revocation.js';

const decision = (over: Partial<Decision>): Decision =>
  testDecision({ id: 'dec_test', type: 'revoke_token', scope: 'token', ...over });

describe('idp/oauth_revocation against a real oidc-provider', () => {
  let idp: OidcProviderHarness;
  let adapter: OAuthRevocationAdapter;
  const sessions = new Map<string, string[]>();
  beforeAll(async () => {
    idp = await startOidcProvider();
    adapter = oauthRevocationFactory.create(
      {
        ...oauthRevocationFactory.defaultConfig,
        revocation_endpoint: idp.endpoints.revocation,
        introspection_endpoint: idp.endpoints.introspection,
        client_id: idp.clientId,
        client_secret: idp.clientSecret,
      },
      { logger: silentLogger, tokenSource: { tokensForSession: async (sid) => sessions.get(sid) ?? [] } },
    );
  });
  afterAll(async () => {
    await idp.stop();
  });

  it('revoke_token: an active token introspects inactive after apply, and applying again is harmless', async () => {
    const token = await idp.issueAccessToken('alice');
    expect((await idp.introspect(token)).active).toBe(true);
    const d = decision({ value: token });
    const r = await adapter.apply(d);
    expect(r.ok).toBe(true);
    expect(r.detail).toContain('revoked 1 token');
    expect(r.detail).not.toContain(token);
    expect((await idp.introspect(token)).active).toBe(false);
    const again = await adapter.apply(d);
    expect(again.ok).toBe(true);
    expect(again.detail).toContain('1 already inactive');
  });

  it('revoke_session revokes every known token of the session and leaves others alone', async () => {
    const a = await idp.issueAccessToken('bob', { sessionId: 's-1' });
    const b = await idp.issueAccessToken('bob', { sessionId: 's-1' });
    const other = await idp.issueAccessToken('bob', { sessionId: 's-2' });
    sessions.set('s-1', [a, b]);
    const r = await adapter.apply(decision({ type: 'revoke_session', scope: 'session', value: 's-1' }));
    expect(r.ok).toBe(true);
    expect((await idp.introspect(a)).active).toBe(false);
    expect((await idp.introspect(b)).active).toBe(false);
    expect((await idp.introspect(other)).active).toBe(true);
  });

  it('reports not supported for a session without known tokens and for a bare token hash', async () => {
    const s = await adapter.apply(decision({ type: 'revoke_session', scope: 'session', value: 'unknown' }));
    expect(s).toMatchObject({ ok: false });
    expect(s.detail).toMatch(/not supported/);
    const h = await adapter.apply(decision({ value: `h1:${'a'.repeat(32)}` }));
    expect(h.ok).toBe(false);
    expect(adapter.supports(decision({ type: 'deny', scope: 'ip', value: '1.2.3.4' }))).toBe(false);
  });

  it('check() passes with good credentials and fails with a wrong secret (not retryable)', async () => {
    expect((await adapter.check()).ok).toBe(true);
    const bad = oauthRevocationFactory.create(
      {
        ...oauthRevocationFactory.defaultConfig,
        revocation_endpoint: idp.endpoints.revocation,
        introspection_endpoint: idp.endpoints.introspection,
        client_id: idp.clientId,
        client_secret: 'wrong',
      },
      { logger: silentLogger },
    );
    const c = await bad.check();
    expect(c.ok).toBe(false);
    expect(c.detail).toContain('401');
    const token = await idp.issueAccessToken('carol');
    await expect(bad.apply(decision({ value: token }))).rejects.toMatchObject({ retryable: false });
    expect((await idp.introspect(token)).active).toBe(true);
  });
});
