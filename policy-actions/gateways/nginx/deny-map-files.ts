import { mwError } from '../../../pipeline/core/errors.js';
import type { DenyEntry, DenyIndex } from '../deny-index.js';
import type { DenyTarget, RouteMatch } from '../deny-keys.js';

/**
 * The nginx side of a deny: entries of the five map files included by deploy/nginx/meshward-deny.conf, and the
 * rendering of those files from a DenyIndex.
 */
export const NGINX_MAP_FILES: Record<string, string> = {
  ip: 'deny-ip.map',
  token: 'deny-token.map',
  user: 'deny-user.map',
  principal: 'deny-principal.map',
  route: 'deny-route.map',
};

/** nginx config strings would need escapes for these; no legitimate user id or SPIFFE id holds them */
const UNSAFE = /["'\\{}$`]/;
const SPECIAL_KEYS = new Set(['default', 'hostnames', 'include', 'volatile']);

const escapeRegex = (s: string): string => s.replace(/[.*+?^()[\]|/]/g, (c) => `\\${c}`);

/** the fields of the route map's source string, in order: token hash | user | principal | client ip | METHOD:path */
const FIELD = { token: 0, user: 1, principal: 2, ip: 3 } as const;

function routeRegex(route: RouteMatch, subject?: { field: number; value: string }): string {
  const fields = ['[^|]*', '[^|]*', '[^|]*', '[^|]*'];
  if (subject) fields[subject.field] = escapeRegex(subject.value);
  const method = route.method ?? '[A-Z]+';
  return `~^${fields.join('\\|')}\\|${method}:${escapeRegex(route.prefix)}`;
}

export function nginxEntries(target: DenyTarget): DenyEntry[] {
  // a route's prefix is already checked by parseRoute; template braces are cut off
  if (target.scope === 'route') return [{ map: 'route', key: routeRegex(target.route!) }];
  if (UNSAFE.test(target.value))
    throw mwError('BAD_REQUEST', `${target.scope} value holds characters nginx cannot map`);
  if (!target.route) return [{ map: target.scope, key: target.value }];
  if (target.scope === 'ip' && target.value.includes('/')) {
    throw mwError('BAD_REQUEST', 'a route-narrowed deny by IP takes one address, not a CIDR block');
  }
  return [{ map: 'route', key: routeRegex(target.route, { field: FIELD[target.scope], value: target.value }) }];
}

function mapLine(map: string, key: string, id: string): string {
  const note = id.replace(/[^\w.:-]/g, '_');
  if (map === 'ip') return `${key} 1; # ${note}\n`;
  const k =
    map !== 'route' && (SPECIAL_KEYS.has(key) || key.startsWith('~') || key.startsWith('\\')) ? `\\${key}` : key;
  return `"${k}" 1; # ${note}\n`;
}

/** file name → contents for every map file */
export function renderMapFiles(index: DenyIndex): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [map, file] of Object.entries(NGINX_MAP_FILES)) {
    const lines = index.entriesOf(map).map((e) => mapLine(map, e.key, e.id));
    out[file] = `# managed by meshward: do not edit\n${lines.join('')}`;
  }
  return out;
}
