import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { MAX_SECRET_LIST_BYTES, readSecretFile } from '../config/secret-file.js';
import { MIN_SECRET_LENGTH, SECRET_TOO_SHORT } from '../config/shared-secret.js';
import { mwError } from '../core/errors.js';

export type Role = 'viewer' | 'responder' | 'admin';
export const ROLE_RANK: Record<Role, number> = { viewer: 1, responder: 2, admin: 3 };

export interface Principal {
  /** who: an API key's name or the token's subject */
  id: string;
  role: Role;
  via: 'api_key' | 'oidc';
  /** a name people read, where the id is opaque (a token's preferred_username, email or name claim) */
  name?: string;
}

/** the first readable name a token carries: preferred_username, email, name (a short line of text) */
function readableName(claims: Record<string, unknown>): string | undefined {
  for (const claim of ['preferred_username', 'email', 'name']) {
    const v = claims[claim];
    if (typeof v !== 'string') continue;
    const name = v.trim();
    if (name && name.length <= 200 && ![...name].some((ch) => ch < ' ' || ch === '\u007f')) return name;
  }
  return undefined;
}

export interface ApiKey {
  name: string;
  key: string;
  role: Role;
}

export interface OidcOptions {
  issuer: string;
  audience: string;
  /** defaults to `<issuer>/.well-known/jwks.json`-style discovery is not done: give the JWKS URL */
  jwksUrl?: string;
  /** claim holding a role name or a list of them (default `meshward_roles`) */
  rolesClaim?: string;
  /** for tests: a key set instead of a URL */
  keySet?: JWTVerifyGetKey;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Authenticates analyst API callers: `Authorization: Bearer <api key>` / `X-API-Key`, or an OIDC access token (JWT)
 * verified against the IdP's JWKS. Sensor tokens are not accepted here: they are scoped to ingest.
 */
export class ApiAuthenticator {
  private readonly keys = new Map<string, { digest: Buffer; name: string; role: Role }>();
  private readonly jwks?: JWTVerifyGetKey;

  constructor(
    keys: ApiKey[],
    private readonly oidc?: OidcOptions,
  ) {
    for (const k of keys) {
      const d = digest(k.key);
      this.keys.set(d.toString('hex'), { digest: d, name: k.name, role: k.role });
    }
    if (oidc)
      this.jwks = oidc.keySet ?? createRemoteJWKSet(new URL(oidc.jwksUrl ?? `${oidc.issuer.replace(/\/$/, '')}/jwks`));
  }

  async authenticate(headers: Record<string, string | string[] | undefined>): Promise<Principal> {
    const apiKey = typeof headers['x-api-key'] === 'string' ? headers['x-api-key'] : undefined;
    const auth = typeof headers.authorization === 'string' ? headers.authorization : undefined;
    const bearer = auth ? /^Bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
    const presented = apiKey ?? bearer;
    if (!presented)
      throw mwError('UNAUTHENTICATED', 'send an API key (X-API-Key or Authorization: Bearer) or an OIDC token');
    const d = digest(presented);
    const hit = this.keys.get(d.toString('hex'));
    if (hit && timingSafeEqual(hit.digest, d)) return { id: hit.name, role: hit.role, via: 'api_key' };
    if (bearer && this.jwks && this.oidc && bearer.split('.').length === 3) {
      try {
        const { payload } = await jwtVerify(bearer, this.jwks, {
          issuer: this.oidc.issuer,
          audience: this.oidc.audience,
        });
        const claim = payload[this.oidc.rolesClaim ?? 'meshward_roles'];
        const roles = (Array.isArray(claim) ? claim : [claim]).filter(
          (r): r is Role => typeof r === 'string' && r in ROLE_RANK,
        );
        if (roles.length === 0) throw mwError('FORBIDDEN', 'the token carries no meshward role');
        const role = roles.sort((a, b) => ROLE_RANK[b] - ROLE_RANK[a])[0];
        const name = readableName(payload);
        return { id: String(payload.sub ?? 'unknown'), role, via: 'oidc', ...(name ? { name } : {}) };
      } catch (err) {
        if ((err as { code?: string }).code === 'MW_ERR_FORBIDDEN') throw err;
        throw mwError('UNAUTHENTICATED', 'token verification failed');
      }
    }
    throw mwError('UNAUTHENTICATED', 'unknown API key or token');
  }

  /** the principals of the API keys (who may sign in with one; a token's subject is known once it calls) */
  keyPrincipals(): Principal[] {
    return [...this.keys.values()].map((k) => ({ id: k.name, role: k.role, via: 'api_key' as const }));
  }
}

export function requireRole(principal: Principal, role: Role): void {
  if (ROLE_RANK[principal.role] < ROLE_RANK[role]) {
    throw mwError('FORBIDDEN', `this operation needs the ${role} role; you have ${principal.role}`);
  }
}

/** reads `<name> <role> <key>` lines (blank lines and # comments ignored), as every secret file is read (readSecretFile) */
export function readApiKeysFile(path: string): ApiKey[] {
  const out: ApiKey[] = [];
  readSecretFile(path, 'api.api_keys_file', MAX_SECRET_LIST_BYTES)
    .split('\n')
    .forEach((line, i) => {
      const t = line.trim();
      if (!t || t.startsWith('#')) return;
      const [name, role, key, extra] = t.split(/\s+/);
      if (!name || !(role in ROLE_RANK) || !key || extra !== undefined) {
        throw mwError(
          'CONFIG_INVALID',
          `${path}:${i + 1}: expected "<name> <viewer|responder|admin> <key of 16+ characters>"`,
        );
      }
      if (key.length < MIN_SECRET_LENGTH)
        throw mwError('CONFIG_INVALID', `${path}:${i + 1}: the key ${SECRET_TOO_SHORT}`);
      out.push({ name, role: role as Role, key });
    });
  return out;
}
