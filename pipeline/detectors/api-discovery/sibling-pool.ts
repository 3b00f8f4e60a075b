import { LRUCache } from 'lru-cache';
import { type ApiEvidence, poolable, type SmartKnn } from '../../association/smart-knn.js';

/** providers whose shadow endpoints a shard keeps evidence of, and endpoints kept per provider (the latest) */
export const POOL_MAX_PROVIDERS = 256;
export const POOL_MAX_PER_PROVIDER = 32;

/** a shadow endpoint (inventory entry id) and the model's evidence for it */
export interface PoolMember {
  id: string;
  evidence: ApiEvidence;
}

/**
 * The association evidence of the shadow endpoints this shard met, by unseen provider (pool_unseen_provider): a new
 * endpoint of a provider the catalogue does not know is associated together with that provider's endpoints met
 * before, as the associate command does with a batch. Bounded (the latest 32 endpoints of each of the 256 providers
 * used last); forgotten whenever the model changes (a review), since the evidence was taken with the model before.
 */
export class SiblingPool {
  private readonly byProvider = new LRUCache<string, PoolMember[]>({ max: POOL_MAX_PROVIDERS });
  private version: number;

  constructor(private readonly model: SmartKnn) {
    this.version = model.version;
  }

  /** the evidence of this provider's endpoints met before (none for a known provider or a hostless API) */
  siblings(evidence: ApiEvidence): PoolMember[] {
    if (this.model.version !== this.version) {
      this.byProvider.clear();
      this.version = this.model.version;
    }
    return poolable(evidence) ? (this.byProvider.get(evidence.provider) ?? []) : [];
  }

  add(id: string, evidence: ApiEvidence): void {
    if (!poolable(evidence) || !this.model.config.pool_unseen_provider) return;
    // an endpoint met again (signalled again after its alert was forgotten) counts once, with its latest evidence
    const list = (this.byProvider.get(evidence.provider) ?? []).filter((m) => m.id !== id);
    list.push({ id, evidence });
    if (list.length > POOL_MAX_PER_PROVIDER) list.shift();
    this.byProvider.set(evidence.provider, list);
  }
}
