import { type Static, Type } from '@sinclair/typebox';

export const CaepSetConfigSchema = Type.Object(
  {
    /** the receiver's RFC 8935 push endpoint */
    receiver_url: Type.String({ minLength: 1 }),
    /** `iss` of the Security Event Tokens (meshward's transmitter id) */
    issuer: Type.String({ minLength: 1 }),
    /** `aud` of the SETs (the receiver) */
    audience: Type.String({ minLength: 1 }),
    /** ES256 private key: a PKCS#8 PEM file or a JSON file holding a JWK */
    key_file: Type.Optional(Type.String({ minLength: 1 })),
    /** ES256 private key as an inline JWK (prefer key_file) */
    key_jwk: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** `kid` header; defaults to the JWK's kid */
    kid: Type.Optional(Type.String({ minLength: 1 })),
    /** issuer of user subjects (sub_id format iss_sub); defaults to `issuer` */
    subject_issuer: Type.Optional(Type.String({ minLength: 1 })),
    /** bearer token the receiver expects, inline (prefer bearer_token_file) */
    bearer_token: Type.Optional(Type.String({ minLength: 1 })),
    bearer_token_file: Type.Optional(Type.String({ minLength: 1 })),
    /** namespace of assurance levels in assurance-level-change events */
    assurance_namespace: Type.String({ default: 'RFC8176' }),
    /** per-request timeout, ms */
    timeout_ms: Type.Integer({ minimum: 100, default: 5000 }),
  },
  { additionalProperties: false },
);
export type CaepSetConfig = Static<typeof CaepSetConfigSchema>;

export const defaultCaepSetConfig: CaepSetConfig = {
  receiver_url: 'http://127.0.0.1/events',
  issuer: 'https://meshward.example',
  audience: 'https://receiver.example',
  assurance_namespace: 'RFC8176',
  timeout_ms: 5000,
};
