import { type Static, Type } from '@sinclair/typebox';
import { SharedSecret } from '../../pipeline/config/shared-secret.js';

export const IdpSensorConfigSchema = Type.Object(
  {
    /**
     * the identity provider's name: the `service` of its records and the `idp` label of its metrics; in the
     * `receivers:` section a receiver named after a slash (`idp/okta`) takes its name (`okta`) when not given
     */
    idp_name: Type.String({ minLength: 1, maxLength: 256, default: 'idp' }),
    /** host recorded for the IdP's endpoints (default: idp_name) */
    host: Type.Optional(Type.String({ maxLength: 512 })),
    /**
     * sensor instance id in records; in the `receivers:` section a receiver named after a slash (`idp/okta`) takes
     * its key when not given
     */
    sensor_id: Type.String({ minLength: 1, maxLength: 256, default: 'idp-webhook' }),
    /** webhook path */
    path: Type.String({ pattern: '^/', default: '/v1/idp/events' }),
    /** bearer token the IdP (or the bridge) must send, inline (prefer webhook_token_file); none = no check here */
    webhook_token: Type.Optional(SharedSecret()),
    webhook_token_file: Type.Optional(Type.String({ minLength: 1 })),
    /** key of the keyed token hash (the same key as every other sensor), inline (prefer token_hash_key_file) */
    token_hash_key: Type.Optional(SharedSecret()),
    /** file holding the key; this or token_hash_key is required, there is no default key */
    token_hash_key_file: Type.Optional(Type.String({ minLength: 1 })),
    /** most events in one request */
    max_events: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
    /** largest request body, bytes */
    body_limit: Type.Integer({ minimum: 1024, default: 1 << 20 }),
  },
  { additionalProperties: false },
);
export type IdpSensorConfig = Static<typeof IdpSensorConfigSchema>;

export const defaultIdpSensorConfig: IdpSensorConfig = {
  idp_name: 'idp',
  sensor_id: 'idp-webhook',
  path: '/v1/idp/events',
  max_events: 500,
  body_limit: 1 << 20,
};
