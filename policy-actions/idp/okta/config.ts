import { type Static, Type } from '@sinclair/typebox';

export const OktaConfigSchema = Type.Object(
  {
    /** the Okta org URL, e.g. https://acme.okta.com */
    org_url: Type.String({ minLength: 1 }),
    /** `ssws` for an API token (Authorization: SSWS ...), `bearer` for an OAuth 2.0 access token with okta.users.manage */
    auth: Type.Union([Type.Literal('ssws'), Type.Literal('bearer')], { default: 'ssws' }),
    /** the API token or access token inline (prefer token_file) */
    token: Type.Optional(Type.String({ minLength: 1 })),
    /** file holding the token */
    token_file: Type.Optional(Type.String({ minLength: 1 })),
    /** also revoke the user's OAuth/OIDC tokens issued by Okta (`oauthTokens=true`) */
    revoke_oauth_tokens: Type.Boolean({ default: true }),
    /** per-request timeout, ms */
    timeout_ms: Type.Integer({ minimum: 100, default: 5000 }),
  },
  { additionalProperties: false },
);
export type OktaConfig = Static<typeof OktaConfigSchema>;

export const defaultOktaConfig: OktaConfig = {
  org_url: 'https://example.okta.com',
  auth: 'ssws',
  revoke_oauth_tokens: true,
  timeout_ms: 5000,
};
