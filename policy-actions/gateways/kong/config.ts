import { type Static, Type } from '@sinclair/typebox';

/** Settings of the Kong deny adapter (`gateways/kong`): plugins through the Kong Admin API. */
export const KongConfigSchema = Type.Object(
  {
    /** Kong Admin API */
    admin_url: Type.String({ minLength: 1, default: 'http://127.0.0.1:8001', description: 'Kong Admin API' }),
    /** file with an RBAC token (Kong Enterprise), sent as Kong-Admin-Token */
    token_file: Type.Optional(Type.String({ minLength: 1, description: 'Kong-Admin-Token file' })),
    /** CA bundle when the admin_url is https */
    ca_file: Type.Optional(Type.String({ minLength: 1 })),
    /** meshward route (`METHOD /path/{param}`) → Kong route name or id, for route-narrowed IP denies */
    routes: Type.Record(Type.String(), Type.String(), { default: {}, description: 'meshward route → Kong route' }),
    /** requests per minute allowed to a consumer under a rate_limit decision */
    rate_limit_per_minute: Type.Integer({ minimum: 1, default: 60 }),
    /** status code of a denied request */
    deny_status: Type.Integer({ minimum: 400, maximum: 599, default: 403 }),
    timeout_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 5000 }),
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
    retry_base_ms: Type.Integer({ minimum: 1, maximum: 10_000, default: 200 }),
  },
  { additionalProperties: false },
);

export type KongConfig = Static<typeof KongConfigSchema>;

export const defaultKongConfig: KongConfig = {
  admin_url: 'http://127.0.0.1:8001',
  routes: {},
  rate_limit_per_minute: 60,
  deny_status: 403,
  timeout_ms: 5000,
  retries: 2,
  retry_base_ms: 200,
};
