import { statSync } from 'node:fs';
import type { ApiDescription } from '../../association/features.js';
import { type Labels, SmartKnn } from '../../association/smart-knn.js';
import { Catalog, entryDescription } from '../../inventory/catalog/catalog.js';
import { CatalogRoutes } from '../../inventory/catalog/catalog-routes.js';
import type { CatalogEntry } from '../../inventory/catalog/catalog-entry.js';
import { LABEL_DIMENSIONS } from '../../inventory/catalog/catalog-entry.js';
import { loadCatalogFilesSync } from '../../inventory/catalog/load.js';
import type { ApiDiscoveryConfig } from './config.js';

/**
 * The catalogue and the association model of an api_discovery configuration, with the analysts' reviews learnt
 * once each. They depend on the configuration and the reviews only, not on the records of a partition.
 */
export class Association {
  readonly catalog: Catalog;
  /** the catalogue's path templates, by service and host, for routing calls; null (not built) with catalog_routes off */
  readonly routes: CatalogRoutes | null;
  readonly model: SmartKnn;
  /** review time of each API learnt from a review: a review delivered again (every shard, restarts) is learnt once */
  private readonly learnt = new Map<string, number>();

  constructor(config: ApiDiscoveryConfig, entries: readonly CatalogEntry[]) {
    this.catalog = new Catalog(entries);
    this.routes = config.catalog_routes ? new CatalogRoutes(entries) : null;
    this.model = new SmartKnn({
      k: config.k,
      smoothing: config.smoothing,
      min_confidence: config.min_confidence,
      unseen_provider_min_confidence: config.unseen_provider_min_confidence,
      linear_blend: config.linear_blend,
      provider_prior: config.provider_prior,
      pool_unseen_provider: config.pool_unseen_provider,
      peer_prior: config.peer_prior,
    });
    this.model.fit(
      entries
        .filter((e) => LABEL_DIMENSIONS.some((d) => e.labels[d]))
        .map((e) => ({ id: e.id, api: entryDescription(e), labels: { ...e.labels } as Labels })),
    );
    this.model.warm();
  }

  /** an API an analyst labelled joins the training set; with `at` (the review's time), once per review */
  learn(id: string, api: ApiDescription, labels: Labels, at?: number): void {
    if (at !== undefined) {
      if (this.learnt.get(id) === at) return;
      this.learnt.set(id, at);
    }
    this.model.confirm(id, api, labels);
  }
}

/** one Association per configuration (and catalogue file versions) in the process, shared by its partitions' shards */
const shared = new Map<string, Association>();

/**
 * The process's Association for this configuration. Every partition assigned to the process has its own shard and
 * detectors; they share one catalogue and one model (one fit, one index, one linear scorer; the memory of one), so a
 * rebalance costs no refit and a review teaches every shard of the process. A catalogue file changed on disk (size or
 * modification time) makes a new one.
 */
export function sharedAssociation(config: ApiDiscoveryConfig): Association {
  const files = config.catalog_files.map((f) => {
    try {
      const s = statSync(f);
      return [f, s.size, s.mtimeMs];
    } catch {
      return [f];
    }
  });
  // the whole configuration: shards of one process share it, and no field the model reads can be left out of the key
  const key = JSON.stringify([files, config]);
  let a = shared.get(key);
  if (!a) {
    a = new Association(config, loadCatalogFilesSync(config.catalog_files));
    shared.set(key, a);
  }
  return a;
}

/** drops the shared Associations (tests) */
export function forgetSharedAssociations(): void {
  shared.clear();
}
