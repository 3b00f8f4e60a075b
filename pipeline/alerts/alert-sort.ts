import { type Alert, SEVERITY_RANK } from '../core/alert.js';
import { mwError } from '../core/errors.js';

/**
 * the orders of the alert queue, each highest (newest) first and then newest (`lastSeen`), then by id: `last_seen`
 * (the default; the store's time index gives it for every state), the others for the unresolved alerts only (an index
 * per order kept in the store as alerts change: queue-index.ts)
 */
export const ALERT_SORTS = ['last_seen', 'severity', 'count', 'first_seen'] as const;
export type AlertSort = (typeof ALERT_SORTS)[number];

const PRIMARY: Record<Exclude<AlertSort, 'last_seen'>, (a: Alert) => number> = {
  severity: (a) => SEVERITY_RANK[a.severity],
  count: (a) => a.count,
  first_seen: (a) => a.firstSeen,
};

/** where an alert sorts: its primary key, lastSeen, id (compared in that order, each highest first) */
export type Position = readonly [number, number, string];

export const positionOf = (sort: Exclude<AlertSort, 'last_seen'>, a: Alert): Position => [
  PRIMARY[sort](a),
  a.lastSeen,
  a.id,
];

/** a page's cursor: the sort, then the last item's position, `<sort>:<key>:<lastSeen>:<id>` */
export const cursorOf = (sort: AlertSort, [key, lastSeen, id]: Position) => `${sort}:${key}:${lastSeen}:${id}`;

export function parseCursor(sort: AlertSort, cursor: string): Position {
  const m = /^([a-z_]+):(-?[\d.e+]+):(-?[\d.e+]+):(.+)$/.exec(cursor);
  if (!m) throw mwError('BAD_REQUEST', 'invalid cursor');
  if (m[1] !== sort)
    throw mwError('BAD_REQUEST', `the cursor is of sort=${m[1]}, not sort=${sort}: page on as it began`);
  const key = Number(m[2]);
  const lastSeen = Number(m[3]);
  if (!Number.isFinite(key) || !Number.isFinite(lastSeen)) throw mwError('BAD_REQUEST', 'invalid cursor');
  return [key, lastSeen, m[4]];
}
