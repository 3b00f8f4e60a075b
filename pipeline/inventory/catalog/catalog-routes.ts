/**
 * Routes a called path to the path template the catalogue defines for it, as the API's own router would: the calls
 * `/key/alice` and `/key/bob` of an API whose catalogue entry defines `GET /key/{name}` are one endpoint from the first
 * call, where templating by value shape keeps word-like values literal (a shadow API per value) until the route
 * learner has seen enough of them. Only entries of the call's own service or host are used: a template such as
 * `/{bucket}` must not absorb the paths of every other service.
 *
 * Matching follows router precedence: at each segment a literal of the catalogue beats a pattern (`{name}.json`,
 * `microsoft.graph.f({x})`), which beats an id parameter (below), which beats another whole-segment parameter
 * (`{name}`), which beats a greedy tail (`{key+}`, AWS style, one segment or more); the first full match in that
 * order wins (the property test checks it against a brute-force router). A parameter named as an id (`{id}`,
 * `{userId}`, `{order_uuid}`) takes only segments that look like values (numbers, UUIDs, hashes, dates, … as
 * path-template.ts classifies them): an undocumented `/users/export` beside a documented `/users/{userId}` stays a
 * (shadow) endpoint of its own. A parameter of another name (`{name}`, `{key}`, `{owner}`) takes any segment: its
 * values are words, and telling an undocumented word sibling from a value is what the catalogue cannot do.
 */
import { ClearingMemo } from '../../core/clearing-memo.js';
import { classifySegment, pathOnly } from '../path-template.js';
import type { CatalogEntry } from './catalog-entry.js';
import { entryTemplates, hostOf } from './catalog.js';

/** a trie node; most are leaves, so the collections are made on first use */
interface Node {
  literals: Map<string, Node> | null;
  /** segments with a parameter and literal text (`{name}.json`), tried in definition order */
  patterns: { re: RegExp; node: Node }[] | null;
  param: Node | null;
  /** a parameter named as an id (`{id}`, `{userId}`, `{order_uuid}`, `{issue_number}`): it takes value-like segments only */
  idParam: Node | null;
  /** a greedy parameter (`{key+}`): the rest of the path */
  greedy: string | null;
  /** the template of a route ending at this node */
  template: string | null;
}

const newNode = (): Node => ({
  literals: null,
  patterns: null,
  param: null,
  idParam: null,
  greedy: null,
  template: null,
});

const WHOLE_PARAM = /^\{[^{}]+\}$/;
const GREEDY_PARAM = /^\{[^{}]+\+\}$/;
/** `{id}`, `{uuid}`, `{userId}`, `{user_id}`, `{orderUUID}`, `{issue_number}` (case as written: `{paid}` is not one) */
const ID_PARAM =
  /^\{((id|uuid|guid|oid)|.*([a-z\d](Id|ID|Uuid|UUID|Guid|GUID|Number)|[_-](id|uuid|guid|number|num)))\}$/;

function patternOf(segment: string): RegExp {
  const parts = segment.split(/(\{[^{}]+\})/).filter((p) => p !== '');
  const body = parts
    .map((p) => (p.startsWith('{') && p.endsWith('}') ? '[^/]+?' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** catalogue templates of one scope (a service or a host), per method */
class RouteTree {
  private readonly roots = new Map<string, Node>();

  add(method: string, template: string): void {
    let root = this.roots.get(method);
    if (!root) {
      root = newNode();
      this.roots.set(method, root);
    }
    let node = root;
    const segments = segmentsOf(template);
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      if (GREEDY_PARAM.test(s) && i === segments.length - 1) {
        node.greedy ??= template;
        return;
      }
      if (ID_PARAM.test(s)) {
        node.idParam ??= newNode();
        node = node.idParam;
      } else if (WHOLE_PARAM.test(s)) {
        node.param ??= newNode();
        node = node.param;
      } else if (s.includes('{')) {
        const src = patternOf(s).source;
        node.patterns ??= [];
        let p = node.patterns.find((x) => x.re.source === src);
        if (!p) {
          p = { re: new RegExp(src), node: newNode() };
          node.patterns.push(p);
        }
        node = p.node;
      } else {
        node.literals ??= new Map();
        let next = node.literals.get(s);
        if (!next) {
          next = newNode();
          node.literals.set(s, next);
        }
        node = next;
      }
    }
    node.template ??= template;
  }

  match(method: string, segments: readonly string[]): string | null {
    const root = this.roots.get(method);
    return root ? matchFrom(root, segments, 0) : null;
  }
}

function matchFrom(node: Node, segments: readonly string[], i: number): string | null {
  if (i === segments.length) return node.template;
  const s = segments[i];
  const literal = node.literals?.get(s);
  if (literal) {
    const t = matchFrom(literal, segments, i + 1);
    if (t !== null) return t;
  }
  if (node.patterns) {
    for (const p of node.patterns) {
      if (!p.re.test(s)) continue;
      const t = matchFrom(p.node, segments, i + 1);
      if (t !== null) return t;
    }
  }
  // an id parameter does not take a word (`/users/export` is not `/users/{userId}`): an undocumented literal sibling
  // stays an endpoint of its own. A placeholder (`{orderId}`: a template routed again) is taken
  if (node.idParam && (s.startsWith('{') || classifySegment(s) !== null)) {
    const t = matchFrom(node.idParam, segments, i + 1);
    if (t !== null) return t;
  }
  if (node.param) {
    const t = matchFrom(node.param, segments, i + 1);
    if (t !== null) return t;
  }
  return node.greedy;
}

/** the segments of a path without query (`/` has none) */
function segmentsOf(path: string): string[] {
  const p = pathOnly(path);
  return p === '/' ? [] : p.slice(1).split('/');
}

export class CatalogRoutes {
  /**
   * one tree per scope: the entries of one service together (so precedence holds across them), or an entry without a
   * service under its hosts; each endpoint is in one tree
   */
  private readonly byScope = new Map<string, RouteTree>();
  /** the trees of the entries served at each host (their services' trees and host-only trees) */
  private readonly byHost = new Map<string, RouteTree[]>();

  constructor(entries: readonly CatalogEntry[] = []) {
    for (const e of entries) this.add(e);
  }

  get empty(): boolean {
    return this.byScope.size === 0;
  }

  add(entry: CatalogEntry): void {
    const hosts = new Set<string>();
    for (const h of [...(entry.host ? [entry.host] : []), ...(entry.servers ?? [])]) {
      const host = hostOf(h);
      if (host && !host.includes('{') && (h.includes('://') || !h.startsWith('/'))) hosts.add(host);
    }
    if (!entry.service && hosts.size === 0) return;
    // a service's own key; a host-only entry's key cannot be a service name (NUL)
    const scope = entry.service ?? `\u0000${[...hosts].sort().join(' ')}`;
    let tree = this.byScope.get(scope);
    if (!tree) {
      tree = new RouteTree();
      this.byScope.set(scope, tree);
    }
    for (const { method, template } of entryTemplates(entry)) tree.add(method, template);
    for (const h of hosts) {
      const list = this.byHost.get(h);
      if (!list) this.byHost.set(h, [tree]);
      else if (!list.includes(tree)) list.push(tree);
    }
  }

  /**
   * the catalogue template of a call (`GET /key/alice` → `/key/{name}`) among the entries of its service, then of its
   * host; null when none of them defines it
   */
  route(service: string, host: string | undefined, method: string, path: string): string | null {
    if (this.empty) return null;
    const own = this.byScope.get(service);
    const atHost = host && this.byHost.size > 0 ? this.byHost.get(hostNames.get(host)) : undefined;
    if (!own && !atHost) return null;
    const segments = segmentsOf(path);
    const m = method.toUpperCase();
    const route = own?.match(m, segments) ?? null;
    if (route !== null || !atHost) return route;
    for (const t of atHost) {
      if (t === own) continue;
      const r = t.match(m, segments);
      if (r !== null) return r;
    }
    return null;
  }
}

/** host names of the records' host fields (a URL parse each: few distinct values, many calls) */
const hostNames = new ClearingMemo(hostOf);
