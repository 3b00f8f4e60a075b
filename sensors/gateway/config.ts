import { type Static, Type } from '@sinclair/typebox';
import { REDACT_FIELDS, redactDefaults } from '../common/redact-config.js';
import { SharedSecret } from '../../pipeline/config/shared-secret.js';
import { ShipperConfigSchema, defaultShipperConfig } from '../common/shipper-config.js';

export const UserConfigSchema = Type.Object(
  {
    /**
     * where the user label comes from: `jwt_sub` decodes the bearer JWT's `sub` WITHOUT verifying it (a label for
     * analytics, not an identity proof), `request_property` reads a dotted path on the request set by the app's own
     * auth (e.g. `user.id`), `header` reads a header set by an upstream authenticator, `none` records no user
     */
    from: Type.Union(
      [Type.Literal('jwt_sub'), Type.Literal('request_property'), Type.Literal('header'), Type.Literal('none')],
      { default: 'jwt_sub' },
    ),
    /** for request_property: the dotted path, e.g. user.id */
    property: Type.String({ default: 'user.id' }),
    /** for header: the header name, e.g. x-authenticated-user */
    header: Type.String({ default: 'x-authenticated-user' }),
  },
  { additionalProperties: false, default: {} },
);

export const EnforceConfigSchema = Type.Object(
  {
    /** enforce meshward decisions (deny, step_up) in this gateway */
    enabled: Type.Boolean({ default: false }),
    /** the analyst API decision feed, e.g. http://meshward:7072/v1/decisions/stream?startup=true */
    decisions_url: Type.String({ default: '' }),
    /** bearer token for the decision feed (never logged) */
    decisions_token: Type.String({ default: '' }),
    /** the hook that enforces: onRequest (before body parsing) or preHandler (after the app's own auth hooks) */
    hook: Type.Union([Type.Literal('onRequest'), Type.Literal('preHandler')], { default: 'onRequest' }),
    /**
     * JWKS URL of the IdP: when set, the `acr` claim for step-up is read from a signature-verified token; when empty
     * the claim is read unverified (a warning is logged at start)
     */
    jwks_url: Type.String({ default: '' }),
    /** expected `iss` of verified tokens (empty: not checked) */
    issuer: Type.String({ default: '' }),
    /** expected `aud` of verified tokens (empty: not checked) */
    audience: Type.String({ default: '' }),
    /** text of error_description in step-up challenges */
    step_up_description: Type.String({ default: 'A stronger authentication is required for this request' }),
  },
  { additionalProperties: false, default: {} },
);

export const GatewaySensorConfigSchema = Type.Object(
  {
    /** sensor instance id carried in every record */
    sensor_id: Type.String({ minLength: 1, maxLength: 256, default: 'fastify-gateway' }),
    /** destination service name; empty = the request's host name (without port) */
    service: Type.String({ maxLength: 256, default: '' }),
    /**
     * file holding the key of the token hash (HMAC-SHA256); the same key across sensors makes hashes comparable. This
     * or token_hash_key is required, there is no default key. Never logged
     */
    token_hash_key_file: Type.Optional(Type.String({ minLength: 1 })),
    /** the key inline (prefer token_hash_key_file) */
    token_hash_key: Type.Optional(SharedSecret()),
    user: UserConfigSchema,
    /** query parameters copied into record params (values redacted by name and by secret-looking value) */
    query_params: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 256, default: [] }),
    ...REDACT_FIELDS,
    /** route templates not recorded, e.g. /healthz */
    ignore_routes: Type.Array(Type.String(), { default: [] }),
    /** region label carried in records (empty: none) */
    region: Type.String({ maxLength: 64, default: '' }),
    /**
     * also record requests the client gave up on before the response (status 499, tag `aborted: client`, duration
     * until the abort): scanners and slow clients that never wait show up too. Off by default: it costs an onRequest
     * hook and a `close` listener on every request
     */
    record_aborted: Type.Boolean({ default: false }),
    shipper: ShipperConfigSchema,
    enforce: EnforceConfigSchema,
  },
  { additionalProperties: false },
);
export type GatewaySensorConfig = Static<typeof GatewaySensorConfigSchema>;
export type EnforceConfig = Static<typeof EnforceConfigSchema>;

/** the defaults; a key (token_hash_key_file or token_hash_key) has none and must be given */
export const defaultGatewaySensorConfig: GatewaySensorConfig = {
  sensor_id: 'fastify-gateway',
  service: '',
  user: { from: 'jwt_sub', property: 'user.id', header: 'x-authenticated-user' },
  query_params: [],
  ...redactDefaults(),
  ignore_routes: [],
  region: '',
  record_aborted: false,
  shipper: { ...defaultShipperConfig },
  enforce: {
    enabled: false,
    decisions_url: '',
    decisions_token: '',
    hook: 'onRequest',
    jwks_url: '',
    issuer: '',
    audience: '',
    step_up_description: 'A stronger authentication is required for this request',
  },
};
