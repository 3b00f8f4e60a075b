import { Value } from '@sinclair/typebox/value';
import { LRUCache } from 'lru-cache';
import { stableId } from '../core/ids.js';
import { counter } from '../core/metrics.js';
import type { ApiCallRecord } from '../core/record.js';
import type { ApiEntry } from './api-entry.js';
import { ApiEntrySchema } from './api-entry.js';
import {
  CALL_CREDENTIALS,
  type CallCredential,
  CredentialSight,
  credentialOf,
  forEachQueryName,
  noCredentials,
} from './call-credential.js';
import type { CatalogRoutes } from './catalog/catalog-routes.js';
import { pathOnly, templatePath } from './path-template.js';
import { PinnedValues, type Unpinned } from './pinned-values.js';
import { RouteLearner, type RouteLearnerOptions } from './route-learner.js';

export interface InventoryOptions {
  /** endpoints kept (least recently seen evicted first) */
  maxEndpoints: number;
  maxCallers: number;
  maxParams: number;
  maxHosts: number;
  /** learned folding of high-cardinality literal segments; false to disable */
  learner: Partial<RouteLearnerOptions> | false;
  /**
   * the catalogue's path templates: a call of a catalogued service or host takes the template its catalogue entry
   * defines (`/key/alice` → `/key/{name}`) before value-shape templating and the learner; null to disable
   */
  catalogRoutes: CatalogRoutes | null;
  /**
   * event time (record time) after its last call an entry is forgotten (a ghost: a route renamed, a service retired);
   * 0 = never. A call of such an entry starts a fresh one (firstSeen that call), and a look once an hour of event time
   * removes the others, whose documents then go as evicted ones do (takeChanges)
   */
  forgetAfterMs: number;
  /** told the id of each entry forgotten (the owner drops what it keeps of it); null: nothing to tell */
  onForget: ((id: string) => void) | null;
}

export const defaultInventoryOptions: InventoryOptions = {
  maxEndpoints: 50_000,
  maxCallers: 32,
  maxParams: 64,
  maxHosts: 4,
  learner: {},
  catalogRoutes: null,
  forgetAfterMs: 0,
  onForget: null,
};

/** event time between two looks for entries to forget (a scan of the inventory) */
export const FORGET_LOOK_MS = 3_600_000;

const evicted = counter('meshward_inventory_evictions_total', 'inventory endpoints evicted by the LRU cap');
const forgotten = counter(
  'meshward_inventory_forgotten_total',
  'inventory endpoints forgotten: not called for api_discovery forget_endpoints_after_days of event time',
);
const restoreRejected = counter(
  'meshward_inventory_restore_rejected_total',
  'inventory snapshot entries that failed validation',
);

export const endpointKey = (service: string, method: string, route: string): string => `${service} ${method} ${route}`;

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** who made a call, as an entry's callers name it: the source service, else its SPIFFE ID, else the OAuth client */
function callerOf(record: ApiCallRecord): string | undefined {
  return record.source.service ?? record.source.principal ?? record.user?.clientId;
}

function statusClass(status: number): string {
  return status >= 100 && status < 600 ? STATUS_CLASSES[Math.floor(status / 100)] : 'other';
}

function addBounded(list: string[], value: string | undefined, max: number): void {
  if (value && list.length < max && !list.includes(value)) list.push(value);
}

/** parameter names of the query string (`?a=1&b` → a, b), without splitting the path */
function addQueryNames(list: string[], path: string, max: number): void {
  forEachQueryName(path, (name) => {
    addBounded(list, name, max);
    return list.length < max;
  });
}

/** Endpoint inventory built from ApiCallRecords, bounded by an LRU cap, JSON snapshot/restore. */
export class Inventory {
  readonly options: InventoryOptions;
  private readonly entries: LRUCache<string, ApiEntry>;
  /** ids of entries gone since the last takeChanges(): moved under a learned route, or evicted */
  private readonly gone = new Set<string>();
  /** ids of entries a move created or merged into since the last takeChanges() */
  private readonly moved = new Set<string>();
  /**
   * the route learner and, with it, the pinned API versions (`/rest/api/3/`, `/2017-01-11/` kept literal while they
   * are few: pinned-values.ts); null without learning
   */
  private readonly learning: { learner: RouteLearner; pins: PinnedValues } | null;
  /** learnRoute's answer for the record in hand (the correlator asks for it, then observe()) */
  private lastRecord: ApiCallRecord | undefined;
  private lastRoute = { route: '', key: '' };
  /** sensors that report credentials: a call without one from another sensor is not counted in `auth` */
  private readonly sight = new CredentialSight();
  /** the record time at or after which the next look for entries to forget is taken (forgetAfterMs) */
  private lookAt = 0;

  constructor(options: Partial<InventoryOptions> = {}) {
    this.options = { ...defaultInventoryOptions, ...options };
    this.entries = new LRUCache({
      max: this.options.maxEndpoints,
      dispose: (v, _k, reason) => {
        if (reason === 'evict') evicted.inc();
        if (reason === 'evict' || reason === 'delete') this.gone.add(v.id);
      },
    });
    if (this.options.learner === false) this.learning = null;
    else {
      const learner = new RouteLearner(this.options.learner);
      this.learning = { learner, pins: new PinnedValues(learner.options.maxPrefixes) };
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** the route template of a record: its own route when the sensor knows it, else the templated (and learned) path */
  routeOf(record: ApiCallRecord): string {
    if (record.route) return record.route;
    const defined = this.catalogRoute(record);
    if (defined !== null) return defined;
    const t = templatePath(record.path);
    if (!this.learning) return t;
    const { learner, pins } = this.learning;
    const method = record.method.toUpperCase();
    return learner.apply(record.service, method, pins.apply(record.service, method, t, record.path, false).template);
  }

  /**
   * the route a call is counted under (its own, the catalogue's, or the templated path with the folds learnt so far,
   * learning from it) and its entry key; the answer for the record in hand is kept, so the correlator's endpoint id
   * of a record (asked first) and observe() learn and compute it once
   */
  learnRoute(record: ApiCallRecord): { route: string; key: string } {
    if (record === this.lastRecord) return this.lastRoute;
    const method = record.method.toUpperCase();
    let route = record.route || this.catalogRoute(record) || undefined;
    let key: string;
    if (!route && this.learning) {
      const { learner, pins } = this.learning;
      const pinned = pins.apply(record.service, method, templatePath(record.path), record.path, true);
      const learned = learner.learn(record.service, method, pinned.template);
      route = learned.template;
      if (learned.newlyFolded) this.refold(learner, record.service, method);
      if (pinned.unpinned) this.unpin(record.service, method, route, pinned.template, pinned.unpinned);
      // a learned route is shared by every call with the same template: its entry key is built (and hashed) once
      learned.endpointKey ??= endpointKey(record.service, method, route);
      key = learned.endpointKey;
    } else {
      route ||= templatePath(record.path);
      key = endpointKey(record.service, method, route);
    }
    this.lastRecord = record;
    this.lastRoute = { route, key };
    return this.lastRoute;
  }

  /** the catalogue's path templates for the calls from now on (the catalogue changed); entries keep their routes */
  useCatalogRoutes(routes: CatalogRoutes | null): void {
    this.options.catalogRoutes = routes;
    this.lastRecord = undefined;
  }

  /**
   * record one call; returns the entry, whether it was created by this call, how many parameter names it added (the
   * last `newParams` of `entry.params`), and for an accepted call (status below 400) the credential it carried
   * (undefined when its sensor has never reported one: it may not see them)
   */
  observe(record: ApiCallRecord): {
    entry: ApiEntry;
    created: boolean;
    newParams: number;
    credential: CallCredential | undefined;
  } {
    const method = record.method.toUpperCase();
    const { route, key } = this.learnRoute(record);
    const forgetAfter = this.options.forgetAfterMs;
    if (forgetAfter > 0 && record.ts >= this.lookAt) this.forgetIdle(record.ts);
    let entry = this.entries.get(key);
    // not called for the period: forgotten whether or not a look came first, so a call after it starts afresh
    if (entry && forgetAfter > 0 && entry.lastSeen < record.ts - forgetAfter) entry = this.forget(key, entry);
    const created = !entry;
    if (!entry) {
      entry = {
        id: stableId('api', record.service, method, route),
        service: record.service,
        method,
        route,
        hosts: [],
        firstSeen: record.ts,
        lastSeen: record.ts,
        count: 0,
        callers: [],
        params: [],
        statusMix: {},
        catalogueId: null,
        labels: {},
        state: 'new',
      };
      this.entries.set(key, entry);
    }
    entry.count++;
    if (record.ts < entry.firstSeen) entry.firstSeen = record.ts;
    if (record.ts > entry.lastSeen) entry.lastSeen = record.ts;
    addBounded(entry.hosts, record.host, this.options.maxHosts);
    addBounded(entry.callers, callerOf(record), this.options.maxCallers);
    const params = entry.params.length;
    if (record.params) for (const p in record.params) addBounded(entry.params, p, this.options.maxParams);
    addQueryNames(entry.params, record.path, this.options.maxParams);
    const sc = statusClass(record.status);
    entry.statusMix[sc] = (entry.statusMix[sc] ?? 0) + 1;
    let credential: CallCredential | undefined;
    if (record.status >= 100 && record.status < 400) {
      credential = this.sight.judge(record, credentialOf(record));
      if (credential) {
        entry.auth ??= noCredentials();
        entry.auth[credential]++;
      }
    }
    return { entry, created, newParams: entry.params.length - params, credential };
  }

  /**
   * the look for ghosts: every entry not called for forgetAfterMs before `now` (record time) is forgotten; the next
   * look is an hour of event time later. Driven by the records alone, so a shard restored from its checkpoint and
   * given the same records forgets the same entries at the same records
   */
  private forgetIdle(now: number): void {
    this.lookAt = now + FORGET_LOOK_MS;
    const before = now - this.options.forgetAfterMs;
    const idle: [string, ApiEntry][] = [];
    this.entries.forEach((e, key) => {
      if (e.lastSeen < before) idle.push([key, e]);
    });
    for (const [key, e] of idle) this.forget(key, e);
  }

  /** an entry removed as not called for the period: its document goes at the next takeChanges, as an evicted one's */
  private forget(key: string, e: ApiEntry): undefined {
    this.entries.delete(key);
    forgotten.inc();
    this.options.onForget?.(e.id);
    return undefined;
  }

  /** the catalogue template of a record's call, or null (no catalogue routes, or none defines it) */
  private catalogRoute(record: ApiCallRecord): string | null {
    const routes = this.options.catalogRoutes;
    return routes ? routes.route(record.service, record.host, record.method.toUpperCase(), record.path) : null;
  }

  /**
   * merge the entries whose route a newly learned fold changes: of one service and method, or of every method of
   * the service when the learner counts across methods
   */
  private refold(learner: RouteLearner, service: string, method: string): void {
    const methods = learner.options.acrossMethods ? null : method;
    this.reroute(service, methods, (route, m) => learner.apply(service, m, route));
  }

  /**
   * a position of pinned versions has become a parameter: entries with one of its values there (and the call's
   * route before it) move to the placeholder (`template`: the call's template, pins applied)
   */
  private unpin(service: string, method: string, route: string, template: string, unpinned: Unpinned[]): void {
    const routeParts = route.split('/');
    const placeholders = template.split('/');
    const samePrefix = (parts: string[], index: number) => {
      for (let i = 1; i < index; i++) if (parts[i] !== routeParts[i]) return false;
      return true;
    };
    this.reroute(service, method, (entryRoute) => {
      const parts = entryRoute.split('/');
      for (const { index, values } of unpinned)
        if (values.includes(parts[index]) && samePrefix(parts, index)) parts[index] = placeholders[index];
      return parts.join('/');
    });
  }

  /**
   * each entry of one service and method (null: all its methods) under the route `next` gives it, merged where routes
   * meet; catalogue routes stay as they are
   */
  private reroute(service: string, method: string | null, next: (route: string, method: string) => string): void {
    const catalogued = this.options.catalogRoutes;
    for (const [key, e] of [...this.entries.entries()]) {
      if (e.service !== service || (method !== null && e.method !== method)) continue;
      if (catalogued && catalogued.route(service, e.hosts[0], e.method, e.route) === e.route) continue;
      const route = next(e.route, e.method);
      if (route !== e.route) this.move(key, e, route);
    }
  }

  /** an entry under a new route, merged into the entry already there */
  private move(key: string, e: ApiEntry, route: string): void {
    this.entries.delete(key);
    const newKey = endpointKey(e.service, e.method, route);
    const into = this.entries.get(newKey);
    if (!into) {
      const id = stableId('api', e.service, e.method, route);
      this.entries.set(newKey, { ...e, route, id });
      this.moved.add(id);
      return;
    }
    this.moved.add(into.id);
    into.count += e.count;
    into.firstSeen = Math.min(into.firstSeen, e.firstSeen);
    into.lastSeen = Math.max(into.lastSeen, e.lastSeen);
    for (const h of e.hosts) addBounded(into.hosts, h, this.options.maxHosts);
    for (const c of e.callers) addBounded(into.callers, c, this.options.maxCallers);
    for (const p of e.params) addBounded(into.params, p, this.options.maxParams);
    for (const [k, n] of Object.entries(e.statusMix)) into.statusMix[k] = (into.statusMix[k] ?? 0) + n;
    if (e.auth) {
      into.auth ??= noCredentials();
      for (const c of CALL_CREDENTIALS) into.auth[c] += e.auth[c];
    }
  }

  get(service: string, method: string, route: string): ApiEntry | undefined {
    return this.entries.peek(endpointKey(service, method.toUpperCase(), route));
  }

  /** the entry with this id, without copying the list */
  find(id: string): ApiEntry | undefined {
    for (const e of this.entries.values()) if (e.id === id) return e;
    return undefined;
  }

  /**
   * what moves and evictions changed since the last call: the ids of entries no longer here (their documents are to
   * be deleted) and of entries a move created or merged into (to be written again)
   */
  takeChanges(): { gone: string[]; moved: string[] } {
    if (this.gone.size === 0 && this.moved.size === 0) return { gone: [], moved: [] };
    const present = new Set<string>();
    for (const e of this.entries.values()) present.add(e.id);
    const gone = [...this.gone].filter((id) => !present.has(id));
    const moved = [...this.moved].filter((id) => present.has(id));
    this.gone.clear();
    this.moved.clear();
    return { gone, moved };
  }

  /** all entries, most recently seen first */
  list(): ApiEntry[] {
    return [...this.entries.values()];
  }

  /** the raw path without query, for display */
  static displayPath(path: string): string {
    return pathOnly(path);
  }

  snapshot(): { v: 1; entries: ApiEntry[]; learner: unknown; pins: unknown; sight: string[]; lookAt: number } {
    // oldest first so restore() rebuilds the same LRU order
    return {
      v: 1,
      entries: this.list().reverse(),
      learner: this.learning?.learner.snapshot() ?? null,
      pins: this.learning?.pins.snapshot() ?? null,
      sight: this.sight.dump(),
      lookAt: this.lookAt,
    };
  }

  restore(state: unknown): void {
    const s = state as {
      v?: unknown;
      entries?: unknown;
      learner?: unknown;
      pins?: unknown;
      sight?: unknown;
      lookAt?: unknown;
    } | null;
    if (s?.v !== 1 || !Array.isArray(s.entries)) return;
    this.entries.clear();
    for (const e of s.entries) {
      if (!Value.Check(ApiEntrySchema, e)) {
        restoreRejected.inc();
        continue;
      }
      this.entries.set(endpointKey(e.service, e.method, e.route), e);
    }
    this.learning?.learner.restore(s.learner);
    this.learning?.pins.restore(s.pins);
    this.sight.load(s.sight);
    // a checkpoint from before forgetting: the first record looks
    this.lookAt = typeof s.lookAt === 'number' ? s.lookAt : 0;
    // the checkpoint is the whole state: nothing it replaced is gone from the analysts' documents
    this.gone.clear();
    this.moved.clear();
  }
}
