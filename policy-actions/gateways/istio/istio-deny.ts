import type { Decision, EnforcedDecision } from '../../../pipeline/core/decision.js';
import { mwError } from '../../../pipeline/core/errors.js';
import type { Logger } from '../../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';
import { callControlPlane } from '../control-plane.js';
import { denyTarget } from '../deny-keys.js';
import { counted } from '../gateway-metrics.js';
import { type HttpAnswer, statusError } from '../http-json.js';
import { ANNOTATION_DECISION, ANNOTATION_UNTIL, buildPolicy, MANAGED_BY, policyName } from './authorization-policy.js';
import type { IstioConfig } from './config.js';

const GATEWAY = 'istio';

interface PolicyList {
  items?: { metadata?: { name?: string; annotations?: Record<string, string> } }[];
}

/**
 * Deny at Istio sidecars and gateways: one AuthorizationPolicy (action DENY) per decision, created by server-side
 * apply and deleted on revert. The cluster is the index: `sweepExpired` lists the policies meshward manages and
 * deletes those whose `meshward.dev/until` has passed.
 */
export class IstioDenyAdapter implements ActionAdapter {
  readonly type = 'gateways/istio';

  constructor(
    private readonly config: IstioConfig,
    private readonly logger: Logger,
  ) {}

  supports(decision: Decision): boolean {
    return decision.type === 'deny' && ['ip', 'token', 'user', 'principal', 'route'].includes(decision.scope);
  }

  apply(decision: EnforcedDecision): Promise<AdapterResult> {
    return counted(GATEWAY, 'apply', async () => {
      if (!this.supports(decision))
        throw mwError('BAD_REQUEST', `istio cannot enforce ${decision.type}/${decision.scope}`);
      const policy = buildPolicy(decision, denyTarget(decision), this.config);
      const ref = `${this.config.namespace}/${policy.metadata.name}`;
      if (decision.simulated) return { ok: true, detail: `simulated: would apply AuthorizationPolicy ${ref}`, ref };
      const path = `${this.policyPath(policy.metadata.name)}?fieldManager=${encodeURIComponent(this.config.field_manager)}&force=true`;
      const answer = await this.call('PATCH', path, policy, 'application/apply-patch+yaml');
      if (answer.status !== 200 && answer.status !== 201) throw statusError('apply AuthorizationPolicy', answer);
      return { ok: true, detail: `applied AuthorizationPolicy ${ref} (DENY ${decision.scope})`, ref };
    });
  }

  revert(decision: Decision): Promise<AdapterResult> {
    return counted(GATEWAY, 'revert', async () => {
      const name = policyName(this.config.name_prefix, decision.id);
      if (decision.simulated) return { ok: true, detail: 'simulated: nothing to revert' };
      return this.deletePolicy(name);
    });
  }

  async check(): Promise<{ ok: boolean; detail?: string }> {
    try {
      const answer = await this.call('GET', `${this.listPath()}&limit=1`);
      if (answer.status === 404)
        return { ok: false, detail: 'AuthorizationPolicy (security.istio.io/v1) is not served' };
      if (answer.status !== 200) return { ok: false, detail: statusError('list', answer).message };
      return { ok: true, detail: `namespace ${this.config.namespace} reachable` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  /** delete every meshward policy whose until has passed; returns their decision ids */
  sweepExpired(now: number = Date.now()): Promise<string[]> {
    return counted(GATEWAY, 'sweep', async () => {
      const answer = await this.call('GET', this.listPath());
      if (answer.status !== 200) throw statusError('list AuthorizationPolicies', answer);
      const swept: string[] = [];
      for (const item of (answer.body as PolicyList).items ?? []) {
        const until = Date.parse(item.metadata?.annotations?.[ANNOTATION_UNTIL] ?? '');
        const name = item.metadata?.name;
        if (!name || Number.isNaN(until) || until > now) continue;
        await this.deletePolicy(name);
        swept.push(item.metadata?.annotations?.[ANNOTATION_DECISION] ?? name);
      }
      if (swept.length > 0) this.logger.info({ gateway: GATEWAY, expired: swept.length }, 'swept expired policies');
      return swept;
    });
  }

  private async deletePolicy(name: string): Promise<AdapterResult> {
    const answer = await this.call('DELETE', this.policyPath(name));
    const ref = `${this.config.namespace}/${name}`;
    if (answer.status === 404) return { ok: true, detail: `AuthorizationPolicy ${ref} already absent`, ref };
    if (answer.status !== 200 && answer.status !== 202) throw statusError('delete AuthorizationPolicy', answer);
    return { ok: true, detail: `deleted AuthorizationPolicy ${ref}`, ref };
  }

  private policyPath(name: string): string {
    return `/apis/security.istio.io/v1/namespaces/${encodeURIComponent(this.config.namespace)}/authorizationpolicies/${name}`;
  }

  private listPath(): string {
    const [k, v] = Object.entries(MANAGED_BY)[0];
    return `/apis/security.istio.io/v1/namespaces/${encodeURIComponent(this.config.namespace)}/authorizationpolicies?labelSelector=${encodeURIComponent(`${k}=${v}`)}`;
  }

  private call(method: string, path: string, body?: unknown, contentType?: string): Promise<HttpAnswer> {
    const plane = { url: this.config.api_server, header: 'authorization', scheme: 'Bearer', config: this.config };
    return callControlPlane(plane, method, path, { body, contentType });
  }
}
