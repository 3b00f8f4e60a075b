import { type Static, Type } from '@sinclair/typebox';

export const OAuthRevocationConfigSchema = Type.Object(
  {
    /** RFC 7009 revocation endpoint, e.g. https://idp.example/oauth2/revoke */
    revocation_endpoint: Type.String({ minLength: 1 }),
    /** RFC 7662 introspection endpoint; when set, tokens are checked before revoking and check() uses it */
    introspection_endpoint: Type.Optional(Type.String({ minLength: 1 })),
    /** client id meshward authenticates as (client_secret_basic) */
    client_id: Type.String({ minLength: 1 }),
    /** client secret inline (prefer client_secret_file) */
    client_secret: Type.Optional(Type.String({ minLength: 1 })),
    /** file holding the client secret */
    client_secret_file: Type.Optional(Type.String({ minLength: 1 })),
    /** token_type_hint sent with revocation */
    token_type_hint: Type.Union([Type.Literal('access_token'), Type.Literal('refresh_token')], {
      default: 'access_token',
    }),
    /** per-request timeout, ms */
    timeout_ms: Type.Integer({ minimum: 100, default: 5000 }),
  },
  { additionalProperties: false },
);
export type OAuthRevocationConfig = Static<typeof OAuthRevocationConfigSchema>;

export const defaultOAuthRevocationConfig: OAuthRevocationConfig = {
  revocation_endpoint: 'http://127.0.0.1/revoke',
  client_id: 'meshward',
  token_type_hint: 'access_token',
  timeout_ms: 5000,
};
