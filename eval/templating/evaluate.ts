/**
 * Templating quality on real API definitions: traffic is generated from the OpenAPI path templates of the APIs-guru
 * catalogue (each `{param}` filled with a value of the kind its name suggests), replayed through the inventory (path
 * templating and the route learner, as the api_discovery detector runs them), and each defined endpoint is checked:
 * did its calls land in one inventory route of the same shape (right), in several (split), or in a route shared with
 * another defined endpoint (merged)?
 */
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { CatalogRoutes } from '../../pipeline/inventory/catalog/catalog-routes.js';
import { Inventory } from '../../pipeline/inventory/inventory.js';
import { pathOnly } from '../../pipeline/inventory/path-template.js';
import type { RouteLearnerOptions } from '../../pipeline/inventory/route-learner.js';
import { Rng } from '../../pipeline/core/prng.js';
import type { GuruApi } from '../association/data.js';

export interface TemplatingOptions {
  /** every n-th definition (1 = all) */
  every?: number;
  /** calls generated per defined endpoint */
  calls: number;
  /** route_max_distinct of the route learner; 0 = templating by value shape alone */
  maxDistinct: number;
  /** the route learner's other options (minNovel, estimatedDistinct, acrossMethods, …; default: the learner's) */
  learner?: Partial<RouteLearnerOptions>;
  seed: number;
  /**
   * share of each API's defined endpoints in a catalogue of the API (drawn at random; 0 = no catalogue): their calls
   * are routed by the catalogue's templates, the others are shadow endpoints templated from traffic
   */
  catalogued?: number;
  /**
   * `uniform` (default): every endpoint gets `calls` calls, every parameter value is new; `zipf`: the same total,
   * endpoints drawn by a Zipf law (s = 1, a random rank each), and each parameter's values drawn by a Zipf law over
   * 1,000 values (popular users, keys, ids come back), as real traffic is skewed
   */
  traffic?: 'uniform' | 'zipf';
  /**
   * calls carry the path of the API's first server URL before the defined path (`/api.xro/2.0/Invoices` for Xero's
   * `https://api.xero.com/api.xro/2.0` and `/Invoices`), as a gateway or sidecar sees them; false (default): the
   * defined paths alone
   */
  serverPaths?: boolean;
}

/** the path of an API's first server URL, its `{variables}` left out (`https://api.xero.com/api.xro/2.0` → `/api.xro/2.0`) */
export function serverPath(api: GuruApi): string {
  const url = api.servers?.[0] ?? '';
  const scheme = url.indexOf('://');
  if (scheme === -1) return '';
  const slash = url.indexOf('/', scheme + 3);
  if (slash === -1) return '';
  return url
    .slice(slash)
    .split('/')
    .filter((s) => s !== '' && !/[{}]/.test(s))
    .map((s) => `/${s}`)
    .join('');
}

/** values per parameter in zipf traffic */
const ZIPF_VALUES = 1000;

/** cumulative Zipf (s = 1) weights of n ranks, for drawing a rank */
function zipfCdf(n: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1);
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return cdf;
}

/** a rank drawn from a cumulative distribution */
function drawRank(cdf: Float64Array, r: Rng): number {
  const x = r.next();
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const VALUE_CDF = zipfCdf(ZIPF_VALUES);

export interface TemplatingCounts {
  endpoints: number;
  /** one inventory route, of the defined shape (literal segments equal, variables where the definition has them) */
  right: number;
  /** calls of one endpoint in more than one inventory route */
  split: number;
  /** an inventory route holding calls of two or more defined endpoints (each such endpoint counts) */
  merged: number;
  /** one route, not shared, but of another shape (a literal templated: `/2010-04-01/…` → `/{date}/…`) */
  reshaped: number;
}

const noCounts = (): TemplatingCounts => ({ endpoints: 0, right: 0, split: 0, merged: 0, reshaped: 0 });

export interface TemplatingResult extends TemplatingCounts {
  apis: number;
  /** the same counts for the endpoints in the catalogue and for the others (all shadow without a catalogue) */
  catalogued: TemplatingCounts;
  shadow: TemplatingCounts;
  examples: { split: string[]; merged: string[]; reshaped: string[] };
}

const WORDS =
  'alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy trent victor walter acme globex initech umbrella hooli stark wayne wonka tyrell cyberdyne soylent vandelay prod staging dev main master release feature docs assets images reports billing invoices archive backup logs data media public private shared team ops sales marketing eu-west-1 us-east-1 ap-south-1 westeurope eastus default primary secondary blue green red'.split(
    ' ',
  );

export type ValueKind = 'int' | 'uuid' | 'hex' | 'email' | 'date' | 'slug';

/**
 * the kind of value a parameter takes, from its name (drawn once per API and parameter: one parameter's values are of
 * one kind, as an API's ids are all numbers or all UUIDs): `…id` a number, UUID or hex object id; names, users,
 * projects, regions … slugs; others a number, UUID or slug
 */
export function kindFor(param: string, r: Rng): ValueKind {
  const p = param.toLowerCase();
  if (/email/.test(p)) return 'email';
  if (/date|day/.test(p)) return 'date';
  const x = r.next();
  if (/(id|uuid|guid)$/.test(p)) return x < 0.5 ? 'int' : x < 0.8 ? 'uuid' : 'hex';
  if (SLUG_NAMES.test(p)) return 'slug';
  return x < 0.4 ? 'int' : x < 0.6 ? 'uuid' : 'slug';
}

const SLUG_NAMES =
  /name|slug|user|login|owner|repo|project|bucket|key|path|file|region|zone|location|country|locale|lang|team|org|account|namespace|container|group|tag|branch|ref/;

/** a value of that kind, as a client would send it */
export function sampleValue(kind: ValueKind, r: Rng): string {
  switch (kind) {
    case 'email':
      return `${r.pick(WORDS)}.${r.pick(WORDS)}@example.com`;
    case 'date':
      return `20${r.int(10, 25)}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`;
    case 'int':
      return String(r.int(1, 2_000_000));
    case 'uuid':
      return uuid(r);
    case 'hex':
      return hex(r, 24);
    case 'slug': {
      const w = r.pick(WORDS);
      const x = r.next();
      return x < 0.4 ? w : x < 0.7 ? `${w}-${r.pick(WORDS)}` : `${w}${r.int(1, 999)}`;
    }
  }
}

function hex(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[r.int(0, 15)];
  return s;
}

function uuid(r: Rng): string {
  const h = hex(r, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

/** the shape of a template: literal segments as they are, variable ones (any `{…}` or `:name`) as one mark */
function shape(template: string): string {
  return template
    .split('/')
    .map((s) => (/[{}]|^:/.test(s) ? '*' : s))
    .join('/');
}

/** a concrete path for a defined template: every `{name}` replaced by a value of the parameter's kind */
function concretePath(template: string, paramValue: (name: string) => string): string {
  return template.replace(/\{([^}]*)\}/g, (_, name: string) => encodeURIComponent(paramValue(name)));
}

export function evaluateTemplating(apis: readonly GuruApi[], opts: TemplatingOptions): TemplatingResult {
  const r = new Rng(opts.seed);
  const out: TemplatingResult = {
    apis: 0,
    ...noCounts(),
    catalogued: noCounts(),
    shadow: noCounts(),
    examples: { split: [], merged: [], reshaped: [] },
  };
  const note = (list: string[], s: string) => {
    if (list.length < 8) list.push(s);
  };
  let ts = 1_700_000_000_000;
  for (let a = 0; a < apis.length; a += opts.every ?? 1) {
    const api = apis[a];
    // the defined endpoints: method + template, duplicates (same shape) once
    const defined = new Map<string, { method: string; template: string }>();
    const base = opts.serverPaths ? serverPath(api) : '';
    for (const e of api.endpoints ?? []) {
      const template = pathOnly(base + e.path);
      defined.set(`${e.method.toUpperCase()} ${shape(template)}`, { method: e.method.toUpperCase(), template });
    }
    if (defined.size === 0) continue;
    out.apis++;
    const share = opts.catalogued ?? 0;
    const inCatalogue = new Set(share > 0 ? [...defined.keys()].filter(() => r.next() < share) : []);
    const catalogRoutes = inCatalogue.size
      ? new CatalogRoutes([
          {
            id: api.id,
            name: api.id,
            service: api.id,
            endpoints: [...inCatalogue].map((k) => ({
              method: defined.get(k)!.method,
              path: defined.get(k)!.template,
            })),
            labels: {},
          },
        ])
      : null;
    const inventory = new Inventory({
      // room for every call as an entry of its own (lru-cache allocates its capacity up front)
      maxEndpoints: defined.size * opts.calls + 1,
      learner: opts.maxDistinct > 0 ? { ...opts.learner, maxDistinct: opts.maxDistinct } : false,
      catalogRoutes,
    });
    // calls interleaved across the API's endpoints, as traffic arrives
    const zipf = opts.traffic === 'zipf';
    const calls: string[] = [];
    if (zipf) {
      const keys = r.shuffle([...defined.keys()]);
      const cdf = zipfCdf(keys.length);
      for (let i = 0; i < keys.length * opts.calls; i++) calls.push(keys[drawRank(cdf, r)]);
    } else {
      for (const key of defined.keys()) for (let i = 0; i < opts.calls; i++) calls.push(key);
      r.shuffle(calls);
    }
    const kinds = new Map<string, ValueKind>();
    const kindOf = (name: string) => kinds.get(name) ?? kinds.set(name, kindFor(name, r)).get(name)!;
    // zipf traffic: each parameter's values, made as they are first drawn
    const populations = new Map<string, string[]>();
    const paramValue = (name: string): string => {
      if (!zipf) return sampleValue(kindOf(name), r);
      const rank = drawRank(VALUE_CDF, r);
      const pop = populations.get(name) ?? populations.set(name, []).get(name)!;
      while (pop.length <= rank) pop.push(sampleValue(kindOf(name), r));
      return pop[rank];
    };
    const pathsOf = new Map<string, Set<string>>();
    for (const key of calls) {
      const d = defined.get(key)!;
      const path = concretePath(d.template, paramValue);
      inventory.observe({
        id: `t${ts}`,
        ts: ts++,
        durationMs: 1,
        sensor: { kind: 'eval', id: 'templating' },
        service: api.id,
        method: d.method,
        host: 'api.example.com',
        path,
        status: 200,
        reqBytes: 0,
        respBytes: 0,
        source: {},
      });
      (pathsOf.get(key) ?? pathsOf.set(key, new Set()).get(key)!).add(path);
    }
    // the route of every call once all traffic is in (the learner folds positions as values accumulate)
    const finalRoutes = new Map<string, Set<string>>();
    const finalEndpoints = new Map<string, Set<string>>();
    for (const [key, paths] of pathsOf) {
      const d = defined.get(key)!;
      const set = new Set<string>();
      for (const path of paths) {
        const rec = { service: api.id, method: d.method, path } as ApiCallRecord;
        const route = `${d.method} ${inventory.routeOf(rec)}`;
        set.add(route);
        (finalEndpoints.get(route) ?? finalEndpoints.set(route, new Set()).get(route)!).add(key);
      }
      finalRoutes.set(key, set);
    }
    for (const [key, routes] of finalRoutes) {
      const outcome = (what: Exclude<keyof TemplatingCounts, 'endpoints'>) => {
        for (const c of [out, inCatalogue.has(key) ? out.catalogued : out.shadow]) {
          c.endpoints++;
          c[what]++;
        }
      };
      const shared = [...routes].some((route) => finalEndpoints.get(route)!.size > 1);
      if (shared) {
        outcome('merged');
        const route = [...routes].find((x) => finalEndpoints.get(x)!.size > 1)!;
        const together = [...finalEndpoints.get(route)!];
        // one example per merged route (its first endpoint notes it), at most five endpoints named
        if (together[0] === key)
          note(
            out.examples.merged,
            `${api.id}: ${together.slice(0, 5).join(' + ')}${together.length > 5 ? ` + ${together.length - 5} more` : ''} → ${route}`,
          );
      } else if (routes.size > 1) {
        outcome('split');
        note(
          out.examples.split,
          `${api.id}: ${key} → ${routes.size} routes, e.g. ${[...routes].slice(0, 2).join(', ')}`,
        );
      } else {
        const [route] = routes;
        const d = defined.get(key)!;
        if (shape(route.slice(route.indexOf(' ') + 1)) === shape(d.template)) outcome('right');
        else {
          outcome('reshaped');
          note(out.examples.reshaped, `${api.id}: ${key} → ${route}`);
        }
      }
    }
  }
  return out;
}
