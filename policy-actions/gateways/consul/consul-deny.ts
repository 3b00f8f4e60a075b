import type { Decision } from '../../../pipeline/core/decision.js';
import { mwError } from '../../../pipeline/core/errors.js';
import type { Logger } from '../../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterResult } from '../../adapter.js';
import { callControlPlane } from '../control-plane.js';
import { denyTarget } from '../deny-keys.js';
import { counted } from '../gateway-metrics.js';
import { type HttpAnswer, statusError } from '../http-json.js';
import type { ConsulConfig } from './config.js';
import {
  denySource,
  type IntentionsEntry,
  marker,
  META_CREATED,
  metaOriginal,
  serviceOfPrincipal,
  writable,
} from './intentions.js';

const GATEWAY = 'consul';

/**
 * Deny a calling service at Consul service mesh: a `deny` source (or an L7 deny permission for a route) in the
 * destination's `service-intentions` config entry. Writes are compare-and-set on the entry's ModifyIndex, so a
 * concurrent edit by an operator is never overwritten; an operator's own source for the caller is kept in the
 * entry's Meta and restored on revert.
 */
export class ConsulDenyAdapter implements ActionAdapter {
  readonly type = 'gateways/consul';

  constructor(
    private readonly config: ConsulConfig,
    private readonly logger: Logger,
  ) {}

  supports(decision: Decision): boolean {
    return decision.type === 'deny' && decision.scope === 'principal';
  }

  apply(decision: Decision): Promise<AdapterResult> {
    return counted(GATEWAY, 'apply', async () => {
      const { dest, source, route } = this.parse(decision);
      const ref = `${dest}<-${source}`;
      if (decision.simulated) return { ok: true, detail: `simulated: would deny ${ref}`, ref };
      return this.casLoop(async () => {
        const { entry, index } = await this.read(dest);
        const sources = entry?.Sources ?? [];
        const at = sources.findIndex((s) => s.Name === source);
        const current = at >= 0 ? sources[at] : undefined;
        if (current?.Description?.startsWith('meshward:')) {
          return { ok: true, detail: `intention ${ref} already denied by meshward`, ref };
        }
        const meta = { ...(entry?.Meta ?? {}) };
        if (!entry) meta[META_CREATED] = 'true';
        if (current) meta[metaOriginal(source)] = JSON.stringify(current);
        const next = denySource(source, decision.id, route, current);
        const nextSources = at >= 0 ? sources.map((s, i) => (i === at ? next : s)) : [...sources, next];
        const body: IntentionsEntry = {
          ...(entry ? writable(entry) : {}),
          Kind: 'service-intentions',
          Name: dest,
          Sources: nextSources,
          Meta: meta,
        };
        if (!(await this.write(body, index))) return undefined;
        return {
          ok: true,
          detail: `intention ${ref} set to deny${route ? ` on ${route.method ?? '*'} ${route.prefix}` : ''}`,
          ref,
        };
      });
    });
  }

  revert(decision: Decision): Promise<AdapterResult> {
    return counted(GATEWAY, 'revert', async () => {
      const { dest, source } = this.parse(decision);
      const ref = `${dest}<-${source}`;
      if (decision.simulated) return { ok: true, detail: 'simulated: nothing to revert' };
      return this.casLoop(async () => {
        const { entry, index } = await this.read(dest);
        const at = entry?.Sources.findIndex((s) => s.Name === source && s.Description === marker(decision.id)) ?? -1;
        if (!entry || at < 0) return { ok: true, detail: `no meshward intention ${ref}`, ref };
        const meta = { ...(entry.Meta ?? {}) };
        const original = meta[metaOriginal(source)];
        delete meta[metaOriginal(source)];
        const sources = original
          ? entry.Sources.map((s, i) => (i === at ? JSON.parse(original) : s))
          : entry.Sources.filter((_, i) => i !== at);
        if (sources.length === 0 && meta[META_CREATED] === 'true') {
          if (!(await this.remove(dest, index))) return undefined;
          return { ok: true, detail: `removed intentions entry ${dest} (meshward created it)`, ref };
        }
        const body: IntentionsEntry = { ...writable(entry), Sources: sources, Meta: meta };
        if (Object.keys(meta).length === 0) delete body.Meta;
        if (!(await this.write(body, index))) return undefined;
        return { ok: true, detail: `intention ${ref} ${original ? 'restored' : 'removed'}`, ref };
      });
    });
  }

  async check(): Promise<{ ok: boolean; detail?: string }> {
    try {
      const answer = await this.call('GET', '/v1/status/leader');
      if (answer.status !== 200) return { ok: false, detail: statusError('leader', answer).message };
      return { ok: true, detail: `leader ${String(answer.body)}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  private parse(decision: Decision) {
    if (!this.supports(decision))
      throw mwError('BAD_REQUEST', `consul cannot enforce ${decision.type}/${decision.scope}`);
    const target = denyTarget(decision);
    const dest = decision.service ?? this.config.default_destination;
    if (!dest)
      throw mwError('BAD_REQUEST', 'consul needs a destination service: decision.service or default_destination');
    return { dest, source: serviceOfPrincipal(target.value), route: target.route };
  }

  /** run a read-modify-write until its compare-and-set wins (fn returns undefined when it lost) */
  private async casLoop(fn: () => Promise<AdapterResult | undefined>): Promise<AdapterResult> {
    for (let i = 0; i < this.config.cas_attempts; i++) {
      const out = await fn();
      if (out) return out;
      this.logger.debug({ gateway: GATEWAY, attempt: i + 1 }, 'intentions changed meanwhile, reading again');
    }
    throw mwError('ADAPTER_FAILED', `consul intentions kept changing during ${this.config.cas_attempts} attempts`);
  }

  private async read(dest: string): Promise<{ entry: IntentionsEntry | undefined; index: number }> {
    const answer = await this.call('GET', `/v1/config/service-intentions/${encodeURIComponent(dest)}`);
    if (answer.status === 404) return { entry: undefined, index: 0 };
    if (answer.status !== 200) throw statusError('read intentions', answer);
    const entry = answer.body as IntentionsEntry;
    return { entry: { ...entry, Sources: entry.Sources ?? [] }, index: entry.ModifyIndex ?? 0 };
  }

  /** PUT with cas: true when written, false when someone else wrote first */
  private async write(entry: IntentionsEntry, index: number): Promise<boolean> {
    const answer = await this.call('PUT', `/v1/config?cas=${index}`, entry);
    if (answer.status !== 200) throw statusError('write intentions', answer);
    return answer.body === true;
  }

  private async remove(dest: string, index: number): Promise<boolean> {
    const answer = await this.call('DELETE', `/v1/config/service-intentions/${encodeURIComponent(dest)}?cas=${index}`);
    if (answer.status !== 200) throw statusError('delete intentions', answer);
    return answer.body === true;
  }

  private call(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const plane = { url: this.config.address, header: 'x-consul-token', config: this.config };
    return callControlPlane(plane, method, path, { body });
  }
}
