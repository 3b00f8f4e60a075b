import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../../pipeline/core/decision.js';
import { silentLogger } from '../../../pipeline/core/logger.js';
import { testDecision } from '../../testdata/decisions.js';
import { type ReplayServer, loadRecording, startReplayServer } from '../../testdata/replay-server.js';
import { oktaFactory } from './factory.js';

const here = import.meta.dirname;
const decision = (over: Partial<Decision>): Decision =>
  testDecision({ id: 'dec_okta', type: 'revoke_session', scope: 'user', ...over });

describe('idp/okta contract (recorded Users API exchanges)', () => {
  let server: ReplayServer | undefined;
  afterEach(async () => {
    await server?.stop();
  });

  it('clears sessions and OAuth tokens of a user found by login (SSWS)', async () => {
    server = await startReplayServer(await loadRecording(join(here, 'testdata/clear-sessions-by-login.json')));
    const adapter = oktaFactory.create(
      { ...oktaFactory.defaultConfig, org_url: server.url, token: '00abcDEFghiJKLmnoPQRstuVWXyz0123456789ab' },
      { logger: silentLogger },
    );
    const r = await adapter.apply(decision({ value: 'alice@example.com' }));
    expect(server.mismatches).toEqual([]);
    expect(server.done()).toBe(true);
    expect(r).toEqual({ ok: true, detail: 'sessions cleared and OAuth tokens revoked', ref: '00ub0oNGTSWTBKOLGLNR' });
  });

  it('bearer auth by user id; a rate limit is retryable; an unknown user is refused, not thrown', async () => {
    server = await startReplayServer(await loadRecording(join(here, 'testdata/clear-sessions-bearer.json')));
    const adapter = oktaFactory.create(
      {
        ...oktaFactory.defaultConfig,
        org_url: server.url,
        auth: 'bearer',
        token: 'eyJraWQiOiJrMSJ9.okta-at.sig',
        revoke_oauth_tokens: false,
      },
      { logger: silentLogger },
    );
    const d = decision({ type: 'revoke_token', value: '00u1a2b3c4D5e6F7g8h9' });
    expect(await adapter.apply(d)).toMatchObject({ ok: true, detail: 'sessions cleared' });
    await expect(adapter.apply(d)).rejects.toMatchObject({ code: 'MW_ERR_ADAPTER_FAILED', retryable: true });
    expect(await adapter.apply(decision({ value: 'nobody@example.com' }))).toEqual({
      ok: false,
      detail: 'user nobody@example.com not found',
    });
    expect(server.mismatches).toEqual([]);
    expect(server.done()).toBe(true);
  });

  it('supports only user-scoped revocations', () => {
    const adapter = oktaFactory.create({ ...oktaFactory.defaultConfig, token: 't' }, { logger: silentLogger });
    expect(adapter.supports(decision({}))).toBe(true);
    expect(adapter.supports(decision({ scope: 'session' }))).toBe(false);
    expect(adapter.supports(decision({ type: 'deny' }))).toBe(false);
  });
});
