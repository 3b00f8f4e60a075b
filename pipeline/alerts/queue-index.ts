import type { Alert } from '../core/alert.js';
import type { Store } from '../store/store.js';
import { type AlertSort, type Position, positionOf } from './alert-sort.js';

/** the orders kept as an index of the unresolved alerts; last_seen is the store's time index */
export type QueueSort = Exclude<AlertSort, 'last_seen'>;
export const QUEUE_SORTS: readonly QueueSort[] = ['severity', 'count', 'first_seen'];
export type QueueState = 'open' | 'acknowledged';

/** the store's lex index of the unresolved alerts in the order `sort` gives */
export const queueIndexKey = (sort: QueueSort) => `alerts:queue-by-${sort.replace('_', '-')}`;

const bits = new DataView(new ArrayBuffer(8));

/**
 * a finite number as 16 hex digits whose text order is the numbers' order: its IEEE 754 bits, the sign bit flipped
 * for a positive number, every bit for a negative one
 */
export function sortableNumber(n: number): string {
  bits.setFloat64(0, n === 0 ? 0 : n); // -0 sorts as 0, as the queue compares it
  let hi = bits.getUint32(0);
  let lo = bits.getUint32(4);
  if (hi >= 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else hi = (hi | 0x80000000) >>> 0;
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** an entry's first character: its alert's state (an index holds both queues, each a range of its own) */
const STATE_MARK: Record<QueueState, string> = { open: 'o', acknowledged: 'a' };
/** the state mark, the primary key, lastSeen, then the id */
const ID_AT = 1 + 16 + 16;
/** above every entry of a state: the digits are hex */
const ABOVE_DIGITS = '~';

/** where a position sorts in a state's range of an index: the highest entry comes first in the queue */
export const entryAt = (state: QueueState, [key, lastSeen, id]: Position): string =>
  STATE_MARK[state] + sortableNumber(key) + sortableNumber(lastSeen) + id;

/** an alert's entry in the index of `sort`; null for a resolved alert (not in the queue) */
export const queueEntry = (sort: QueueSort, a: Alert): string | null =>
  a.state === 'resolved' ? null : entryAt(a.state, positionOf(sort, a));

export const idOfEntry = (entry: string): string => entry.slice(ID_AT);

/** the part of an index a list reads, highest first: entries below `below` and not below `atLeast` */
export interface EntryRange {
  below: string;
  atLeast: string;
}

/**
 * the entries of `state` in the index of `sort`, narrowed by a severity filter on the severity order (the rest of
 * the filter is checked on the alerts read)
 */
export function stateRange(state: QueueState, sort: QueueSort, severityRank?: number, minRank?: number): EntryRange {
  const mark = STATE_MARK[state];
  if (sort !== 'severity') return { below: mark + ABOVE_DIGITS, atLeast: mark };
  const top = severityRank ?? Number.POSITIVE_INFINITY;
  const bottom = severityRank ?? minRank;
  return {
    below: top === Number.POSITIVE_INFINITY ? mark + ABOVE_DIGITS : mark + sortableNumber(top) + ABOVE_DIGITS,
    atLeast: bottom === undefined ? mark : mark + sortableNumber(bottom),
  };
}

/** an alert's entries, one per queue order, to write and to compare with a later read */
export const queueEntries = (a: Alert): (string | null)[] => QUEUE_SORTS.map((sort) => queueEntry(sort, a));

/** write an alert's entries (null: it is out of the queue, resolved or deleted) */
export async function writeQueueEntries(store: Store, id: string, entries: readonly (string | null)[]): Promise<void> {
  await Promise.all(QUEUE_SORTS.map((sort, i) => store.lexIndexSet(queueIndexKey(sort), id, entries[i])));
}

export const sameEntries = (x: readonly (string | null)[], y: readonly (string | null)[]): boolean =>
  x.every((e, i) => e === y[i]);
