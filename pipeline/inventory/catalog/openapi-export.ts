import type { ApiEntry } from '../api-entry.js';
import { TEMPLATED } from '../path-template.js';
import { sensitiveParam } from '../sensitive-params.js';
import { LABEL_DIMENSIONS } from './catalog-entry.js';

/**
 * The reverse of importOpenApi: a service's endpoints as the inventory saw them in traffic, as an OpenAPI 3.0
 * document an analyst can review and add to the catalogue (`catalog_files` reads it back: the same calls then match
 * it, and its shadow endpoints become catalogued). What traffic cannot tell stays out: meshward keeps parameter
 * names, never values, so parameters carry no types; the sensors take them from query strings, so they are query
 * parameters (request bodies are not read). Security is what the accepted calls carried: an Authorization credential
 * (`observedAuthorization`, described as bearer: the sensors hash any scheme alike), a credential-named query
 * parameter (an apiKey scheme of that name), none (an empty requirement: anonymous calls were answered); client
 * certificates have no OpenAPI 3.0 scheme and are counted in `x-meshward.auth`.
 */

/** OpenAPI 3.0 path item operations; endpoints of other methods are listed in `x-meshward-other-methods` */
const OPERATION_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const MAX_SERVERS = 16;

type Json = Record<string, unknown>;
type Operation = Json & { parameters: Json[]; responses: Record<string, Json> };

/**
 * a route as an OpenAPI path: `:id` and `<id>` segments become `{id}`, a name used twice gets a suffix (`{id}`,
 * `{id_2}`), and the path's parameters in order
 */
export function openApiPath(route: string): { path: string; params: string[] } {
  const params: string[] = [];
  const unique = (raw: string) => {
    const base = raw.trim() || 'param';
    let name = base;
    for (let i = 2; params.includes(name); i++) name = `${base}_${i}`;
    params.push(name);
    return `{${name}}`;
  };
  const segments = route.split('?')[0].split('/');
  const path = segments
    .map((s) => {
      if (TEMPLATED.test(s) && !s.startsWith('{')) return unique(s.replace(/^[:<]|>$/g, ''));
      return s.replace(/\{([^}]*)\}/g, (_, name: string) => unique(name));
    })
    .join('/');
  return { path: path.startsWith('/') ? path : `/${path}`, params };
}

/** the path parameter's schema by the placeholder the templater gave it (`{uuid}`, `{email}`, …) */
function pathSchema(name: string): Json {
  const base = name.replace(/_\d+$/, '');
  if (base === 'uuid') return { type: 'string', format: 'uuid' };
  if (base === 'email') return { type: 'string', format: 'email' };
  if (base === 'num') return { type: 'number' };
  return { type: 'string' };
}

/** the observed status classes as OpenAPI response ranges (`2xx` → `2XX`), `default` when none was seen */
function responsesOf(entry: ApiEntry): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [cls, n] of Object.entries(entry.statusMix).sort()) {
    if (/^[1-5]xx$/.test(cls) && n > 0) out[cls.toUpperCase()] = { description: `${n} observed` };
  }
  return Object.keys(out).length ? out : { default: { description: 'no status observed' } };
}

const TOKEN_SCHEME = 'observedAuthorization';
const keySchemeName = (param: string) => `observedKey_${param.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

/**
 * the security schemes an entry's accepted calls showed, by name: an Authorization credential, a credential-named
 * query parameter (with the entry's first such parameter); none for client certificates or no count
 */
function observedSchemes(entry: ApiEntry): [string, Json][] {
  const out: [string, Json][] = [];
  if (entry.auth?.token)
    out.push([
      TOKEN_SCHEME,
      {
        type: 'http',
        scheme: 'bearer',
        description: 'an Authorization credential seen on accepted calls (its scheme is not kept: bearer assumed)',
      },
    ]);
  const key = entry.auth?.key ? entry.params.find((p) => sensitiveParam(p) === 'credential') : undefined;
  if (key)
    out.push([
      keySchemeName(key),
      {
        type: 'apiKey',
        in: 'query',
        name: key,
        description: 'a credential-named query parameter seen on accepted calls',
      },
    ]);
  return out;
}

/** the security requirements the entry's accepted calls showed, `{}` when some carried none; undefined: nothing to state */
function securityOf(entry: ApiEntry): Json[] | undefined {
  const out: Json[] = observedSchemes(entry).map(([name]) => ({ [name]: [] }));
  if (entry.auth?.none) out.push({});
  return out.length ? out : undefined;
}

/** the security schemes the operations use */
function securitySchemesOf(entries: readonly ApiEntry[]): Json | undefined {
  const schemes = Object.fromEntries(entries.flatMap(observedSchemes));
  return Object.keys(schemes).length ? schemes : undefined;
}

function operationOf(entry: ApiEntry, pathParams: string[], operationId: string): Operation {
  const named = new Set(pathParams);
  const op: Operation = {
    operationId,
    tags: [entry.service],
    parameters: [
      ...pathParams.map((name) => ({ name, in: 'path', required: true, schema: pathSchema(name) })),
      ...entry.params.filter((p) => !named.has(p)).map((name) => ({ name, in: 'query', schema: {} })),
    ],
    responses: responsesOf(entry),
  };
  if (entry.state === 'zombie') op.deprecated = true;
  const security = securityOf(entry);
  if (security) op.security = security;
  op['x-meshward'] = {
    id: entry.id,
    state: entry.state,
    calls: entry.count,
    firstSeen: new Date(entry.firstSeen).toISOString(),
    lastSeen: new Date(entry.lastSeen).toISOString(),
    callers: entry.callers,
    ...(entry.auth ? { auth: entry.auth } : {}),
    ...(entry.catalogueId ? { catalogueId: entry.catalogueId } : {}),
    labels: Object.fromEntries(
      Object.entries(entry.labels).map(([dim, l]) => [dim, { value: l.value, probability: l.probability }]),
    ),
  };
  return op;
}

/** a label every entry that knows it (catalogued or reviewed: probability 1) agrees on; predictions do not count */
function knownLabels(entries: readonly ApiEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dim of LABEL_DIMENSIONS) {
    const values = new Set(entries.flatMap((e) => (e.labels[dim]?.probability === 1 ? [e.labels[dim].value] : [])));
    if (values.size === 1) out[dim] = [...values][0];
  }
  return out;
}

function serversOf(entries: readonly ApiEntry[]): Json[] {
  const hosts = [...new Set(entries.flatMap((e) => e.hosts))].filter((h) => {
    try {
      return new URL(`https://${h}`).host !== '';
    } catch {
      return false;
    }
  });
  return hosts.slice(0, MAX_SERVERS).map((h) => ({ url: `https://${h}`, description: 'host seen in traffic' }));
}

/**
 * an OpenAPI 3.0 document of `service`'s entries (others are ignored); labels every catalogued or reviewed entry
 * agrees on become `x-meshward-labels`, which the catalogue import reads
 */
export function inventoryOpenApi(entries: readonly ApiEntry[], service: string): Json {
  const mine = entries
    .filter((e) => e.service === service)
    .sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method));
  const paths: Record<string, Record<string, Operation>> = {};
  const other: string[] = [];
  const ids = new Set<string>();
  for (const e of mine) {
    const method = e.method.toLowerCase();
    const { path, params } = openApiPath(e.route);
    if (!OPERATION_METHODS.has(method)) {
      other.push(`${e.method} ${path}`);
      continue;
    }
    const item = paths[path] ?? {};
    if (item[method]) continue; // two routes that differ only in their placeholders' names: one operation
    let operationId = `${method}${path.replace(/[^A-Za-z0-9]+/g, '_')}`.replace(/_+$/, '');
    for (let i = 2; ids.has(operationId); i++) operationId = `${operationId}_${i}`;
    ids.add(operationId);
    item[method] = operationOf(e, params, operationId);
    paths[path] = item;
  }
  const seen = mine.map((e) => e.lastSeen);
  const first = Math.min(...mine.map((e) => e.firstSeen));
  const last = Math.max(...seen);
  const labels = knownLabels(mine);
  const info: Json = {
    title: `${service} (observed)`,
    version: mine.length ? `observed-${new Date(last).toISOString().slice(0, 10)}` : 'observed',
    description:
      mine.length === 0
        ? `No endpoint of ${service} has been seen.`
        : `${mine.length} endpoint${mine.length === 1 ? '' : 's'} of ${service} seen in traffic by meshward between ${new Date(first).toISOString()} and ${new Date(last).toISOString()}. Parameter names only: no types or values are kept. Review before adding it to the catalogue.`,
    'x-service': service,
    'x-meshward-id': `observed-${service}`,
  };
  if (Object.keys(labels).length) info['x-meshward-labels'] = labels;
  const doc: Json = { openapi: '3.0.3', info };
  const servers = serversOf(mine);
  if (servers.length) doc.servers = servers;
  doc.tags = [{ name: service }];
  doc.paths = paths;
  const securitySchemes = securitySchemesOf(mine.filter((e) => OPERATION_METHODS.has(e.method.toLowerCase())));
  if (securitySchemes) doc.components = { securitySchemes };
  if (other.length) doc['x-meshward-other-methods'] = other;
  return doc;
}
