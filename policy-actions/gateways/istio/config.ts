import { type Static, Type } from '@sinclair/typebox';

/** Settings of the Istio deny adapter (`gateways/istio`): AuthorizationPolicy resources through the Kubernetes API. */
export const IstioConfigSchema = Type.Object(
  {
    /** Kubernetes API server */
    api_server: Type.String({ minLength: 1, default: 'https://kubernetes.default.svc', description: 'Kubernetes API' }),
    /** bearer token file of a service account allowed to apply/delete authorizationpolicies in `namespace` */
    token_file: Type.Optional(
      Type.String({ default: '/var/run/secrets/kubernetes.io/serviceaccount/token', description: 'API bearer token' }),
    ),
    /** CA bundle of the API server */
    ca_file: Type.Optional(
      Type.String({ default: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', description: 'API server CA' }),
    ),
    /** namespace of the policies (the root namespace, e.g. istio-system, makes them mesh-wide) */
    namespace: Type.String({ minLength: 1, default: 'default', description: 'namespace of the policies' }),
    /** workload labels the policies select; empty = every workload of the namespace */
    selector: Type.Record(Type.String(), Type.String(), { default: {}, description: 'workload matchLabels' }),
    /** prefix of the generated policy names (DNS-1123) */
    name_prefix: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*)?$', default: 'meshward-deny-', maxLength: 30 }),
    /** server-side apply field manager */
    field_manager: Type.String({ minLength: 1, default: 'meshward' }),
    /** where a denied IP is matched: the peer address (ipBlocks) or the client address from X-Forwarded-For */
    ip_field: Type.Union([Type.Literal('ipBlocks'), Type.Literal('remoteIpBlocks')], { default: 'ipBlocks' }),
    /** request header holding the meshward token hash, set by the meshward filter in the sidecar */
    token_header: Type.String({ minLength: 1, default: 'x-meshward-token-hash' }),
    /** JWT claim naming the user (needs a RequestAuthentication for the workloads) */
    user_claim: Type.String({ minLength: 1, default: 'sub' }),
    timeout_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 5000 }),
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
    retry_base_ms: Type.Integer({ minimum: 1, maximum: 10_000, default: 200 }),
  },
  { additionalProperties: false },
);

export type IstioConfig = Static<typeof IstioConfigSchema>;

export const defaultIstioConfig: IstioConfig = {
  api_server: 'https://kubernetes.default.svc',
  token_file: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  ca_file: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
  namespace: 'default',
  selector: {},
  name_prefix: 'meshward-deny-',
  field_manager: 'meshward',
  ip_field: 'ipBlocks',
  token_header: 'x-meshward-token-hash',
  user_claim: 'sub',
  timeout_ms: 5000,
  retries: 2,
  retry_base_ms: 200,
};
