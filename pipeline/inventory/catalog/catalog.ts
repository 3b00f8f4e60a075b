import type { ApiDescription } from '../../association/features.js';
import { matchKey, pathOnly } from '../path-template.js';
import type { CatalogEndpoint, CatalogEntry } from './catalog-entry.js';

export interface CatalogMatch {
  entry: CatalogEntry;
  endpoint: CatalogEndpoint;
  /** the endpoint or its whole entry is deprecated */
  deprecated: boolean;
}

interface Indexed {
  entry: CatalogEntry;
  endpoint: CatalogEndpoint;
}

export function hostOf(s: string): string {
  try {
    return new URL(s.includes('://') ? s : `https://${s}`).hostname.toLowerCase();
  } catch {
    return s.toLowerCase();
  }
}

function serverPathPrefix(s: string): string {
  if (!s.includes('://') && !s.startsWith('/')) return '';
  try {
    const p = new URL(s, 'https://x.invalid').pathname.replace(/\/+$/, '');
    return p === '/' ? '' : p;
  } catch {
    return '';
  }
}

/**
 * The loaded catalogue, indexed for matching traffic endpoints: method + route with every placeholder equal
 * (`/pets/{petId}` = `/pets/{id}`), with and without the server URL's path prefix. When several entries have the
 * endpoint, the one whose service or host matches the traffic wins.
 */
export class Catalog {
  private readonly byKey = new Map<string, Indexed[]>();
  private readonly byId = new Map<string, CatalogEntry>();

  constructor(entries: readonly CatalogEntry[] = []) {
    for (const e of entries) this.add(e);
  }

  get size(): number {
    return this.byId.size;
  }

  entries(): CatalogEntry[] {
    return [...this.byId.values()];
  }

  get(id: string): CatalogEntry | undefined {
    return this.byId.get(id);
  }

  add(entry: CatalogEntry): void {
    this.byId.set(entry.id, entry);
    for (const { method, template, endpoint } of entryTemplates(entry)) {
      const key = `${method} ${matchKey(template)}`;
      const list = this.byKey.get(key) ?? [];
      if (!list.some((x) => x.entry === entry && x.endpoint === endpoint)) list.push({ entry, endpoint });
      this.byKey.set(key, list);
    }
  }

  match(traffic: { service: string; host?: string; method: string; route: string }): CatalogMatch | null {
    const list = this.byKey.get(`${traffic.method.toUpperCase()} ${matchKey(traffic.route)}`);
    if (!list?.length) return null;
    const host = traffic.host ? hostOf(traffic.host) : '';
    const score = (x: Indexed) => {
      let s = 0;
      if (x.entry.service && x.entry.service === traffic.service) s += 2;
      if (host && (x.entry.host ? hostOf(x.entry.host) === host : false)) s += 2;
      if (host && (x.entry.servers ?? []).some((u) => hostOf(u) === host)) s += 1;
      return s;
    };
    let best = list[0];
    let bestScore = score(best);
    for (const x of list.slice(1)) {
      const s = score(x);
      if (s > bestScore) {
        best = x;
        bestScore = s;
      }
    }
    // an endpoint shared by several entries, none of them this service's or host's: not a match
    if (bestScore === 0 && list.length > 1 && new Set(list.map((x) => x.entry.id)).size > 1) return null;
    return {
      entry: best.entry,
      endpoint: best.endpoint,
      deprecated: best.entry.deprecated === true || best.endpoint.deprecated === true,
    };
  }
}

/**
 * an entry's endpoints as traffic may show them: each path as defined and under each server URL's path prefix
 * (`https://api.x.com/v2` + `/users` → `/users` and `/v2/users`), method upper-cased
 */
export function entryTemplates(entry: CatalogEntry): { method: string; template: string; endpoint: CatalogEndpoint }[] {
  const prefixes = new Set(['']);
  for (const s of entry.servers ?? []) prefixes.add(serverPathPrefix(s));
  const out: { method: string; template: string; endpoint: CatalogEndpoint }[] = [];
  for (const endpoint of entry.endpoints ?? []) {
    const method = endpoint.method.toUpperCase();
    for (const pre of prefixes) out.push({ method, template: pathOnly(pre + pathOnly(endpoint.path)), endpoint });
  }
  return out;
}

/** what the association model sees of a catalogue entry */
export function entryDescription(e: CatalogEntry): ApiDescription {
  const eps = e.endpoints ?? [];
  const tags = [...(e.tags ?? [])];
  for (const ep of eps) for (const t of ep.tags ?? []) if (!tags.includes(t)) tags.push(t);
  return {
    name: e.name,
    description: e.description,
    hosts: [...(e.host ? [e.host] : []), ...(e.servers ?? [])],
    service: e.service,
    tags,
    paths: eps.map((ep) => ep.path),
    params: eps.flatMap((ep) => ep.params ?? []),
    summaries: eps.map((ep) => ep.summary ?? '').filter(Boolean),
  };
}
