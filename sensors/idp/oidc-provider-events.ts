import { type Static, Type } from '@sinclair/typebox';
import type { GenericIdpEvent, IdpEventType } from './events.js';

/**
 * An oidc-provider event as the bridge flattens it (the provider's own arguments are Koa contexts and models, which
 * do not cross a process boundary). `name` is the provider's event name; `revocation.success` is synthesised by the
 * bridge from the revocation endpoint's answer, since the provider emits only `revocation.error`.
 */
export const OidcProviderEventSchema = Type.Object(
  {
    source: Type.Literal('oidc-provider'),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    ts: Type.Optional(Type.Number({ minimum: 0 })),
    account_id: Type.Optional(Type.String({ maxLength: 256 })),
    client_id: Type.Optional(Type.String({ maxLength: 256 })),
    sid: Type.Optional(Type.String({ maxLength: 256 })),
    grant_type: Type.Optional(Type.String({ maxLength: 256 })),
    error: Type.Optional(Type.String({ maxLength: 128 })),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    path: Type.Optional(Type.String({ pattern: '^/', maxLength: 1024 })),
    method: Type.Optional(Type.String({ maxLength: 16 })),
    token_hash: Type.Optional(Type.String({ pattern: '^h1:[0-9a-f]{32}$' })),
    duration_ms: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000 })),
  },
  { additionalProperties: false },
);
export type OidcProviderEvent = Static<typeof OidcProviderEventSchema>;

const NAMES: Record<string, IdpEventType | ((e: OidcProviderEvent) => IdpEventType)> = {
  'grant.success': (e) => (e.grant_type === 'refresh_token' ? 'token.refreshed' : 'token.issued'),
  'grant.error': 'token.failure',
  'authorization.error': 'login.failure',
  'interaction.ended': 'login.success',
  'end_session.success': 'logout',
  'revocation.success': 'token.revoked',
  'revocation.error': 'token.revocation_failure',
  'access_token.issued': 'token.issued',
  'access_token.saved': 'token.issued',
  'client_credentials.saved': 'token.issued',
  'access_token.destroyed': 'token.revoked',
  'client_credentials.destroyed': 'token.revoked',
};

/** the oidc-provider events the receiver understands */
export const OIDC_PROVIDER_EVENT_NAMES = Object.keys(NAMES);

/** the generic event for an oidc-provider event, or null for events meshward does not record */
export function fromOidcProvider(e: OidcProviderEvent): GenericIdpEvent | null {
  // own names only: `constructor` or `toString` is an event meshward does not record, not Object.prototype's member
  if (!Object.hasOwn(NAMES, e.name)) return null;
  const m = NAMES[e.name];
  const out: GenericIdpEvent = { event: typeof m === 'function' ? m(e) : m };
  if (e.ts !== undefined) out.ts = e.ts;
  if (e.account_id) out.sub = e.account_id;
  if (e.client_id) out.client_id = e.client_id;
  if (e.sid) out.session_id = e.sid;
  if (e.token_hash) out.token_hash = e.token_hash;
  if (e.ip) out.ip = e.ip;
  if (e.path) out.path = e.path;
  if (e.method) out.method = e.method;
  if (e.status) out.status = e.status;
  if (e.error) out.error = e.error;
  if (e.grant_type) out.grant_type = e.grant_type;
  if (e.duration_ms !== undefined) out.duration_ms = e.duration_ms;
  return out;
}
