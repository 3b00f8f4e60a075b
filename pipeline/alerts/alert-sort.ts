import { type Alert, SEVERITY_RANK } from '../core/alert.js';
import { mwError } from '../core/errors.js';

/**
 * the orders of the alert queue, each highest (newest) first and then newest (`lastSeen`), then by id: `last_seen`
 * (the default; the store's time index gives it for every state), the others for the unresolved alerts only (sorted
 * in memory from the index of unresolved alerts)
 */
export const ALERT_SORTS = ['last_seen', 'severity', 'count', 'first_seen'] as const;
export type AlertSort = (typeof ALERT_SORTS)[number];

const PRIMARY: Record<Exclude<AlertSort, 'last_seen'>, (a: Alert) => number> = {
  severity: (a) => SEVERITY_RANK[a.severity],
  count: (a) => a.count,
  first_seen: (a) => a.firstSeen,
};

/** where an alert sorts: its primary key, lastSeen, id (compared in that order, each highest first) */
type Position = readonly [number, number, string];

const positionOf = (sort: Exclude<AlertSort, 'last_seen'>, a: Alert): Position => [PRIMARY[sort](a), a.lastSeen, a.id];

/** negative when `x` comes before `y` in the queue */
function compare(x: Position, y: Position): number {
  return y[0] - x[0] || y[1] - x[1] || (y[2] < x[2] ? -1 : y[2] > x[2] ? 1 : 0);
}

/** a page's cursor: the sort, then the last item's position, `<sort>:<key>:<lastSeen>:<id>` */
const cursorOf = (sort: AlertSort, [key, lastSeen, id]: Position) => `${sort}:${key}:${lastSeen}:${id}`;

function parseCursor(sort: AlertSort, cursor: string): Position {
  const m = /^([a-z_]+):(-?[\d.e+]+):(-?[\d.e+]+):(.+)$/.exec(cursor);
  if (!m) throw mwError('BAD_REQUEST', 'invalid cursor');
  if (m[1] !== sort)
    throw mwError('BAD_REQUEST', `the cursor is of sort=${m[1]}, not sort=${sort}: page on as it began`);
  const key = Number(m[2]);
  const lastSeen = Number(m[3]);
  if (!Number.isFinite(key) || !Number.isFinite(lastSeen)) throw mwError('BAD_REQUEST', 'invalid cursor');
  return [key, lastSeen, m[4]];
}

/**
 * one page of `alerts` (the matching unresolved alerts, in any order) in the order `sort` gives: those after the
 * cursor's position, at most `limit`, with the cursor of the next page when there are more
 */
export function sortedPage(
  alerts: readonly Alert[],
  sort: Exclude<AlertSort, 'last_seen'>,
  limit: number,
  cursor?: string,
): { items: Alert[]; next?: string } {
  const after = cursor === undefined ? undefined : parseCursor(sort, cursor);
  const placed = alerts
    .map((a) => ({ a, at: positionOf(sort, a) }))
    .filter((x) => after === undefined || compare(x.at, after) > 0)
    .sort((x, y) => compare(x.at, y.at));
  const page = placed.slice(0, limit);
  return placed.length > limit
    ? { items: page.map((x) => x.a), next: cursorOf(sort, page[page.length - 1].at) }
    : { items: page.map((x) => x.a) };
}
