import type { ApiDescription } from '../../association/features.js';
import { type Labels, SmartKnn } from '../../association/smart-knn.js';
import { Catalog, entryDescription } from '../../inventory/catalog/catalog.js';
import { CatalogRoutes } from '../../inventory/catalog/catalog-routes.js';
import type { CatalogEntry } from '../../inventory/catalog/catalog-entry.js';
import { LABEL_DIMENSIONS } from '../../inventory/catalog/catalog-entry.js';
import { catalogFilesVersion, loadCatalogFilesSync } from '../../inventory/catalog/load.js';
import { createLogger, type Logger } from '../../core/logger.js';
import { counter } from '../../core/metrics.js';
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
  /**
   * the APIs learnt from reviews, with the review's time: a review delivered again (every shard, restarts) is learnt
   * once, and a model built from a changed catalogue learns them all again (adoptReviews)
   */
  private readonly learnt = new Map<string, { at?: number; api: ApiDescription; labels: Labels }>();

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
      label_name_prior: config.label_name_prior,
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
    if (at !== undefined && this.learnt.get(id)?.at === at) return;
    this.learnt.set(id, { at, api, labels });
    this.model.confirm(id, api, labels);
  }

  /** what `previous` learnt from reviews, learnt here too (this one was built from a changed catalogue) */
  adoptReviews(previous: Association): void {
    for (const [id, r] of previous.learnt) this.learn(id, r.api, r.labels, r.at);
  }
}

/** per configuration, the process's Association and the catalogue file versions it was built from */
const shared = new Map<string, { files: string; association: Association }>();
/** the error of each configuration and file versions that failed to load, so a bad file is parsed once */
const failed = new Map<string, unknown>();
const catalogReloads = counter(
  'meshward_api_discovery_catalog_reloads_total',
  'catalogue files changed on disk: loaded, or invalid (the catalogue in force stays); once per process and change',
  ['result'],
);
let logger: Logger | undefined;
const log = (): Logger => (logger ??= createLogger({ name: 'api_discovery', destination: process.stderr }));

/**
 * The process's Association for this configuration. Every partition assigned to the process has its own shard and
 * detectors; they share one catalogue and one model (one fit, one index, one linear scorer; the memory of one), so a
 * rebalance costs no refit and a review teaches every shard of the process. When a catalogue file changed on disk
 * (size or modification time) a new one is built, which learns the reviews the previous one had; the shards move to it
 * at their next checkpoint (ApiDiscovery.refresh). A catalogue that does not load throws MW_ERR_CATALOG_INVALID, the
 * same error for the same file versions without reading them again; a reload is counted (and a bad one logged) once.
 */
export function sharedAssociation(config: ApiDiscoveryConfig): Association {
  // the whole configuration: shards of one process share it, and no field the model reads can be left out of the key
  const key = JSON.stringify(config);
  const files = catalogFilesVersion(config.catalog_files);
  const current = shared.get(key);
  if (current?.files === files) return current.association;
  const failure = failed.get(`${key}\n${files}`);
  if (failure !== undefined) throw failure;
  let a: Association;
  try {
    a = new Association(config, loadCatalogFilesSync(config.catalog_files));
  } catch (err) {
    failed.set(`${key}\n${files}`, err);
    // at start the error stops the process; a reload keeps the catalogue in force, said once per process
    if (current) {
      catalogReloads.inc({ result: 'invalid' });
      log().error(
        { err: (err as Error).message },
        'api_discovery: the changed catalogue does not load; the one in force stays',
      );
    }
    throw err;
  }
  if (current) {
    a.adoptReviews(current.association);
    catalogReloads.inc({ result: 'loaded' });
  }
  shared.set(key, { files, association: a });
  return a;
}

/** drops the shared Associations (tests) */
export function forgetSharedAssociations(): void {
  shared.clear();
  failed.clear();
}
