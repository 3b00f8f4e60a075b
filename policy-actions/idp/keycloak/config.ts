import { type Static, Type } from '@sinclair/typebox';

export const KeycloakConfigSchema = Type.Object(
  {
    /** Keycloak base URL, e.g. https://sso.example (add /auth for Keycloak before 17) */
    base_url: Type.String({ minLength: 1 }),
    /** realm whose users and sessions are acted on */
    realm: Type.String({ minLength: 1 }),
    /** realm of the admin client (default: the same realm) */
    token_realm: Type.Optional(Type.String({ minLength: 1 })),
    /** confidential client with a service account holding realm-management manage-users */
    client_id: Type.String({ minLength: 1 }),
    /** client secret inline (prefer client_secret_file) */
    client_secret: Type.Optional(Type.String({ minLength: 1 })),
    /** file holding the client secret */
    client_secret_file: Type.Optional(Type.String({ minLength: 1 })),
    /** per-request timeout, ms */
    timeout_ms: Type.Integer({ minimum: 100, default: 5000 }),
  },
  { additionalProperties: false },
);
export type KeycloakConfig = Static<typeof KeycloakConfigSchema>;

export const defaultKeycloakConfig: KeycloakConfig = {
  base_url: 'http://127.0.0.1:8080',
  realm: 'master',
  client_id: 'meshward',
  timeout_ms: 5000,
};
