import type { Decision } from '../../../pipeline/core/decision.js';
import { mwError } from '../../../pipeline/core/errors.js';
import type { Logger } from '../../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';
import { FORM, basicAuth, idpFetch, readSecret } from '../http.js';
import type { OAuthRevocationConfig } from './config.js';

/**
 * Where raw tokens come from. Records and decisions carry only keyed token hashes (`h1:...`), and RFC 7009 needs
 * the token itself, so a component that legitimately holds tokens (a gateway sensor's short-lived cache, an IdP
 * event hook) can be plugged in here. Without one, only decisions whose value is the raw token can be applied.
 */
export interface TokenSource {
  /** the raw token behind a keyed hash, if still known */
  tokenForHash?(hash: string): Promise<string | null>;
  /** raw tokens known to belong to a session */
  tokensForSession?(sessionId: string): Promise<string[]>;
}

const HASHED = /^h1:[0-9a-f]{32}$/;

/** RFC 7009 token revocation (+ RFC 7662 introspection) with client_secret_basic. */
export class OAuthRevocationAdapter implements ActionAdapter {
  readonly type = 'idp/oauth_revocation';
  private readonly auth: string;

  constructor(
    private readonly config: OAuthRevocationConfig,
    private readonly deps: { logger: Logger; tokenSource?: TokenSource },
  ) {
    this.auth = basicAuth(
      config.client_id,
      readSecret(config.client_secret, config.client_secret_file, 'client_secret'),
    );
  }

  supports(d: Decision): boolean {
    if (d.type === 'revoke_token') return d.scope === 'token';
    if (d.type === 'revoke_session') return d.scope === 'session';
    return false;
  }

  private async tokensOf(d: Decision): Promise<string[] | string> {
    if (d.scope === 'token') {
      if (!HASHED.test(d.value)) return [d.value];
      const raw = await this.deps.tokenSource?.tokenForHash?.(d.value);
      return raw ? [raw] : 'not supported: the decision names a token hash and no token source knows the token';
    }
    const tokens = (await this.deps.tokenSource?.tokensForSession?.(d.value)) ?? [];
    return tokens.length
      ? tokens
      : 'not supported: this IdP revokes tokens only, and no tokens of the session are known';
  }

  /** RFC 7662: is the token active? */
  async introspect(token: string): Promise<boolean> {
    const url = this.config.introspection_endpoint;
    if (!url) throw mwError('CONFIG_INVALID', 'introspection_endpoint is not configured');
    const res = await idpFetch('introspect', url, {
      method: 'POST',
      headers: { authorization: this.auth, 'content-type': FORM, accept: 'application/json' },
      body: new URLSearchParams({ token }).toString(),
      timeoutMs: this.config.timeout_ms,
    });
    if (res.status !== 200 || typeof res.body !== 'object' || res.body === null) {
      throw mwError('ADAPTER_FAILED', `introspect: HTTP ${res.status}`);
    }
    return (res.body as { active?: unknown }).active === true;
  }

  private async revoke(token: string): Promise<void> {
    const res = await idpFetch('revoke', this.config.revocation_endpoint, {
      method: 'POST',
      headers: { authorization: this.auth, 'content-type': FORM },
      body: new URLSearchParams({ token, token_type_hint: this.config.token_type_hint }).toString(),
      timeoutMs: this.config.timeout_ms,
    });
    // RFC 7009 §2.2: 200 also for tokens that are invalid or already revoked, so revoking twice is fine
    if (res.status !== 200) {
      const err = (res.body as { error?: string } | null)?.error ?? '';
      throw mwError('BAD_REQUEST', `revoke: HTTP ${res.status} ${err}`.trim());
    }
  }

  async apply(d: Decision): Promise<AdapterResult> {
    if (!this.supports(d)) return { ok: false, detail: `not supported: ${d.type} on ${d.scope}` };
    const tokens = await this.tokensOf(d);
    if (typeof tokens === 'string') return { ok: false, detail: tokens };
    let skipped = 0;
    for (const token of tokens) {
      if (this.config.introspection_endpoint && !(await this.introspect(token))) {
        skipped++;
        continue;
      }
      await this.revoke(token);
    }
    const revoked = tokens.length - skipped;
    return {
      ok: true,
      detail: `revoked ${revoked} token(s)${skipped ? `, ${skipped} already inactive` : ''} at ${new URL(this.config.revocation_endpoint).host}`,
    };
  }

  async revert(_d: Decision): Promise<AdapterResult> {
    return { ok: true, detail: 'revocation cannot be undone; a new login issues new tokens' };
  }

  async check(): Promise<{ ok: boolean; detail?: string }> {
    if (!this.config.introspection_endpoint)
      return { ok: true, detail: 'configured (no introspection endpoint to probe)' };
    try {
      await this.introspect('meshward-health-check');
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }
}
