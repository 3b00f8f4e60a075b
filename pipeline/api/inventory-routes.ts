import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import type { AlertRepository } from '../alerts/alert-repository.js';
import type { Alert } from '../core/alert.js';
import { UNASSIGNED } from '../association/smart-knn.js';
import { mwError } from '../core/errors.js';
import { INVENTORY_COLLECTION, INVENTORY_REVIEWS_KEY } from '../detectors/api-discovery/api-discovery.js';
import { feedbackVersionKey } from '../detectors/detector.js';
import { type ApiEntry, ApiState } from '../inventory/api-entry.js';
import { LABEL_DIMENSIONS } from '../inventory/catalog/catalog-entry.js';
import type { CatalogEntry } from '../inventory/catalog/catalog-entry.js';
import { catalogCoverage } from '../inventory/catalog/coverage.js';
import { inventoryOpenApi } from '../inventory/catalog/openapi-export.js';
import {
  alertsByEndpoint,
  DEFAULT_RISK_MODEL,
  type EndpointAlerts,
  type EndpointRisk,
  endpointKey,
  endpointRisk,
  type RiskModel,
} from '../inventory/endpoint-risk.js';
import { SENSITIVE_KINDS, type SensitiveKind, sensitiveParams } from '../inventory/sensitive-params.js';
import type { Store } from '../store/store.js';
import { principalOf } from './api-server.js';

/** inventory entries written by the correlators' api_discovery detectors */
export const INVENTORY_KEY = `doc:${INVENTORY_COLLECTION}`;
/** analysts' reviews by entry id; they override the predicted labels and the state, and the correlators learn them */
export const REVIEWS_KEY = INVENTORY_REVIEWS_KEY;

export interface InventoryReview {
  labels: Partial<Record<(typeof LABEL_DIMENSIONS)[number], string>>;
  comment?: string;
  by: string;
  at: number;
  /** what the association model needs of the entry, so every correlator learns the review, not only the entry's */
  api?: Pick<ApiEntry, 'service' | 'route' | 'hosts' | 'params'>;
}

/** the query fields of a paginated list */
const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.String({ pattern: '^\\d{1,9}$', description: 'opaque, from `next`' })),
};

/** one page of a list: `limit` items from `cursor`, and the cursor of the next page while there is one */
function page<T>(all: readonly T[], q: { limit?: number; cursor?: string }): { items: T[]; next?: string } {
  const from = q.cursor ? Number(q.cursor) : 0;
  const limit = q.limit ?? 100;
  return { items: all.slice(from, from + limit), next: from + limit < all.length ? String(from + limit) : undefined };
}

const ListQuery = Type.Object(
  {
    state: Type.Optional(ApiState),
    service: Type.Optional(Type.String({ maxLength: 256 })),
    anonymous: Type.Optional(
      Type.Boolean({ description: 'only endpoints that answered a call carrying no credential (auth.none > 0)' }),
    ),
    sensitive: Type.Optional(
      Type.Union([Type.Literal('any'), ...SENSITIVE_KINDS.map((k) => Type.Literal(k))], {
        description:
          'only endpoints with a parameter whose name says it carries such a datum (`sensitive` of each item)',
      }),
    ),
    first_seen_after: Type.Optional(
      Type.Number({ description: 'only endpoints first called after this time (epoch ms): what is new' }),
    ),
    last_seen_before: Type.Optional(
      Type.Number({
        description:
          'only endpoints last called before this time (epoch ms): what has gone quiet (inactive). An endpoint not called for api_discovery forget_endpoints_after_days is no longer listed at all',
      }),
    ),
    last_seen_after: Type.Optional(
      Type.Number({ description: 'only endpoints called after this time (epoch ms): what is active' }),
    ),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'only endpoints whose route contains this (any case)' }),
    ),
    endpoint: Type.Optional(
      Type.String({ maxLength: 1100, description: 'only the endpoint `METHOD /route` (as alerts name it), exactly' }),
    ),
    min_risk: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100, description: 'only endpoints whose risk score is at least this' }),
    ),
    sort: Type.Optional(
      Type.Union([Type.Literal('last_seen'), Type.Literal('risk')], {
        default: 'last_seen',
        description:
          'last_seen: most recently called first; risk: highest risk score first, then most recently called, then by id',
      }),
    ),
    ...Paging,
  },
  { additionalProperties: false },
);
const OpenApiQuery = Type.Object(
  {
    service: Type.String({ minLength: 1, maxLength: 256 }),
    state: Type.Optional(ApiState),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('yaml')], { default: 'json' })),
  },
  { additionalProperties: false },
);
const CoverageQuery = Type.Object(
  {
    service: Type.Optional(Type.String({ maxLength: 256 })),
    unused: Type.Optional(
      Type.Boolean({ description: 'only catalogue entries with at least one endpoint no call has reached' }),
    ),
    ...Paging,
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });
const ReviewLabels = Type.Object(
  Object.fromEntries(LABEL_DIMENSIONS.map((d) => [d, Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))])),
  { additionalProperties: false },
);
const ReviewBody = Type.Object(
  { labels: ReviewLabels, comment: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
/** the most entries one bulk review may name */
export const MAX_BULK_REVIEW = 500;
const BulkReviewBody = Type.Object(
  {
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      minItems: 1,
      maxItems: MAX_BULK_REVIEW,
      uniqueItems: true,
    }),
    confirm: Type.Optional(Type.Boolean({ description: 'keep each entry’s assigned predicted labels' })),
    labels: Type.Optional(ReviewLabels),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
const BulkReviewAnswer = Type.Object({
  items: Type.Array(Type.Unknown(), { description: 'the entries reviewed, as the API now shows them' }),
  skipped: Type.Array(Type.Object({ id: Type.String(), reason: Type.String() })),
});

/** an entry with its review applied: the reviewed labels, state `reviewed` */
function withReview(entry: ApiEntry, review: InventoryReview | undefined): ApiEntry & { review?: InventoryReview } {
  if (!review) return entry;
  const labels = { ...entry.labels };
  for (const [dim, value] of Object.entries(review.labels)) {
    if (value) labels[dim] = { value, probability: 1, neighbours: [] };
  }
  return { ...entry, labels, state: 'reviewed', review };
}

/** whether any of the names says it carries a datum of that kind (any kind: `any`) */
function takes(names: readonly string[], kind: SensitiveKind | 'any'): boolean {
  const found = sensitiveParams(names);
  return kind === 'any' ? Object.keys(found).length > 0 : found[kind] !== undefined;
}

/**
 * an entry as the analyst API shows it: with its parameter names that say they carry a credential, personal or
 * payment datum, by kind (`sensitive`, when it has such)
 */
function withSensitive<T extends ApiEntry>(entry: T): T & { sensitive?: Partial<Record<SensitiveKind, string[]>> } {
  const sensitive = sensitiveParams(entry.params);
  return Object.keys(sensitive).length ? { ...entry, sensitive } : entry;
}

/** the most recently seen unresolved alerts a request reads for the risk of endpoints (older ones are not weighed) */
export const RISK_ALERTS_READ = 10_000;

/** how the risk of every item is described in the routes' documentation */
const RISK_DESCRIPTION =
  'Each entry carries `risk`: `{ score (0-100), level (low, medium, high), factors: [{ factor, points, detail }] }`, largest factor first: no credential on accepted calls, sensitive parameter names, shadow / zombie / new, object ids in the path, a write method, open alerts naming the endpoint (api.inventory_risk sets the points and levels; pipeline/inventory/README.md).';

async function readAll(store: Store): Promise<(ApiEntry & { review?: InventoryReview })[]> {
  const [entries, reviews] = await Promise.all([store.hgetall(INVENTORY_KEY), store.hgetall(REVIEWS_KEY)]);
  return Object.values(entries).map((raw) => {
    const e = JSON.parse(raw) as ApiEntry;
    const r = reviews[e.id];
    return withReview(e, r ? (JSON.parse(r) as InventoryReview) : undefined);
  });
}

export interface InventoryRoutesOptions {
  /** the catalogue the correlators match traffic against (api_discovery catalog_files), read when first needed */
  catalog?: () => Promise<readonly CatalogEntry[]>;
  /**
   * the analysts' alerts: a review resolves the reviewed endpoint's open shadow or zombie API alert, and an
   * endpoint's unresolved alerts weigh in its risk
   */
  alerts?: AlertRepository;
  /** the risk score's points and levels (api.inventory_risk); the defaults without */
  risk?: RiskModel;
}

/** the discovery alerts a review of their endpoint settles */
const REVIEWED_KINDS = ['shadow_api', 'zombie_api'];
/** how far before an entry's last call its open alerts are looked for (they are refreshed while it is called) */
const REVIEW_LOOKBACK_MS = 86_400_000;

/**
 * whether an alert is a reviewed endpoint's shadow or zombie API alert: the review settled it, and the correlator
 * stops signalling the endpoint once it has read the review (its next checkpoint); a refresh sent before then must
 * not reopen the alert the review resolved
 */
export function settledByReview(store: Store): (alert: Alert) => Promise<boolean> {
  return async (alert) =>
    REVIEWED_KINDS.includes(alert.kind) &&
    alert.subject?.type === 'api' &&
    (await store.hget(REVIEWS_KEY, alert.subject.value)) !== null;
}

/**
 * resolve the open (or acknowledged) shadow and zombie API alerts of a reviewed inventory entry (their subject is the
 * entry), with a note naming the labels. The correlator stops signalling a reviewed endpoint once it has read the
 * review (at its next checkpoint), so the alert stays resolved
 */
async function resolveReviewed(alerts: AlertRepository, entry: ApiEntry, review: InventoryReview): Promise<void> {
  const labels = Object.entries(review.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  // an open one was refreshed while the endpoint was called: the scan stops a day before the entry's last call
  const from = entry.lastSeen - REVIEW_LOOKBACK_MS;
  for (const kind of REVIEWED_KINDS) {
    const { items } = await alerts.list({ kind, service: entry.service, subject: entry.id, from }, 20);
    for (const a of items) {
      if (a.state === 'resolved' || a.subject?.type !== 'api') continue;
      await alerts.transition(a.id, 'resolve', review.by, `API reviewed${labels ? `: ${labels}` : ''}`);
    }
  }
}

/**
 * The API inventory for analysts: endpoints discovered in traffic (shadow, zombie, catalogued) with the labels the
 * association predicted, and the review that confirms or corrects them; the catalogue's coverage by traffic.
 */
export function inventoryRoutes(store: Store, options: InventoryRoutesOptions = {}) {
  const model = options.risk ?? DEFAULT_RISK_MODEL;

  /** the unresolved alerts by the endpoint they name: read once per request, looked up per entry */
  const openAlerts = async (): Promise<ReadonlyMap<string, EndpointAlerts>> =>
    options.alerts ? alertsByEndpoint(await options.alerts.unresolved(RISK_ALERTS_READ)) : new Map();

  /** an entry's risk, its endpoint's unresolved alerts looked up in `alerts` */
  const riskOf = (e: ApiEntry, alerts: ReadonlyMap<string, EndpointAlerts>): EndpointRisk =>
    endpointRisk(e, model, alerts.get(endpointKey(e.service, `${e.method} ${e.route}`)));

  /** an entry as the API shows it: its sensitive parameter names, and its risk */
  const shown = <T extends ApiEntry>(e: T, alerts: ReadonlyMap<string, EndpointAlerts>, risk = riskOf(e, alerts)) => ({
    ...withSensitive(e),
    risk,
  });

  /**
   * an analyst's review of an entry: stored, its open shadow or zombie API alert resolved, and the entry as the API
   * now shows it. The correlators learn it once `announceReviews` has run (at their next checkpoint)
   */
  async function review(entry: ApiEntry, labels: InventoryReview['labels'], comment: string | undefined, by: string) {
    const r: InventoryReview = {
      labels,
      comment,
      by,
      at: Date.now(),
      api: { service: entry.service, route: entry.route, hosts: entry.hosts, params: entry.params },
    };
    await store.hset(REVIEWS_KEY, entry.id, JSON.stringify(r));
    if (options.alerts) await resolveReviewed(options.alerts, entry, r);
    return withReview(entry, r);
  }

  /** tells the correlators there are reviews to learn: once per request, however many entries it reviewed */
  const announceReviews = () => store.incr(feedbackVersionKey(REVIEWS_KEY));

  return async (app: FastifyInstance) => {
    app.get(
      '/v1/inventory/coverage',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['inventory'],
          summary:
            'Catalogue coverage: per catalogue entry, how many of its endpoints traffic reached, and which never',
          description:
            'Endpoints never called are documented but unused: retire them, or find the client that has not moved. "Never" is since the inventory started keeping entries (it evicts the least recently seen beyond api_discovery max_endpoints) and within api_discovery forget_endpoints_after_days (an endpoint not called for that long is forgotten). Entries in catalogue order; `summary` covers every entry.',
          querystring: CoverageQuery,
        },
      },
      async (request) => {
        const q = request.query as { service?: string; unused?: boolean; limit?: number; cursor?: string };
        if (!options.catalog)
          throw mwError(
            'NOT_FOUND',
            'catalogue: no catalogue files configured (detectors.api_discovery.catalog_files)',
          );
        const { summary, entries } = catalogCoverage(await options.catalog(), await readAll(store));
        const all = entries.filter(
          (e) => (!q.service || e.service === q.service) && (!q.unused || e.unused.length > 0),
        );
        return { summary, ...page(all, q) };
      },
    );

    app.get(
      '/v1/inventory',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['inventory'],
          summary: 'Endpoints seen in traffic, most recently seen first (or riskiest first: sort=risk)',
          description: RISK_DESCRIPTION,
          querystring: ListQuery,
        },
      },
      async (request) => {
        const q = request.query as {
          state?: string;
          service?: string;
          anonymous?: boolean;
          sensitive?: 'any' | SensitiveKind;
          first_seen_after?: number;
          last_seen_before?: number;
          last_seen_after?: number;
          q?: string;
          endpoint?: string;
          min_risk?: number;
          sort?: 'last_seen' | 'risk';
          limit?: number;
          cursor?: string;
        };
        const text = q.q?.toLowerCase();
        const [entries, alerts] = await Promise.all([readAll(store), openAlerts()]);
        // an entry's risk is worked out when first needed: for every match when it filters or orders them, else
        // for the page's entries only (50,000 entries cost about 150 ms)
        const risks = new Map<ApiEntry, EndpointRisk>();
        const risk = (e: ApiEntry): EndpointRisk => {
          const known = risks.get(e);
          if (known) return known;
          const r = riskOf(e, alerts);
          risks.set(e, r);
          return r;
        };
        const newest = (a: ApiEntry, b: ApiEntry) => b.lastSeen - a.lastSeen || a.id.localeCompare(b.id);
        const all = entries
          .filter(
            (e) =>
              (!q.state || e.state === q.state) &&
              (!q.service || e.service === q.service) &&
              (!q.anonymous || (e.auth?.none ?? 0) > 0) &&
              (!q.sensitive || takes(e.params, q.sensitive)) &&
              (q.first_seen_after === undefined || e.firstSeen > q.first_seen_after) &&
              (q.last_seen_before === undefined || e.lastSeen < q.last_seen_before) &&
              (q.last_seen_after === undefined || e.lastSeen > q.last_seen_after) &&
              (!text || e.route.toLowerCase().includes(text)) &&
              (!q.endpoint || `${e.method} ${e.route}` === q.endpoint) &&
              (q.min_risk === undefined || risk(e).score >= q.min_risk),
          )
          .sort(q.sort === 'risk' ? (a, b) => risk(b).score - risk(a).score || newest(a, b) : newest);
        const { items, next } = page(all, q);
        // the levels' thresholds (api.inventory_risk), for a client's min_risk choices
        return { items: items.map((e) => shown(e, alerts, risk(e))), next, riskLevels: model.levels };
      },
    );

    app.get(
      '/v1/inventory/openapi',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['inventory'],
          summary:
            "A service's endpoints seen in traffic as an OpenAPI 3.0 document, to review and add to the catalogue",
          description:
            'Paths, methods, parameter names (never values or types) and the observed status classes of the entries of one service (of one state with `state`, e.g. shadow); labels every catalogued or reviewed entry agrees on in `info.x-meshward-labels`, which the catalogue import reads.',
          querystring: OpenApiQuery,
        },
      },
      async (request, reply) => {
        const q = request.query as { service: string; state?: string; format?: 'json' | 'yaml' };
        const entries = (await readAll(store)).filter(
          (e) => e.service === q.service && (!q.state || e.state === q.state),
        );
        if (entries.length === 0)
          throw mwError(
            'NOT_FOUND',
            `inventory entries of service ${q.service}${q.state ? ` in state ${q.state}` : ''}`,
          );
        const doc = inventoryOpenApi(entries, q.service);
        if (q.format !== 'yaml') return doc;
        return reply.type('application/yaml; charset=utf-8').send(stringify(doc));
      },
    );

    app.get(
      '/v1/inventory/:id',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['inventory'],
          summary: 'One inventory entry',
          description: RISK_DESCRIPTION,
          params: IdParams,
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        const raw = await store.hget(INVENTORY_KEY, id);
        if (!raw) throw mwError('NOT_FOUND', `inventory entry ${id}`);
        const [review, alerts] = await Promise.all([store.hget(REVIEWS_KEY, id), openAlerts()]);
        return shown(
          withReview(JSON.parse(raw) as ApiEntry, review ? (JSON.parse(review) as InventoryReview) : undefined),
          alerts,
        );
      },
    );

    app.post(
      '/v1/inventory/:id/review',
      {
        config: { role: 'responder' },
        schema: {
          tags: ['inventory'],
          summary: 'Confirm or correct the labels of an entry; it becomes reviewed',
          params: IdParams,
          body: ReviewBody,
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        const body = request.body as { labels: InventoryReview['labels']; comment?: string };
        const raw = await store.hget(INVENTORY_KEY, id);
        if (!raw) throw mwError('NOT_FOUND', `inventory entry ${id}`);
        const reviewed = await review(JSON.parse(raw) as ApiEntry, body.labels, body.comment, principalOf(request).id);
        await announceReviews();
        // read after the review resolved the endpoint's shadow or zombie alert
        return shown(reviewed, await openAlerts());
      },
    );

    app.post(
      '/v1/inventory/review',
      {
        config: { role: 'responder' },
        schema: {
          tags: ['inventory'],
          summary: `Review up to ${MAX_BULK_REVIEW} entries at once: confirm their predicted labels and/or set labels`,
          description:
            '`confirm`: each entry keeps its predicted labels that were assigned (an `unassigned` one is never taken); `labels` are set on every entry (over the confirmed ones). An entry left with no label to record, or not found, is listed in `skipped` with the reason.',
          body: BulkReviewBody,
          response: { 200: BulkReviewAnswer },
        },
      },
      async (request) => {
        const body = request.body as {
          ids: string[];
          confirm?: boolean;
          labels?: InventoryReview['labels'];
          comment?: string;
        };
        const by = principalOf(request).id;
        const raws = await Promise.all(body.ids.map((id) => store.hget(INVENTORY_KEY, id)));
        const reviews = await Promise.all(body.ids.map((id) => store.hget(REVIEWS_KEY, id)));
        const items = [];
        const skipped: { id: string; reason: string }[] = [];
        for (const [i, id] of body.ids.entries()) {
          const raw = raws[i];
          if (!raw) {
            skipped.push({ id, reason: 'not found' });
            continue;
          }
          const entry = JSON.parse(raw) as ApiEntry;
          const labels: InventoryReview['labels'] = {};
          // the labels as shown: an earlier review's, not the predictions it corrected
          const earlier = reviews[i] ? (JSON.parse(reviews[i] as string) as InventoryReview) : undefined;
          if (body.confirm)
            for (const [dim, l] of Object.entries(withReview(entry, earlier).labels))
              if (l.value !== UNASSIGNED && (LABEL_DIMENSIONS as readonly string[]).includes(dim))
                labels[dim as (typeof LABEL_DIMENSIONS)[number]] = l.value;
          Object.assign(labels, body.labels ?? {});
          if (Object.keys(labels).length === 0) {
            skipped.push({ id, reason: 'no assigned label to confirm' });
            continue;
          }
          items.push(await review(entry, labels, body.comment, by));
        }
        if (items.length > 0) await announceReviews();
        const alerts = items.length > 0 ? await openAlerts() : new Map();
        return { items: items.map((e) => shown(e, alerts)), skipped };
      },
    );
  };
}
