import { type CryptoKey, type JWK, SignJWT, importJWK, importPKCS8 } from 'jose';
import type { Decision } from '../../../pipeline/core/decision.js';
import { readSecretFileAsync } from '../../../pipeline/config/secret-file.js';
import { MeshwardError, mwError } from '../../../pipeline/core/errors.js';
import { newId } from '../../../pipeline/core/ids.js';
import type { Logger } from '../../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';
import { idpFetch, readSecret } from '../http.js';
import type { CaepSetConfig } from './config.js';

export const CAEP = {
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  assuranceLevelChange: 'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change',
} as const;

/**
 * OpenID CAEP over RFC 8935 push: each decision becomes a Security Event Token (RFC 8417, `typ: secevent+jwt`,
 * signed ES256) POSTed as `application/secevent+jwt`; the receiver answers 202. revoke_session → session-revoked,
 * step_up → assurance-level-change.
 */
export class CaepSetAdapter implements ActionAdapter {
  readonly type = 'idp/caep_set';
  private key?: Promise<{ key: CryptoKey | Uint8Array; kid?: string }>;
  private readonly bearer?: string;

  constructor(
    private readonly config: CaepSetConfig,
    private readonly deps: { logger: Logger; clock?: () => number },
  ) {
    if (!config.key_file && !config.key_jwk) throw mwError('CONFIG_INVALID', 'key_file or key_jwk is required');
    if (config.bearer_token || config.bearer_token_file) {
      this.bearer = readSecret(config.bearer_token, config.bearer_token_file, 'bearer_token');
    }
  }

  private signingKey() {
    this.key ??= (async () => {
      let jwk: JWK | undefined = this.config.key_jwk as JWK | undefined;
      if (this.config.key_file) {
        const text = await readSecretFileAsync(this.config.key_file, 'idp/caep_set key_file');
        if (!text.startsWith('{')) return { key: await importPKCS8(text, 'ES256'), kid: this.config.kid };
        jwk = JSON.parse(text) as JWK;
      }
      return { key: await importJWK(jwk as JWK, 'ES256'), kid: this.config.kid ?? jwk?.kid };
    })().catch((err) => {
      this.key = undefined;
      // the key file's own refusal names it already (readSecretFileAsync)
      if (err instanceof MeshwardError) throw err;
      throw mwError('CONFIG_INVALID', `caep signing key: ${(err as Error).message}`);
    });
    return this.key;
  }

  supports(d: Decision): boolean {
    return (d.type === 'revoke_session' || d.type === 'step_up') && (d.scope === 'user' || d.scope === 'session');
  }

  private subject(d: Decision): Record<string, string> {
    return d.scope === 'user'
      ? { format: 'iss_sub', iss: this.config.subject_issuer ?? this.config.issuer, sub: d.value }
      : { format: 'opaque', id: d.value };
  }

  /** the SET for a decision, signed */
  async token(d: Decision): Promise<string> {
    const now = (this.deps.clock ?? Date.now)();
    const common = {
      event_timestamp: Math.floor(now / 1000),
      initiating_entity: 'policy',
      reason_admin: { en: d.reason.slice(0, 500) },
    };
    const event =
      d.type === 'step_up'
        ? {
            [CAEP.assuranceLevelChange]: {
              ...common,
              namespace: this.config.assurance_namespace,
              current_level: d.acr ?? 'unspecified',
              change_direction: 'increase',
            },
          }
        : { [CAEP.sessionRevoked]: common };
    const { key, kid } = await this.signingKey();
    return new SignJWT({ sub_id: this.subject(d), events: event, txn: d.id })
      .setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', ...(kid ? { kid } : {}) })
      .setIssuer(this.config.issuer)
      .setAudience(this.config.audience)
      .setIssuedAt(Math.floor(now / 1000))
      .setJti(newId())
      .sign(key);
  }

  async apply(d: Decision): Promise<AdapterResult> {
    if (!this.supports(d)) return { ok: false, detail: `not supported: ${d.type} on ${d.scope}` };
    const set = await this.token(d);
    const res = await idpFetch('caep push', this.config.receiver_url, {
      method: 'POST',
      headers: {
        'content-type': 'application/secevent+jwt',
        accept: 'application/json',
        ...(this.bearer ? { authorization: `Bearer ${this.bearer}` } : {}),
      },
      body: set,
      timeoutMs: this.config.timeout_ms,
    });
    const kind = d.type === 'step_up' ? 'assurance-level-change' : 'session-revoked';
    if (res.status === 202 || res.status === 200) return { ok: true, detail: `${kind} delivered`, ref: kind };
    // RFC 8935 §2.4: 400 with {err, description} — the receiver will not take this SET, retrying does not help
    const body = res.body as { err?: string; description?: string } | null;
    throw mwError('BAD_REQUEST', `caep push: HTTP ${res.status} ${body?.err ?? ''} ${body?.description ?? ''}`.trim());
  }

  async revert(_d: Decision): Promise<AdapterResult> {
    return { ok: true, detail: 'CAEP has no event to undo a revocation or step-up; nothing sent' };
  }

  async check(): Promise<{ ok: boolean; detail?: string }> {
    try {
      await this.signingKey();
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }
}
