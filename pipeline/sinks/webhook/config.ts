import { type Static, Type } from '@sinclair/typebox';

export const WebhookSinkConfig = Type.Object(
  {
    /** where to POST */
    url: Type.String({ pattern: '^https?://', description: 'receiver URL' }),
    /** body format: the alert as is, an OCSF Detection Finding, or a Slack-compatible message */
    format: Type.Union([Type.Literal('json'), Type.Literal('ocsf'), Type.Literal('slack')], { default: 'json' }),
    /** file holding a shared secret: each body is signed, `X-Meshward-Signature: sha256=<hex HMAC>` */
    secret_file: Type.Optional(Type.String()),
    /** file holding a bearer token for the receiver */
    bearer_token_file: Type.Optional(Type.String()),
    timeout_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 5_000 }),
  },
  { additionalProperties: false },
);
export type WebhookSinkConfig = Static<typeof WebhookSinkConfig>;
