import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../pipeline/core/logger.js';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
import { type OidcProviderHarness, startOidcProvider } from '../../test/harness/oidc-provider.js';
import { createAdapters } from './adapter-registry.js';
import { createPolicyEngine } from './engine.js';
import { parsePolicy } from './policy.js';
import { makeAlert } from './testdata/alerts.js';

describe('engine → idp/oauth_revocation → a real oidc-provider', () => {
  let idp: OidcProviderHarness;
  beforeAll(async () => {
    idp = await startOidcProvider();
  });
  afterAll(async () => {
    await idp.stop();
  });

  it('an alert about a token ends with that token inactive at the IdP, audited without the token', async () => {
    const store = new MemoryStore();
    const adapters = createAdapters(
      {
        'idp/oauth_revocation': {
          revocation_endpoint: idp.endpoints.revocation,
          introspection_endpoint: idp.endpoints.introspection,
          client_id: idp.clientId,
          client_secret: idp.clientSecret,
        },
      },
      { logger: silentLogger },
    );
    const engine = createPolicyEngine({
      store,
      policy: parsePolicy(
        'rules:\n  - name: revoke\n    match: { kinds: [token_mismatch] }\n    action: { type: revoke_token, ttl: 1h }\n',
      ),
      adapters,
      config: { expiry_interval_ms: 0 },
    });
    const token = await idp.issueAccessToken('mallory');
    expect((await idp.introspect(token)).active).toBe(true);
    const [d] = await engine.handleAlert(makeAlert({ subject: { type: 'token', value: token } }));
    expect(d.state).toBe('active');
    expect((await idp.introspect(token)).active).toBe(false);
    const audit = await engine.audit.query({ decisionId: d.id });
    expect(audit.entries.find((e) => e.action === 'adapter_apply')).toMatchObject({
      adapter: 'idp/oauth_revocation',
      outcome: 'ok',
    });
    for (const e of audit.entries) expect(JSON.stringify({ ...e, decisionId: '' })).not.toContain(token);
    await engine.close();
    await store.close();
  });
});
