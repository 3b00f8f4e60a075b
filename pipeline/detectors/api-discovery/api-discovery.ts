import { LRUCache } from 'lru-cache';
import { inventoryDescription, looseInventoryDescription } from '../../association/describe.js';
import type { ApiDescription } from '../../association/features.js';
import {
  type LabelPrediction,
  type Labels,
  namedProvider,
  providerOf,
  type SmartKnn,
} from '../../association/smart-knn.js';
import type { AlertSignal } from '../../core/alert.js';
import { durationText } from '../../core/duration-text.js';
import { counter } from '../../core/metrics.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { ApiEntry } from '../../inventory/api-entry.js';
import type { Catalog, CatalogMatch } from '../../inventory/catalog/catalog.js';
import type { CatalogEndpoint, CatalogEntry } from '../../inventory/catalog/catalog-entry.js';
import { LABEL_DIMENSIONS } from '../../inventory/catalog/catalog-entry.js';
import { Inventory } from '../../inventory/inventory.js';
import { sensitiveParam } from '../../inventory/sensitive-params.js';
import type { Detector, DetectorContext, DetectorDocument, WindowMetrics } from '../detector.js';
import { endedBefore, isLive, PendingRefreshes } from '../shared/live-alert.js';
import { actorOf, appendTo, pushEvidence } from '../shared/record-fields.js';
import type { ApiDiscoveryConfig } from './config.js';
import { inventoryTraffic, NO_TRAFFIC, type TrafficContext } from '../../association/traffic-context.js';
import { Association, sharedAssociation } from './shared-model.js';
import { SiblingPool } from './sibling-pool.js';

/** the description of the API a review carries (`api`: service, route, hosts, params of the entry), if any */
function reviewedApi(v: unknown): ApiDescription | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const a = v as Record<string, unknown>;
  if (typeof a.service !== 'string' || typeof a.route !== 'string') return undefined;
  return looseInventoryDescription(a as Record<string, unknown> & { route: string });
}

/** an entry's association labels from the model's predictions (a prediction has the label's fields) */
function setLabels(entry: ApiEntry, pred: Record<string, LabelPrediction>): void {
  for (const [dim, p] of Object.entries(pred)) entry.labels[dim] = { ...p };
}

/** the store collection of inventory entries (`doc:api_inventory`), read by the inventory routes */
export const INVENTORY_COLLECTION = 'api_inventory';
/** analysts' reviews of inventory entries, by entry id: `{labels: {dimension: value}, by, at}` */
export const INVENTORY_REVIEWS_KEY = 'inv:reviews';

const DAY_MS = 86_400_000;

/** record time between two estimates of the callers' weights and reliability (peer_prior) */
const RELIABILITY_REFRESH_MS = 60_000;

const signals = counter(
  'meshward_api_discovery_signals_total',
  'shadow / zombie API, undocumented and sensitive parameter, and documented-security signals emitted',
  ['kind'],
);
/** an entry's endpoint id, `METHOD /route`, as alerts name it */
const endpointOf = (e: ApiEntry): string => `${e.method} ${e.route}`;

/**
 * a parameter signal of an endpoint (undocumented_param, sensitive_query_param): its one alert, subject the entry,
 * evidence the call that brought the new names
 */
function emitParamSignal(
  ctx: DetectorContext,
  entry: ApiEntry,
  record: ApiCallRecord,
  signal: Omit<AlertSignal, 'service' | 'endpoint' | 'subject' | 'at' | 'recordIds'>,
): void {
  signals.inc({ kind: signal.kind });
  ctx.emit({
    ...signal,
    service: entry.service,
    endpoint: endpointOf(entry),
    subject: { type: 'api', value: entry.id },
    at: record.ts,
    recordIds: [record.id],
  });
}

/** what a catalogued entry's catalogue endpoint defines: its parameter names (lower case; null: none listed), security */
interface Documented {
  names: ReadonlySet<string> | null;
  security: CatalogEndpoint['security'];
}

/**
 * the anonymous calls a catalogued endpoint's documented-security alert counts: since the first, or since its last
 * alert went quiet (no call for the resolve window); the event time of the first and the last of them (-1: none), of
 * its last signal (-1: none), the status of the last (0: not known), evidence and sources
 */
interface AnonymousCalls {
  calls: number;
  from: number;
  to: number;
  signalledAt: number;
  lastStatus: number;
  ids: string[];
  sources: string[];
}

/** the distinct sources an alert names, as the unauthenticated_access tracker's */
const MAX_SOURCES = 16;

/** an entry's state by its catalogue match: none, a deprecated endpoint or entry, or a live one */
const stateOf = (m: CatalogMatch | null): ApiEntry['state'] => (!m ? 'shadow' : m.deprecated ? 'zombie' : 'catalogued');

/** names of a parameter alert's summary (its `params` label has them all) */
const SUMMARY_PARAMS = 10;
/** names for a summary: the first SUMMARY_PARAMS, then `…` */
const listed = (names: readonly string[]): string =>
  names.slice(0, SUMMARY_PARAMS).join(', ') + (names.length > SUMMARY_PARAMS ? ', …' : '');

/**
 * Keeps this shard's endpoint inventory, matches it against the catalogue and emits `shadow_api` (seen in traffic,
 * absent from the catalogue, after min_calls calls) and `zombie_api` (deprecated in the catalogue but called), each
 * with its association labels (category, lineOfBusiness, appCode and their probabilities) and signalled again while
 * the endpoint is called, so its alert stays open as long as the finding holds; and
 * `undocumented_param` when a catalogued endpoint is called with a parameter its catalogue endpoint does not define.
 */
export class ApiDiscovery implements Detector {
  readonly type = 'api_discovery';
  readonly inventory: Inventory;
  /** the catalogue and model: the process's shared one for configured files (replaced when they change), or its own */
  private association: Association;
  /** built from an injected catalogue (tests): no files to watch */
  private readonly injected: boolean;
  /** event time of each shadow or zombie endpoint's last signal */
  private readonly alerted: LRUCache<string, number>;
  readonly feedbackKey = INVENTORY_REVIEWS_KEY;
  /**
   * each review applied, by entry id: its time (a review is applied once) and labels, which an entry forgotten or
   * evicted takes again when it comes back (the analysts' reviews stay in the store, by the same id)
   */
  private readonly reviewed = new Map<string, { at: number; labels: Labels }>();
  /** entries changed since the last documents() call */
  private readonly dirty = new Set<string>();
  /** association evidence of the shadow endpoints of unseen providers met so far (pool_unseen_provider) */
  private siblings: SiblingPool;
  /**
   * the callers' side of associations (peer_prior), from this shard's inventory: each caller weighed by the services
   * it calls there, trusted as far as the catalogued and reviewed endpoints show
   */
  private traffic: TrafficContext = NO_TRAFFIC;
  /** record time the traffic context was last taken */
  private reliabilityAt = Number.NEGATIVE_INFINITY;
  /**
   * per catalogued entry, the parameter names (lower case) its catalogue endpoint defines (null when it lists none:
   * not checked) and its security. Derived from the catalogue, so nothing to checkpoint
   */
  private readonly documented: LRUCache<string, Documented>;
  /** per catalogued entry that answered an anonymous call its catalogue forbids: what its alert counts */
  private readonly anonymous: LRUCache<string, AnonymousCalls>;
  /** entries whose documented-security alert counted calls it does not report yet: their service, and id */
  private readonly unreported = new PendingRefreshes<string>();

  constructor(
    private readonly config: ApiDiscoveryConfig,
    deps: { catalog?: readonly CatalogEntry[] } = {},
  ) {
    // an injected catalogue (tests) gets a model of its own; configured files the process's shared one
    this.injected = deps.catalog !== undefined;
    this.association = deps.catalog ? new Association(config, deps.catalog) : sharedAssociation(config);
    this.inventory = new Inventory({
      maxEndpoints: config.max_endpoints,
      learner:
        config.route_max_distinct > 0
          ? {
              maxDistinct: config.route_max_distinct,
              minNovel: config.route_min_novel,
              estimatedDistinct: config.route_estimated_distinct,
              acrossMethods: config.route_across_methods,
              keptShare: config.route_kept_share,
              sharedWords: config.route_shared_words,
            }
          : false,
      catalogRoutes: this.association.routes,
      forgetAfterMs: config.forget_endpoints_after_days * DAY_MS,
      onForget: (id) => this.forgetEndpoint(id),
    });
    this.alerted = new LRUCache({ max: config.max_endpoints });
    this.documented = new LRUCache({ max: config.max_endpoints });
    this.anonymous = new LRUCache({ max: config.max_endpoints });
    this.siblings = this.siblingPool();
  }

  private siblingPool(): SiblingPool {
    return new SiblingPool(this.association.model, (id) => {
      const e = this.inventory.find(id);
      return e?.state === 'shadow' ? this.describe(e) : undefined;
    });
  }

  /**
   * at each checkpoint: when a catalogue file changed on disk, this shard moves to the process's new catalogue and
   * model (sharedAssociation: built once per process, with the reviews learnt) and classifies its endpoints again
   * (reclassify). A catalogue that does not load leaves the one in force (logged and counted there)
   */
  refresh(): void {
    if (this.injected) return;
    let next: Association;
    try {
      next = sharedAssociation(this.config);
    } catch {
      return; // the changed catalogue does not load: the one in force stays (counted and logged where it was built)
    }
    if (next === this.association) return;
    this.association = next;
    this.inventory.useCatalogRoutes(next.routes);
    this.siblings = this.siblingPool();
    this.traffic = NO_TRAFFIC;
    this.reliabilityAt = Number.NEGATIVE_INFINITY;
    this.documented.clear();
    for (const e of this.inventory.list()) this.reclassify(e);
  }

  /**
   * an endpoint matched against the catalogue again (it changed, or the entry comes from a checkpoint): nothing
   * changes while its match is the same; otherwise it takes its new state and labels, and signals afresh (a shadow
   * endpoint after min_calls, a zombie at its next call). Reviewed endpoints stay reviewed
   */
  private reclassify(e: ApiEntry): void {
    if (e.state === 'reviewed' || e.state === 'new') return;
    const m = this.match(e);
    if (stateOf(m) === e.state && (m?.entry.id ?? null) === e.catalogueId) return;
    e.catalogueId = null;
    e.labels = {};
    this.classify(e, m);
    this.alerted.delete(e.id);
    this.dirty.add(e.id);
  }

  get catalog(): Catalog {
    return this.association.catalog;
  }

  get model(): SmartKnn {
    return this.association.model;
  }

  observe(record: ApiCallRecord, ctx: DetectorContext): void {
    const { entry, created, newParams, credential } = this.inventory.observe(record);
    this.dirty.add(entry.id);
    if (created || entry.state === 'new') this.classify(entry);
    if (created) {
      // a reviewed endpoint forgotten (or evicted) and called again: the review still holds
      const review = this.reviewed.get(entry.id);
      if (review) this.markReviewed(entry, review.labels);
    }
    if (newParams > 0) {
      if (entry.catalogueId !== null && this.config.undocumented_params)
        this.checkParams(ctx, entry, newParams, record);
      if (this.config.sensitive_query_params) this.checkSensitive(ctx, entry, newParams, record);
    }
    if (credential === 'none' && entry.catalogueId !== null && this.config.documented_security)
      this.checkSecurity(ctx, entry, record);
    // the state test first: most calls reach catalogued endpoints, which never signal
    const kind =
      entry.state === 'zombie'
        ? 'zombie_api'
        : entry.state === 'shadow' && entry.count >= this.config.min_calls
          ? 'shadow_api'
          : undefined;
    if (kind === undefined) return;
    // a peek on the per-record path: the signal itself (set) refreshes the endpoint's recency
    const last = this.alerted.peek(entry.id);
    // signalled again within its alert's resolve window while called (without one, nothing resolves: once)
    const refreshEvery = ctx.resolveAfterMs === undefined ? Number.POSITIVE_INFINITY : ctx.resolveAfterMs / 2;
    if (last !== undefined && record.ts - last < refreshEvery) return;
    this.emit(ctx, kind, entry, record, last === undefined);
  }

  /**
   * an entry the inventory forgot (not called for forget_endpoints_after_days): what this detector keeps of it goes
   * too, so if it comes back it is a new endpoint (a shadow one signalled afresh once it has min_calls, with its
   * association; a reviewed one stays reviewed)
   */
  private forgetEndpoint(id: string): void {
    this.alerted.delete(id);
    this.anonymous.delete(id);
    this.documented.delete(id);
    this.unreported.done(id);
  }

  /**
   * the inventory's route of the record (the catalogue's template, or the templated path with the folds learnt so
   * far): the correlator's endpoint id for it, so alerts, metric series and the inventory name an endpoint alike. The
   * learner's checkpoint holds the values it counts, so after a handover it folds at the same record as a replay
   */
  routeOf(record: ApiCallRecord): string | null {
    return record.route ? null : this.inventory.learnRoute(record).route;
  }

  /** the catalogue entry and endpoint an entry matches (by its service, first host, method and route), or null */
  private match(e: ApiEntry): CatalogMatch | null {
    return this.catalog.match({ service: e.service, host: e.hosts[0], method: e.method, route: e.route });
  }

  private classify(entry: ApiEntry, m = this.match(entry)): void {
    entry.state = stateOf(m);
    if (!m) return;
    entry.catalogueId = m.entry.id;
    for (const dim of LABEL_DIMENSIONS) {
      const v = m.entry.labels[dim];
      if (v) entry.labels[dim] = { value: v, probability: 1, neighbours: [m.entry.id] };
    }
  }

  /**
   * the association labels of a shadow endpoint. An endpoint of a provider the model does not know is associated
   * together with the provider's endpoints this shard met before, and those still shadow take the pooled labels too
   */
  private associate(entry: ApiEntry): void {
    const evidence = this.model.evidence(this.describe(entry));
    // an endpoint signalled again (its alert forgotten) is not its own sibling
    const before = this.siblings.siblings(evidence).filter((m) => m.id !== entry.id);
    const group = [...before.map((m) => m.evidence), evidence];
    setLabels(entry, this.model.decide(evidence, group));
    this.siblings.add(entry.id, evidence);
    if (!this.model.config.pool_unseen_provider) return;
    for (const m of before) {
      const sibling = this.inventory.find(m.id);
      if (sibling?.state !== 'shadow') continue;
      setLabels(sibling, this.model.decide(m.evidence, group));
      this.dirty.add(sibling.id);
    }
  }

  /**
   * the endpoint's shadow or zombie signal: the first one (`first`) with its association; while the endpoint is still
   * called, again every half resolve window (ctx.resolveAfterMs), with the labels it has then, so its alert stays open
   * while the finding holds and resolves once the endpoint is quiet, reviewed or catalogued
   */
  private emit(
    ctx: DetectorContext,
    kind: 'shadow_api' | 'zombie_api',
    entry: ApiEntry,
    record: ApiCallRecord,
    first: boolean,
  ): void {
    if (first && kind === 'shadow_api' && this.model.size > 0) {
      this.refreshTraffic(record.ts);
      this.associate(entry);
    }
    const labels: Record<string, string> = {};
    for (const [dim, l] of Object.entries(entry.labels)) {
      labels[dim] = l.value;
      labels[`${dim}_probability`] = l.probability.toFixed(3);
      labels[`${dim}_neighbours`] = l.neighbours.slice(0, 5).join(',');
      if (l.candidate !== undefined) labels[`${dim}_candidate`] = l.candidate;
      if (l.pooled !== undefined) labels[`${dim}_pooled`] = String(l.pooled);
      if (l.because?.length) labels[`${dim}_because`] = l.because.join(', ');
    }
    if (entry.catalogueId) labels.catalogue_id = entry.catalogueId;
    const endpoint = endpointOf(entry);
    const signal: AlertSignal = {
      kind,
      severity: kind === 'zombie_api' ? this.config.zombie_severity : this.config.shadow_severity,
      service: entry.service,
      endpoint,
      subject: { type: 'api', value: entry.id },
      at: record.ts,
      summary:
        kind === 'zombie_api'
          ? `${endpoint} on ${entry.service} is deprecated in catalogue entry ${entry.catalogueId} but still called`
          : `${endpoint} on ${entry.service} is called but absent from the catalogue`,
      expected: kind === 'zombie_api' ? 'no calls to a deprecated API' : 'every called endpoint is catalogued',
      observed: `${entry.count} call${entry.count === 1 ? '' : 's'} from ${entry.callers.length} caller${entry.callers.length === 1 ? '' : 's'} since ${new Date(entry.firstSeen).toISOString()}`,
      recordIds: [record.id],
      metrics: { calls: entry.count, callers: entry.callers.length },
      labels: { ...labels, first_seen: new Date(entry.firstSeen).toISOString() },
    };
    this.alerted.set(entry.id, record.ts);
    signals.inc({ kind });
    ctx.emit(signal);
  }

  /**
   * API drift: the `added` names the record brought to a catalogued entry, against the names its catalogue endpoint
   * defines; when one is not defined, the endpoint's undocumented_param alert with every undocumented name so far
   * (deterministic from the entry, so a restored shard signals as one that never stopped)
   */
  private checkParams(ctx: DetectorContext, entry: ApiEntry, added: number, record: ApiCallRecord): void {
    const documented = this.documentedOf(entry).names;
    if (!documented) return;
    const undocumented = (names: readonly string[]) => names.filter((n) => !documented.has(n.toLowerCase()));
    const fresh = undocumented(entry.params.slice(-added));
    if (fresh.length === 0) return;
    const all = undocumented(entry.params);
    const endpoint = endpointOf(entry);
    emitParamSignal(ctx, entry, record, {
      kind: 'undocumented_param',
      severity: this.config.undocumented_param_severity,
      summary: `${endpoint} on ${entry.service} is called with ${all.length === 1 ? 'a parameter' : 'parameters'} catalogue entry ${entry.catalogueId} does not define: ${listed(all)}`,
      expected: `the parameters catalogue entry ${entry.catalogueId} defines: ${listed([...documented]) || 'none'}`,
      observed: `${listed(fresh)} first in this call; ${all.length} undocumented of the ${entry.params.length} names seen in ${entry.count} call${entry.count === 1 ? '' : 's'}`,
      metrics: { undocumented: all.length, params_seen: entry.params.length, calls: entry.count },
      labels: { catalogue_id: entry.catalogueId ?? '', params: all.join(','), new_params: fresh.join(',') },
    });
  }

  /**
   * the `added` names a record brought to an entry that say they carry a credential, personal or payment data: the
   * endpoint's sensitive_query_param alert with every such name so far (deterministic from the entry, as checkParams)
   */
  private checkSensitive(ctx: DetectorContext, entry: ApiEntry, added: number, record: ApiCallRecord): void {
    const all = entry.params.flatMap((name, i) => {
      const kind = sensitiveParam(name);
      return kind ? [{ name, kind, fresh: i >= entry.params.length - added }] : [];
    });
    const fresh = all.filter((x) => x.fresh).map((x) => x.name);
    if (fresh.length === 0) return;
    const kinds = [...new Set(all.map((x) => x.kind))];
    const endpoint = endpointOf(entry);
    const names = all.map((x) => x.name);
    emitParamSignal(ctx, entry, record, {
      kind: 'sensitive_query_param',
      severity: this.config.sensitive_query_param_severity,
      summary: `${endpoint} on ${entry.service} takes ${kinds.join(' and ')} data in its query string: ${listed(names)}`,
      expected:
        'credentials, personal and payment data in a header or the body, not in the URL (kept in logs, history and Referer headers)',
      observed: `${listed(fresh)} first in this call (values redacted by the sensor)`,
      metrics: { sensitive: all.length, calls: entry.count },
      labels: {
        params: all.map((x) => `${x.name}:${x.kind}`).join(','),
        kinds: kinds.join(','),
        new_params: fresh.join(','),
        ...(entry.catalogueId ? { catalogue_id: entry.catalogueId } : {}),
      },
    });
  }

  /**
   * a catalogued entry's accepted call without a credential, when its catalogue endpoint requires one: counted into
   * the endpoint's unauthenticated_access alert, raised at the unauthenticated_calls-th such call and refreshed by the
   * later ones (at most once a second of event time, the rest when the service's window closes), so it says how many
   * from when to when, as the unauthenticated_access tracker's signals into the same alert do; once quiet, the calls
   * after that count towards the next alert
   */
  private checkSecurity(ctx: DetectorContext, entry: ApiEntry, record: ApiCallRecord): void {
    if (!entry.auth || this.documentedOf(entry).security !== 'required') return;
    let a = this.anonymous.get(entry.id);
    if (a === undefined) {
      a = { calls: 0, from: -1, to: -1, signalledAt: -1, lastStatus: 0, ids: [], sources: [] };
      this.anonymous.set(entry.id, a);
    }
    if (endedBefore(a.signalledAt, a.to, record.ts, ctx)) {
      // the last alert went quiet: this call opens the count of the next one
      a.calls = 0;
      a.ids = [];
      a.sources = [];
    }
    if (a.calls++ === 0 || a.from < 0) a.from = record.ts;
    a.to = record.ts;
    a.lastStatus = record.status;
    a.ids = pushEvidence(a.ids, record.id);
    const actor = actorOf(record);
    if (actor && a.sources.length < MAX_SOURCES && !a.sources.includes(actor.value))
      a.sources = appendTo(a.sources, actor.value);
    if (isLive(a.signalledAt, record.ts, ctx)) {
      if (this.unreported.refresh(entry.id, entry.service, entry.id, record.ts, a.signalledAt))
        this.signalSecurity(ctx, entry, a);
      return;
    }
    if (a.calls >= this.config.unauthenticated_calls) this.signalSecurity(ctx, entry, a);
  }

  /** a service's window closed: its endpoints' documented-security alerts report the calls they have not yet */
  onWindow(w: WindowMetrics, ctx: DetectorContext): void {
    this.unreported.onWindow(w, (id) => {
      const entry = this.inventory.find(id);
      const a = this.anonymous.get(id);
      if (entry && a && a.to > a.signalledAt) this.signalSecurity(ctx, entry, a);
    });
  }

  private signalSecurity(ctx: DetectorContext, entry: ApiEntry, a: AnonymousCalls): void {
    a.signalledAt = a.to;
    const auth = entry.auth!;
    const credentialed = auth.token + auth.mtls + auth.key;
    const endpoint = endpointOf(entry);
    const span = a.to - a.from;
    const from = a.sources;
    signals.inc({ kind: 'unauthenticated_access' });
    ctx.emit({
      kind: 'unauthenticated_access',
      severity: 'high',
      service: entry.service,
      endpoint,
      at: a.to,
      summary: `${entry.service} ${endpoint} accepted ${a.calls} calls without any credential in ${durationText(span)}; catalogue entry ${entry.catalogueId} requires one`,
      expected: `a credential on every call (the catalogue's security for ${endpoint})`,
      // worded as the unauthenticated_access tracker's Observed, which may refresh the same alert
      observed: `${a.calls} anonymous calls accepted from ${new Date(a.from).toISOString()} to ${new Date(a.to).toISOString()}${a.lastStatus ? ` (last status ${a.lastStatus})` : ''} from ${from.length}${from.length === MAX_SOURCES ? '+' : ''} sources: ${from.slice(0, 4).join(', ')}`,
      recordIds: [...a.ids],
      metrics: {
        anonymous_calls: a.calls,
        anonymous_span_s: span / 1000,
        credentialed_calls: credentialed,
        sources: from.length,
      },
      labels: { endpoint, rule: 'documented', catalogue_id: entry.catalogueId ?? '' },
    });
  }

  /** what the catalogue endpoint of a catalogued entry says: its parameter names (lower case; null: none listed), security */
  private documentedOf(entry: ApiEntry): Documented {
    const known = this.documented.get(entry.id);
    if (known) return known;
    const ep = this.match(entry)?.endpoint;
    const doc: Documented = {
      names: ep?.params ? new Set(ep.params.map((p) => p.toLowerCase())) : null,
      security: ep?.security,
    };
    this.documented.set(entry.id, doc);
    return doc;
  }

  /** an analyst confirmed the labels of an endpoint: it becomes reviewed and joins the association training set */
  review(service: string, method: string, route: string, labels: Labels): ApiEntry | undefined {
    const e = this.inventory.get(service, method, route);
    if (!e) return undefined;
    this.markReviewed(e, labels);
    // no review time: the store's review, when it comes as feedback, is applied too
    this.reviewed.set(e.id, { at: Number.NaN, labels });
    const api = inventoryDescription(e);
    this.association.learn(e.id, api, labels);
    this.reassociateProvider(api);
    return e;
  }

  /**
   * after a review taught the model an API: this shard's shadow endpoints of the same provider (registrable host
   * domain, or internal service) are associated again, so a provider new to the catalogue, once one of its endpoints
   * is reviewed, is known and its other endpoints follow (review one, the rest lean to it). Reviews are rare: the
   * inventory is scanned
   */
  private reassociateProvider(api: ApiDescription): void {
    const provider = providerOf(api, '');
    if (!namedProvider(provider) || this.model.size === 0) return;
    for (const e of this.inventory.list()) {
      if (e.state !== 'shadow' || Object.keys(e.labels).length === 0) continue;
      const description = this.describe(e);
      if (providerOf(description, '') !== provider) continue;
      setLabels(e, this.model.predict(description));
      this.dirty.add(e.id);
    }
  }

  /** what the model sees of an endpoint: inventoryDescription with its callers (traffic) */
  private describe(e: ApiEntry): ApiDescription {
    return inventoryDescription(e, this.traffic);
  }

  /**
   * the callers' weights and how far they tell the labels of the endpoints they call, from this shard's inventory:
   * taken again at most once a minute of record time (a scan of the inventory, when a shadow endpoint is reported;
   * nothing per record)
   */
  private refreshTraffic(now: number): void {
    if (now - this.reliabilityAt < RELIABILITY_REFRESH_MS) return;
    this.reliabilityAt = now;
    this.traffic = inventoryTraffic(this.inventory.list(), this.model, LABEL_DIMENSIONS);
  }

  private markReviewed(e: ApiEntry, labels: Labels): void {
    e.state = 'reviewed';
    for (const [dim, v] of Object.entries(labels)) e.labels[dim] = { value: v, probability: 1, neighbours: [] };
    this.dirty.add(e.id);
  }

  /**
   * an analyst's review (from the API): the entry, when this shard has it, becomes reviewed; the API joins the
   * training set of the process's model whichever shard has it (the review carries what the model needs of it)
   */
  onFeedback(id: string, value: unknown): void {
    const r = value as { labels?: Record<string, unknown>; at?: unknown; api?: unknown } | null;
    if (!r || typeof r.at !== 'number' || this.reviewed.get(id)?.at === r.at) return;
    const labels = Object.fromEntries(
      Object.entries(r.labels ?? {}).filter(([d, v]) => LABEL_DIMENSIONS.includes(d as never) && typeof v === 'string'),
    ) as Labels;
    this.reviewed.set(id, { at: r.at, labels });
    const entry = this.inventory.find(id);
    if (entry) this.markReviewed(entry, labels);
    const api = entry ? inventoryDescription(entry) : reviewedApi(r.api);
    if (!api) return;
    this.association.learn(id, api, labels, r.at);
    this.reassociateProvider(api);
  }

  documents(): DetectorDocument[] {
    const out: DetectorDocument[] = [];
    const { gone, moved } = this.inventory.takeChanges();
    for (const id of moved) this.dirty.add(id);
    for (const e of this.inventory.list())
      if (this.dirty.has(e.id)) out.push({ collection: INVENTORY_COLLECTION, id: e.id, value: e });
    this.dirty.clear();
    for (const id of gone) out.push({ collection: INVENTORY_COLLECTION, id, value: null, deleted: true });
    return out;
  }

  snapshot(): unknown {
    // alerted endpoints least recently used first, so restore() rebuilds the same recency (and evictions)
    return {
      v: 1,
      inventory: this.inventory.snapshot(),
      alerted: [...this.alerted.rentries()],
      anonymous: [...this.anonymous.rentries()],
      unreported: this.unreported.dump(),
    };
  }

  restore(state: unknown): void {
    const s = state as {
      v?: unknown;
      inventory?: unknown;
      alerted?: unknown;
      anonymous?: unknown;
      unreported?: unknown;
    } | null;
    if (s?.v !== 1) return;
    this.inventory.restore(s.inventory);
    if (Array.isArray(s.alerted))
      for (const a of s.alerted) {
        // [id, time of its last signal]; a checkpoint from before refreshes kept the id alone: signalled long ago
        if (typeof a === 'string') this.alerted.set(a, 0);
        else if (Array.isArray(a) && typeof a[0] === 'string' && typeof a[1] === 'number') this.alerted.set(a[0], a[1]);
      }
    // absent in a checkpoint written before the documented rule counted per alert (its alert time was not kept): an
    // entry's next anonymous calls start afresh, raised at the unauthenticated_calls-th
    this.anonymous.clear();
    if (Array.isArray(s.anonymous))
      for (const [id, a] of s.anonymous as [string, AnonymousCalls][]) this.anonymous.set(id, a);
    this.unreported.load(s.unreported);
    // the catalogue may have changed while the state waited in the checkpoint
    for (const e of this.inventory.list()) this.reclassify(e);
  }

  stats(): Record<string, number> {
    const out = { endpoints: this.inventory.size, shadow: 0, zombie: 0, catalogued: 0, reviewed: 0, new: 0 };
    for (const e of this.inventory.list()) out[e.state]++;
    return out;
  }
}
