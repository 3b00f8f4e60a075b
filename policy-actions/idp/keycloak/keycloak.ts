import type { Decision } from '../../../pipeline/core/decision.js';
import { mwError } from '../../../pipeline/core/errors.js';
import type { Logger } from '../../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';
import { FORM, basicAuth, idpFetch, readSecret } from '../http.js';
import type { KeycloakConfig } from './config.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Keycloak admin REST API: log a user out of every session (`POST /admin/realms/{realm}/users/{id}/logout`) or end
 * one session (`DELETE /admin/realms/{realm}/sessions/{id}`). The admin token comes from the client credentials
 * grant and is cached until shortly before it expires.
 */
export class KeycloakAdapter implements ActionAdapter {
  readonly type = 'idp/keycloak';
  private readonly base: string;
  private readonly clientAuth: string;
  private token?: { value: string; until: number };

  constructor(
    private readonly config: KeycloakConfig,
    private readonly deps: { logger: Logger; clock?: () => number },
  ) {
    this.base = config.base_url.replace(/\/+$/, '');
    this.clientAuth = basicAuth(
      config.client_id,
      readSecret(config.client_secret, config.client_secret_file, 'client_secret'),
    );
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  supports(d: Decision): boolean {
    if (d.type === 'revoke_session') return d.scope === 'user' || d.scope === 'session';
    if (d.type === 'revoke_token') return d.scope === 'user';
    return false;
  }

  private async adminToken(): Promise<string> {
    if (this.token && this.token.until > this.now()) return this.token.value;
    const realm = encodeURIComponent(this.config.token_realm ?? this.config.realm);
    const res = await idpFetch('keycloak token', `${this.base}/realms/${realm}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { authorization: this.clientAuth, 'content-type': FORM, accept: 'application/json' },
      body: 'grant_type=client_credentials',
      timeoutMs: this.config.timeout_ms,
    });
    const body = res.body as { access_token?: string; expires_in?: number };
    if (res.status !== 200 || typeof body?.access_token !== 'string') {
      throw mwError('CONFIG_INVALID', `keycloak token: HTTP ${res.status}, no access token`);
    }
    const ttl = Math.max((body.expires_in ?? 60) - 30, 5) * 1000;
    this.token = { value: body.access_token, until: this.now() + ttl };
    return body.access_token;
  }

  /** an admin API call; a 401 drops the cached token and retries once */
  private async admin(op: string, method: string, path: string) {
    for (let attempt = 0; ; attempt++) {
      const token = await this.adminToken();
      try {
        return await idpFetch(op, `${this.base}/admin/realms/${encodeURIComponent(this.config.realm)}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          timeoutMs: this.config.timeout_ms,
        });
      } catch (err) {
        if (attempt === 0 && (err as Error).message.includes('HTTP 401')) {
          this.token = undefined;
          continue;
        }
        throw err;
      }
    }
  }

  private async userId(value: string): Promise<string | null> {
    if (UUID.test(value)) return value;
    const res = await this.admin(
      'keycloak find user',
      'GET',
      `/users?username=${encodeURIComponent(value)}&exact=true`,
    );
    if (res.status !== 200 || !Array.isArray(res.body))
      throw mwError('ADAPTER_FAILED', `keycloak find user: HTTP ${res.status}`);
    const match = (res.body as { id: string; username?: string }[]).find((u) => u.username === value) ?? res.body[0];
    return match ? (match as { id: string }).id : null;
  }

  async apply(d: Decision): Promise<AdapterResult> {
    if (!this.supports(d)) return { ok: false, detail: `not supported: ${d.type} on ${d.scope}` };
    if (d.scope === 'session') {
      const res = await this.admin('keycloak end session', 'DELETE', `/sessions/${encodeURIComponent(d.value)}`);
      if (res.status === 204 || res.status === 200) return { ok: true, detail: 'session ended', ref: d.value };
      if (res.status === 404) return { ok: true, detail: 'session already gone', ref: d.value };
      throw mwError('BAD_REQUEST', `keycloak end session: HTTP ${res.status}`);
    }
    const id = await this.userId(d.value);
    if (!id) return { ok: false, detail: `user ${d.value} not found in realm ${this.config.realm}` };
    const res = await this.admin('keycloak logout user', 'POST', `/users/${encodeURIComponent(id)}/logout`);
    if (res.status === 204 || res.status === 200)
      return { ok: true, detail: 'user logged out of all sessions', ref: id };
    if (res.status === 404) return { ok: false, detail: `user ${d.value} not found in realm ${this.config.realm}` };
    throw mwError('BAD_REQUEST', `keycloak logout user: HTTP ${res.status}`);
  }

  async revert(_d: Decision): Promise<AdapterResult> {
    return { ok: true, detail: 'a logout cannot be undone; the user signs in again' };
  }

  async check(): Promise<{ ok: boolean; detail?: string }> {
    try {
      await this.adminToken();
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }
}
