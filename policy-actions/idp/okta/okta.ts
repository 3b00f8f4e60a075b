import type { Decision } from '../../../pipeline/core/decision.js';
import { mwError } from '../../../pipeline/core/errors.js';
import type { Logger } from '../../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';
import { idpFetch, readSecret } from '../http.js';
import type { OktaConfig } from './config.js';

/** Okta user ids look like 00u1a2b3c4D5e6F7g8h9 */
const OKTA_USER_ID = /^00u[A-Za-z0-9]{17}$/;

/**
 * Okta Users API: clear every session of a user (`DELETE /api/v1/users/{id}/sessions`, optionally with its OAuth
 * tokens). Users given by login are looked up first (`GET /api/v1/users/{login}`).
 */
export class OktaAdapter implements ActionAdapter {
  readonly type = 'idp/okta';
  private readonly base: string;
  private readonly authorization: string;

  constructor(
    private readonly config: OktaConfig,
    private readonly deps: { logger: Logger },
  ) {
    this.base = config.org_url.replace(/\/+$/, '');
    const token = readSecret(config.token, config.token_file, 'token');
    this.authorization = config.auth === 'ssws' ? `SSWS ${token}` : `Bearer ${token}`;
  }

  supports(d: Decision): boolean {
    return (d.type === 'revoke_session' || d.type === 'revoke_token') && d.scope === 'user';
  }

  private call(op: string, method: string, path: string) {
    return idpFetch(op, `${this.base}${path}`, {
      method,
      headers: { authorization: this.authorization, accept: 'application/json' },
      timeoutMs: this.config.timeout_ms,
    });
  }

  private async userId(value: string): Promise<string | null> {
    if (OKTA_USER_ID.test(value)) return value;
    const res = await this.call('okta find user', 'GET', `/api/v1/users/${encodeURIComponent(value)}`);
    if (res.status === 404) return null;
    const id = (res.body as { id?: unknown } | null)?.id;
    if (res.status !== 200 || typeof id !== 'string')
      throw mwError('ADAPTER_FAILED', `okta find user: HTTP ${res.status}`);
    return id;
  }

  async apply(d: Decision): Promise<AdapterResult> {
    if (!this.supports(d)) return { ok: false, detail: `not supported: ${d.type} on ${d.scope}` };
    const id = await this.userId(d.value);
    if (!id) return { ok: false, detail: `user ${d.value} not found` };
    const query = this.config.revoke_oauth_tokens ? '?oauthTokens=true' : '';
    const res = await this.call(
      'okta clear sessions',
      'DELETE',
      `/api/v1/users/${encodeURIComponent(id)}/sessions${query}`,
    );
    if (res.status === 204 || res.status === 200) {
      this.deps.logger.debug({ userId: id }, 'okta sessions cleared');
      return { ok: true, detail: `sessions cleared${query ? ' and OAuth tokens revoked' : ''}`, ref: id };
    }
    if (res.status === 404) return { ok: false, detail: `user ${d.value} not found` };
    throw mwError('BAD_REQUEST', `okta clear sessions: HTTP ${res.status}`);
  }

  async revert(_d: Decision): Promise<AdapterResult> {
    return { ok: true, detail: 'cleared sessions cannot be restored; the user signs in again' };
  }

  async check(): Promise<{ ok: boolean; detail?: string }> {
    try {
      const res = await this.call('okta check', 'GET', '/api/v1/users/me');
      return res.status === 200 || res.status === 404 ? { ok: true } : { ok: false, detail: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }
}
