import { fnv1a } from './hash.js';
import { HyperLogLog } from './hyperloglog.js';
import { appendTo } from './record-fields.js';

/**
 * Distinct values counted exactly up to a limit, then in a 256-byte HyperLogLog (about 6.5 % standard error). Its
 * fields sit on the object that owns the count (a tracker's window, an alert), so a subject costs no object more.
 */
export interface DistinctSet {
  /** the values, while there are at most the limit; null once the sketch took over */
  exact: string[] | null;
  /**
   * 32-bit hashes of `exact`, index for index: a new value is looked for among small integers, and compared as a
   * string only where a hash matches (a value is usually new, and comparing it with up to 64 stored strings cost more
   * than the rest of a record's step). Not in checkpoints; rebuilt on restore.
   */
  hashes: number[] | null;
  hll: HyperLogLog | null;
  /** how many: exact, or the sketch's estimate (never lower than before) */
  distinct: number;
}

/** a DistinctSet as a checkpoint holds it */
export interface DistinctSetJson {
  exact: string[] | null;
  hll: { p: number; r: string } | null;
  distinct: number;
}

/** the fields of an empty set, to spread into the owner */
export const emptyDistinct = (): DistinctSet => ({ exact: [], hashes: [], hll: null, distinct: 0 });

/**
 * adds a value; true when the count grew. Past `exactLimit` values the set becomes a sketch, whose estimate (a pass
 * over its 256 registers) is taken again as a value changes it; `recount` false leaves that to `countDistinct` (a set
 * read only now and then, such as an alert's: true then says the sketch changed)
 */
export function addDistinct(set: DistinctSet, value: string, exactLimit: number, recount = true): boolean {
  if (set.exact) {
    const h = fnv1a(value) | 0;
    const hashes = set.hashes!;
    for (let j = 0; j < hashes.length; j++) if (hashes[j] === h && set.exact[j] === value) return false;
    set.exact = appendTo(set.exact, value);
    set.hashes = appendTo(hashes, h);
    set.distinct = set.exact.length;
    if (set.exact.length > exactLimit) {
      set.hll = new HyperLogLog(8);
      for (const x of set.exact) set.hll.add(x);
      set.exact = null;
      set.hashes = null;
    }
    return true;
  }
  if (!set.hll!.add(value)) return false;
  if (!recount) return true;
  const before = set.distinct;
  set.distinct = Math.max(before, set.hll!.count());
  return set.distinct > before;
}

/**
 * the set's count, its sketch's estimate taken again (after values added without `recount`), at most `atMost`: what
 * the owner knows bounds it (a sketch can estimate more distinct values than were added: 89 users in 84 failures)
 */
export function countDistinct(set: DistinctSet, atMost = Number.POSITIVE_INFINITY): number {
  if (set.hll) set.distinct = Math.max(set.distinct, set.hll.count());
  return Math.min(set.distinct, atMost);
}

/** a set of its own with the same values (a window's, carried on by the alert it raised) */
export function copyDistinct(set: DistinctSet): DistinctSet {
  return {
    exact: set.exact ? [...set.exact] : null,
    hashes: set.hashes ? [...set.hashes] : null,
    hll: set.hll ? new HyperLogLog(set.hll.p, set.hll.registers.slice()) : null,
    distinct: set.distinct,
  };
}

export function distinctToJson(set: DistinctSet): DistinctSetJson {
  return { exact: set.exact, hll: set.hll ? set.hll.toJSON() : null, distinct: set.distinct };
}

export function distinctFromJson(j: DistinctSetJson): DistinctSet {
  return {
    exact: j.exact,
    hashes: j.exact ? j.exact.map((v) => fnv1a(v) | 0) : null,
    hll: j.hll ? HyperLogLog.fromJSON(j.hll) : null,
    distinct: j.distinct,
  };
}
