import { mwError } from '../../core/errors.js';
import { type CatalogEndpoint, type CatalogEntry, CatalogEntrySchema, type CatalogLabels } from './catalog-entry.js';
import { checkOrThrow, isObject, own, str, stringList } from './validate.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const MAX_ENDPOINTS = 100_000;

/** labels from `x-meshward-labels` (info or root), falling back to APIs-guru's `x-apisguru-categories` */
function labelsOf(doc: Record<string, unknown>, info: unknown): CatalogLabels {
  const labels: CatalogLabels = {};
  const x = own(info, 'x-meshward-labels') ?? own(doc, 'x-meshward-labels');
  for (const dim of ['category', 'lineOfBusiness', 'appCode'] as const) {
    const v = str(own(x, dim));
    if (v) labels[dim] = v;
  }
  if (!labels.category) {
    const cats = stringList(own(info, 'x-apisguru-categories'), 1000);
    if (cats[0]) labels.category = cats[0];
  }
  return labels;
}

function paramNames(op: unknown, shared: unknown): string[] {
  const out: string[] = [];
  for (const list of [shared, own(op, 'parameters')]) {
    if (!Array.isArray(list)) continue;
    for (const p of list) {
      const name = str(own(p, 'name'));
      if (name && !out.includes(name)) out.push(name);
    }
  }
  // top-level request body fields (OpenAPI 3)
  const content = own(own(op, 'requestBody'), 'content');
  if (isObject(content)) {
    for (const media of Object.keys(content)) {
      const props = own(own(own(content, media), 'schema'), 'properties');
      if (isObject(props)) for (const k of Object.keys(props).slice(0, 200)) if (!out.includes(k)) out.push(k);
    }
  }
  return out.slice(0, 1000);
}

/**
 * an operation's (or the document's) `security` as meshward keeps it: `[]` none, a list with an empty requirement
 * (`{}`) optional, a list of non-empty requirements required; undefined when absent or not a list
 */
function securityOf(v: unknown): CatalogEndpoint['security'] {
  if (!Array.isArray(v)) return undefined;
  if (v.length === 0) return 'none';
  return v.some((req) => isObject(req) && Object.keys(req).length === 0) ? 'optional' : 'required';
}

/**
 * Converts an OpenAPI 3.x or Swagger 2.0 document (already parsed from JSON or YAML) to a catalogue entry. Only own
 * properties are read, so `__proto__` keys are inert. Throws MW_ERR_CATALOG_INVALID naming the source and field.
 */
export function importOpenApi(
  doc: unknown,
  source: string,
  opts: { id?: string; labels?: CatalogLabels } = {},
): CatalogEntry {
  if (!isObject(doc))
    throw mwError('CATALOG_INVALID', `${source}: (root): expected an OpenAPI object`, {
      where: source,
      field: '(root)',
    });
  const openapi = str(own(doc, 'openapi'));
  const swagger = str(own(doc, 'swagger'));
  if (!(openapi?.startsWith('3.') || swagger === '2.0')) {
    throw mwError('CATALOG_INVALID', `${source}: openapi: expected openapi 3.x or swagger 2.0`, {
      where: source,
      field: 'openapi',
    });
  }
  const info = own(doc, 'info');
  const title = str(own(info, 'title'));
  if (!isObject(info) || title === undefined) {
    throw mwError('CATALOG_INVALID', `${source}: info.title: required string`, {
      where: source,
      field: 'info.title',
    });
  }
  const servers: string[] = [];
  let basePath = '';
  if (openapi) {
    const list = own(doc, 'servers');
    if (Array.isArray(list))
      for (const s of list.slice(0, 100)) {
        const u = str(own(s, 'url'));
        if (u) servers.push(u);
      }
  } else {
    const host = str(own(doc, 'host'));
    basePath = (str(own(doc, 'basePath')) ?? '').replace(/\/+$/, '');
    const schemes = stringList(own(doc, 'schemes'), 1000);
    if (host) servers.push(`${schemes[0] ?? 'https'}://${host}${basePath}`);
  }
  const paths = own(doc, 'paths');
  if (paths !== undefined && !isObject(paths)) {
    throw mwError('CATALOG_INVALID', `${source}: paths: expected an object`, { where: source, field: 'paths' });
  }
  const docSecurity = securityOf(own(doc, 'security'));
  const endpoints: CatalogEndpoint[] = [];
  for (const path of Object.keys(paths ?? {})) {
    const item = own(paths, path);
    if (!isObject(item)) continue;
    for (const m of METHODS) {
      const op = own(item, m);
      if (!isObject(op)) continue;
      if (endpoints.length >= MAX_ENDPOINTS) {
        throw mwError('CATALOG_INVALID', `${source}: paths: more than ${MAX_ENDPOINTS} operations`, {
          where: source,
          field: 'paths',
        });
      }
      const ep: CatalogEndpoint = {
        method: m.toUpperCase(),
        path: `${basePath}${path}`.slice(0, 2048),
        params: paramNames(op, own(item, 'parameters')),
      };
      const summary = str(own(op, 'summary')) ?? str(own(op, 'operationId'));
      if (summary) ep.summary = summary.slice(0, 4096);
      const tags = stringList(own(op, 'tags'), 100);
      if (tags.length) ep.tags = tags;
      if (own(op, 'deprecated') === true) ep.deprecated = true;
      const security = securityOf(own(op, 'security')) ?? docSecurity;
      if (security) ep.security = security;
      endpoints.push(ep);
    }
  }
  const entry: CatalogEntry = {
    id: opts.id ?? str(own(info, 'x-meshward-id')) ?? title,
    name: title.slice(0, 1024),
    labels: { ...labelsOf(doc, info), ...(opts.labels ?? {}) },
    endpoints,
  };
  const description = str(own(info, 'description'));
  if (description) entry.description = description.slice(0, 65536);
  const service = str(own(info, 'x-service'));
  if (service) entry.service = service;
  if (servers.length) {
    entry.servers = servers;
    try {
      entry.host =
        new URL(servers[0], 'https://placeholder.invalid').host.replace('placeholder.invalid', '') || undefined;
    } catch {
      // relative or templated server URLs carry no host
    }
    if (entry.host === undefined) delete entry.host;
  }
  const tags = own(doc, 'tags');
  if (Array.isArray(tags))
    entry.tags = tags
      .map((t) => str(own(t, 'name')))
      .filter((t): t is string => !!t)
      .slice(0, 1000);
  if (own(info, 'x-deprecated') === true || own(doc, 'x-deprecated') === true) entry.deprecated = true;
  return checkOrThrow<CatalogEntry>(CatalogEntrySchema, entry, source);
}
