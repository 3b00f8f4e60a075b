import { createHash } from 'node:crypto';
import type { EnforcedDecision } from '../../../pipeline/core/decision.js';
import type { DenyTarget, RouteMatch } from '../deny-keys.js';
import type { IstioConfig } from './config.js';

/** An Istio `security.istio.io/v1` AuthorizationPolicy with action DENY for one decision. */
export interface AuthorizationPolicy {
  apiVersion: 'security.istio.io/v1';
  kind: 'AuthorizationPolicy';
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    selector?: { matchLabels: Record<string, string> };
    action: 'DENY';
    rules: IstioRule[];
  };
}

interface IstioRule {
  from?: { source: Record<string, string[]> }[];
  to?: { operation: { methods?: string[]; paths: string[] } }[];
  when?: { key: string; values: string[] }[];
}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'meshward' };
export const ANNOTATION_DECISION = 'meshward.dev/decision-id';
export const ANNOTATION_UNTIL = 'meshward.dev/until';

/** a stable DNS-1123 name from the decision id */
export const policyName = (prefix: string, decisionId: string): string =>
  `${prefix}${createHash('sha256').update(decisionId).digest('hex').slice(0, 20)}`;

/** Istio principals have no `spiffe://` scheme: `cluster.local/ns/shop/sa/cart` */
export const istioPrincipal = (value: string): string => value.replace(/^spiffe:\/\//, '');

/** Istio path matching: exact, `prefix*`; a prefix that ends a template stops at the `/` */
function operation(route: RouteMatch): { operation: { methods?: string[]; paths: string[] } } {
  const paths = route.prefix.endsWith('/') ? [`${route.prefix}*`] : [route.prefix, `${route.prefix}/*`];
  return { operation: route.method ? { methods: [route.method], paths } : { paths } };
}

export function buildPolicy(decision: EnforcedDecision, target: DenyTarget, config: IstioConfig): AuthorizationPolicy {
  const rule: IstioRule = {};
  switch (target.scope) {
    case 'ip':
      rule.from = [{ source: { [config.ip_field]: [target.value] } }];
      break;
    case 'principal':
      rule.from = [{ source: { principals: [istioPrincipal(target.value)] } }];
      break;
    case 'token':
      rule.when = [{ key: `request.headers[${config.token_header}]`, values: [target.value] }];
      break;
    case 'user':
      rule.when = [{ key: `request.auth.claims[${config.user_claim}]`, values: [target.value] }];
      break;
    case 'route':
      break;
  }
  if (target.route) rule.to = [operation(target.route)];
  const spec: AuthorizationPolicy['spec'] = { action: 'DENY', rules: [rule] };
  if (Object.keys(config.selector).length > 0) spec.selector = { matchLabels: { ...config.selector } };
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: {
      name: policyName(config.name_prefix, decision.id),
      namespace: config.namespace,
      labels: { ...MANAGED_BY },
      annotations: { [ANNOTATION_DECISION]: decision.id, [ANNOTATION_UNTIL]: new Date(decision.until).toISOString() },
    },
    spec: { ...(spec.selector ? { selector: spec.selector } : {}), action: spec.action, rules: spec.rules },
  };
}
