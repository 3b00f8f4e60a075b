import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OidcProviderHarness, startOidcProvider } from './oidc-provider.js';

describe('oidc-provider harness', () => {
  let idp: OidcProviderHarness;
  beforeAll(async () => {
    idp = await startOidcProvider();
  });
  afterAll(async () => {
    await idp.stop();
    await idp.stop();
  });

  it('issues user tokens that introspect as active with sub and sid', async () => {
    const token = await idp.issueAccessToken('alice', { sessionId: 'sess-1' });
    const info = await idp.introspect(token);
    expect(info.active).toBe(true);
    expect(info.sub).toBe('alice');
    expect(info.sid).toBe('sess-1');
    expect(info.client_id).toBe(idp.clientId);
  });

  it('answers client_credentials and rejects a wrong secret', async () => {
    const ok = await idp.clientCredentials({ scope: 'api:read' });
    expect(ok.status).toBe(200);
    expect(typeof ok.body.access_token).toBe('string');
    const bad = await idp.clientCredentials({ clientSecret: 'wrong' });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toBe('invalid_client');
  });

  it('reports unknown tokens as inactive', async () => {
    expect((await idp.introspect('not-a-token')).active).toBe(false);
  });
});
