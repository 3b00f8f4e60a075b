import { createHash } from 'node:crypto';
import type { Decision } from '../../../pipeline/core/decision.js';
import { mwError } from '../../../pipeline/core/errors.js';
import type { Logger } from '../../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';
import { callControlPlane } from '../control-plane.js';
import { denyTarget } from '../deny-keys.js';
import { counted } from '../gateway-metrics.js';
import { type HttpAnswer, statusError } from '../http-json.js';
import type { KongConfig } from './config.js';

const GATEWAY = 'kong';
const OWNER_TAG = 'meshward';

interface KongPlugin {
  id: string;
  name: string;
  config: Record<string, unknown>;
  tags?: string[] | null;
  consumer?: { id: string } | null;
  service?: { id: string } | null;
  route?: { id: string } | null;
}

const short = (s: string, n: number): string => createHash('sha256').update(s).digest('hex').slice(0, n);

/** the tag naming one decision on a plugin; for IP denies it also names the IP, so shared IPs stay until the last */
const decisionTag = (id: string, ip?: string): string => `mwd-${short(id, 12)}${ip ? `-${short(ip, 8)}` : ''}`;

/**
 * Deny at Kong through its Admin API. A user is a Kong consumer: `request-termination` (deny) or `rate-limiting`
 * (rate_limit) on the consumer. An IP goes into the deny list of one meshward-owned `ip-restriction` plugin,
 * global, on the decision's service, or on a mapped route. Kong allows one instance of a plugin per scope, so
 * several decisions share a plugin: each adds its tag, and the plugin is deleted with the last tag (the plugin id is
 * the `ref`). A plugin of the same name that meshward did not create is left alone (CONFLICT).
 */
export class KongDenyAdapter implements ActionAdapter {
  readonly type = 'gateways/kong';

  constructor(
    private readonly config: KongConfig,
    private readonly logger: Logger,
  ) {}

  supports(decision: Decision): boolean {
    if (decision.scope === 'user') return decision.type === 'deny' || decision.type === 'rate_limit';
    return decision.type === 'deny' && decision.scope === 'ip';
  }

  apply(decision: Decision): Promise<AdapterResult> {
    return counted(GATEWAY, 'apply', async () => {
      const plan = this.plan(decision);
      if (decision.simulated) return { ok: true, detail: `simulated: would use ${plan.name} at ${plan.scopePath}` };
      const existing = await this.find(plan.scopePath, plan.name);
      if (existing) {
        const tags = existing.tags ?? [];
        const deny = plan.ip ? ((existing.config.deny as string[] | null) ?? []) : undefined;
        const needsIp = plan.ip !== undefined && !deny?.includes(plan.ip);
        if (tags.includes(plan.tag) && !needsIp) {
          return { ok: true, detail: `${plan.name} ${existing.id} already holds this decision`, ref: existing.id };
        }
        const patch: Record<string, unknown> = { tags: tags.includes(plan.tag) ? tags : [...tags, plan.tag] };
        if (needsIp) patch.config = { deny: [...(deny ?? []), plan.ip] };
        await this.expect('PATCH', `/plugins/${existing.id}`, [200], patch);
        return { ok: true, detail: `added to ${plan.name} ${existing.id}`, ref: existing.id };
      }
      const created = (await this.expect('POST', `${plan.scopePath}/plugins`, [201], {
        name: plan.name,
        config: plan.config,
        tags: [OWNER_TAG, plan.tag],
      })) as KongPlugin;
      return { ok: true, detail: `created ${plan.name} ${created.id}`, ref: created.id };
    });
  }

  revert(decision: Decision): Promise<AdapterResult> {
    return counted(GATEWAY, 'revert', async () => {
      const plan = this.plan(decision);
      if (decision.simulated) return { ok: true, detail: 'simulated: nothing to revert' };
      const existing = await this.find(plan.scopePath, plan.name);
      if (!existing?.tags?.includes(plan.tag)) return { ok: true, detail: `no ${plan.name} holds this decision` };
      const tags = existing.tags.filter((t) => t !== plan.tag);
      if (!tags.some((t) => t.startsWith('mwd-'))) {
        await this.expect('DELETE', `/plugins/${existing.id}`, [204, 404]);
        return { ok: true, detail: `deleted ${plan.name} ${existing.id}`, ref: existing.id };
      }
      const patch: Record<string, unknown> = { tags };
      if (plan.ip) {
        const ipTag = plan.tag.slice(plan.tag.lastIndexOf('-'));
        if (!tags.some((t) => t.startsWith('mwd-') && t.endsWith(ipTag))) {
          patch.config = { deny: ((existing.config.deny as string[] | null) ?? []).filter((x) => x !== plan.ip) };
        }
      }
      await this.expect('PATCH', `/plugins/${existing.id}`, [200], patch);
      return { ok: true, detail: `removed from ${plan.name} ${existing.id}`, ref: existing.id };
    });
  }

  async check(): Promise<{ ok: boolean; detail?: string }> {
    try {
      const answer = await this.call('GET', '/status');
      if (answer.status !== 200) return { ok: false, detail: statusError('status', answer).message };
      const db = (answer.body as { database?: { reachable?: boolean } }).database;
      return db?.reachable === false
        ? { ok: false, detail: 'Kong database unreachable' }
        : { ok: true, detail: 'admin API reachable' };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  private plan(decision: Decision) {
    if (!this.supports(decision))
      throw mwError('BAD_REQUEST', `kong cannot enforce ${decision.type}/${decision.scope}`);
    const target = denyTarget(decision);
    if (target.scope === 'user') {
      if (decision.route) throw mwError('BAD_REQUEST', 'kong: a consumer decision cannot be narrowed to a route');
      const rate = decision.type === 'rate_limit';
      return {
        name: rate ? 'rate-limiting' : 'request-termination',
        scopePath: `/consumers/${encodeURIComponent(target.value)}`,
        config: rate
          ? { minute: this.config.rate_limit_per_minute, policy: 'local' }
          : { status_code: this.config.deny_status, message: 'denied by meshward' },
        tag: decisionTag(decision.id),
        ip: undefined,
      };
    }
    let scopePath = '';
    if (decision.route) {
      const kongRoute = this.config.routes[decision.route];
      if (!kongRoute) throw mwError('BAD_REQUEST', `kong: no Kong route is mapped for "${decision.route}"`);
      scopePath = `/routes/${encodeURIComponent(kongRoute)}`;
    } else if (decision.service) {
      scopePath = `/services/${encodeURIComponent(decision.service)}`;
    }
    return {
      name: 'ip-restriction',
      scopePath,
      config: { deny: [target.value], status: this.config.deny_status, message: 'denied by meshward' },
      tag: decisionTag(decision.id, target.value),
      ip: target.value,
    };
  }

  /** the meshward-owned plugin of this name at this scope (global when scopePath is empty) */
  private async find(scopePath: string, name: string): Promise<KongPlugin | undefined> {
    const path = scopePath ? `${scopePath}/plugins?size=1000` : `/plugins?tags=${OWNER_TAG}&size=1000`;
    const answer = await this.call('GET', path);
    if (answer.status === 404) throw mwError('NOT_FOUND', `kong: ${scopePath} does not exist`);
    if (answer.status !== 200) throw statusError('list plugins', answer);
    const plugins = ((answer.body as { data?: KongPlugin[] }).data ?? []).filter(
      (p) => p.name === name && (p.tags ?? []).includes(OWNER_TAG),
    );
    return scopePath ? plugins[0] : plugins.find((p) => !p.consumer && !p.service && !p.route);
  }

  private async expect(method: string, path: string, ok: number[], body?: unknown): Promise<unknown> {
    const answer = await this.call(method, path, body);
    if (!ok.includes(answer.status)) {
      const err = statusError(`${method} ${path}`, answer);
      if (answer.status === 409)
        this.logger.warn({ gateway: GATEWAY, path }, 'a plugin meshward does not own is in the way');
      throw err;
    }
    return answer.body;
  }

  private call(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const plane = { url: this.config.admin_url, header: 'kong-admin-token', config: this.config };
    return callControlPlane(plane, method, path, { body });
  }
}
