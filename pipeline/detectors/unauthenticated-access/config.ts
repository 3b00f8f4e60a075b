import { type Static, Type } from '@sinclair/typebox';

/** routes that answer without a credential by design: health probes, discovery documents, sign-in and token flows */
export const DEFAULT_PUBLIC_ROUTES = [
  // load balancers' health checks often ask for the root
  '/',
  '/favicon.ico',
  '/robots.txt',
  '*/health',
  '*/healthz',
  '*/health/*',
  '*/ready',
  '*/readyz',
  '*/live',
  '*/livez',
  '*/ping',
  '*/metrics',
  '/.well-known/*',
  '*/login',
  '*/logout',
  '*/signin',
  '*/signup',
  '*/register',
  '*/token',
  '*/oauth/*',
  '*/oauth2/*',
  '*/password/reset*',
  '*/forgot-password',
  'OPTIONS *',
];

export const UnauthenticatedAccessConfigSchema = Type.Object(
  {
    /** event time after a destination service is first seen during which its endpoints' access is learned */
    learning_ms: Type.Integer({
      minimum: 0,
      default: 3_600_000,
      description: 'learning period per destination service, ms: endpoints answering anonymous calls then are open',
    }),
    /** accepted anonymous calls to one endpoint before it is reported (one stray call is not a finding) */
    min_anonymous: Type.Integer({ minimum: 1, default: 3, description: 'anonymous accepted calls before an alert' }),
    /**
     * credentialed calls that make a requirement: the endpoint's own (it required a credential) or, for an endpoint
     * new since learning, its service's other endpoints' (the service requires one)
     */
    min_authenticated: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'credentialed calls before an endpoint or service counts as requiring a credential',
    }),
    /** the service rule: at most this share of the other endpoints' accepted calls may be anonymous */
    max_anonymous_share: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.01,
      description:
        "share of a service's accepted calls that may be anonymous while it counts as requiring a credential",
    }),
    /** raise an endpoint again only after this much event time has passed since its last alert */
    realert_ms: Type.Integer({ minimum: 0, default: 3_600_000, description: 'ms between alerts for one endpoint' }),
    /**
     * routes exempt: `*` globs on the route template (`/internal/*`), or on `METHOD /route` when the pattern has a space
     * (`OPTIONS *`, `GET /api/products*`)
     */
    public_routes: Type.Array(Type.String({ minLength: 1 }), {
      default: DEFAULT_PUBLIC_ROUTES,
      description: 'routes that answer without a credential by design (globs; `METHOD /route` with a space)',
    }),
    max_endpoints: Type.Integer({ minimum: 1, default: 100_000, description: 'cap on tracked endpoints' }),
    max_services: Type.Integer({ minimum: 1, default: 10_000, description: 'cap on tracked destination services' }),
  },
  { additionalProperties: false },
);
export type UnauthenticatedAccessConfig = Static<typeof UnauthenticatedAccessConfigSchema>;
