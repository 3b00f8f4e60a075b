import { type FeatureGroup, TOKEN_GROUPS } from './config.js';
import type { ApiDescription } from './features.js';
import { SmartKnn } from './smart-knn.js';

/** the hashed token groups, equally weighted; no word embeddings */
const EQUAL = {
  ...(Object.fromEntries(TOKEN_GROUPS.map((g) => [g, 1 / TOKEN_GROUPS.length])) as Record<FeatureGroup, number>),
  embedding: 0,
};

/**
 * The comparison baseline: plain kNN, i.e. unweighted Euclidean distance over the same hashed TF-IDF vector (every
 * feature weight equal), the same neighbour search (ml-knn's kd-tree for small catalogues), one vote per neighbour,
 * majority wins (ties: the class of the nearer neighbour). One label dimension.
 */
export class MajorityKnn {
  private readonly model: SmartKnn;

  constructor(
    private readonly k = 7,
    dims = 1024,
  ) {
    this.model = new SmartKnn({
      k,
      dims_per_group: dims,
      group_weights: EQUAL,
      prior_correction: 0,
      min_confidence: 0,
      word_embeddings: 'off',
    });
  }

  fit(items: readonly { api: ApiDescription; label: string }[]): void {
    this.model.fit(items.map((it, i) => ({ id: String(i), api: it.api, labels: { label: it.label } })));
  }

  predict(api: ApiDescription): string | null {
    if (this.model.size === 0) return null;
    const nb = this.model.nearest(this.model.vectorize(api), this.k);
    const votes = new Map<string, number>();
    let best: string | null = null;
    for (const n of nb) {
      const c = this.model.labelsOf(n.id)!.label;
      votes.set(c, (votes.get(c) ?? 0) + 1);
      if (best === null || votes.get(c)! > votes.get(best)!) best = c;
    }
    return best;
  }
}
