import { LRUCache } from 'lru-cache';
import type { ApiDescription } from '../../association/features.js';
import { type ApiEvidence, poolable, type SmartKnn } from '../../association/smart-knn.js';

/** providers whose shadow endpoints a shard keeps evidence of, and endpoints kept per provider (the latest) */
export const POOL_MAX_PROVIDERS = 256;
export const POOL_MAX_PER_PROVIDER = 32;

/** a shadow endpoint (inventory entry id) and the model's evidence for it, taken at a model version */
export interface PoolMember {
  id: string;
  evidence: ApiEvidence;
  version: number;
}

/**
 * The association evidence of the shadow endpoints this shard met, by unseen provider (pool_unseen_provider): a new
 * endpoint of a provider the catalogue does not know is associated together with that provider's endpoints met
 * before, as the associate command does with a batch. Bounded (the latest 32 endpoints of each of the 256 providers
 * used last). Evidence taken before the model changed (a review) is taken again when next used, from the endpoint's
 * description (`describe`: undefined when the endpoint is gone or no longer a shadow endpoint, which drops it).
 */
export class SiblingPool {
  private readonly byProvider = new LRUCache<string, PoolMember[]>({ max: POOL_MAX_PROVIDERS });

  constructor(
    private readonly model: SmartKnn,
    private readonly describe: (id: string) => ApiDescription | undefined,
  ) {}

  /**
   * this provider's endpoints met before, with evidence of the current model (none for a known provider or an API
   * naming no provider)
   */
  siblings(evidence: ApiEvidence): PoolMember[] {
    if (!poolable(evidence)) return [];
    const list = this.byProvider.get(evidence.provider);
    if (!list) return [];
    const version = this.model.version;
    if (list.some((m) => m.version !== version)) {
      const fresh: PoolMember[] = [];
      for (const m of list) {
        if (m.version === version) fresh.push(m);
        else {
          const api = this.describe(m.id);
          if (api) fresh.push({ id: m.id, evidence: this.model.evidence(api, [...evidence.dims.keys()]), version });
        }
      }
      this.byProvider.set(evidence.provider, fresh);
      return fresh;
    }
    return list;
  }

  add(id: string, evidence: ApiEvidence): void {
    if (!poolable(evidence) || !this.model.config.pool_unseen_provider) return;
    // an endpoint met again (signalled again after its alert was forgotten) counts once, with its latest evidence
    const list = (this.byProvider.get(evidence.provider) ?? []).filter((m) => m.id !== id);
    list.push({ id, evidence, version: this.model.version });
    if (list.length > POOL_MAX_PER_PROVIDER) list.shift();
    this.byProvider.set(evidence.provider, list);
  }
}
