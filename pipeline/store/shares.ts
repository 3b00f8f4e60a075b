import { type MeshwardError, mwError } from '../core/errors.js';

/**
 * A count several processes add to, each its own share: a JSON object of shares by member (`{"0": 3, "2": 4}`), as
 * Store.setShare writes it. Anything else stored there reads as no shares (and a share that is not a positive whole
 * number as none)
 */
export function sharesOf(raw: string | null | undefined): Record<string, number> {
  if (raw === null || raw === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return {};
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  const shares: Record<string, number> = {};
  for (const [m, n] of Object.entries(v)) if (Number.isSafeInteger(n) && (n as number) > 0) shares[m] = n as number;
  return shares;
}

/** the refusal of a share that is not a whole number >= 0 (Store.setShare), undefined for a good one */
export function badShare(count: number): MeshwardError | undefined {
  return Number.isSafeInteger(count) && count >= 0
    ? undefined
    : mwError('BAD_REQUEST', `setShare: ${count} is not a whole number >= 0`);
}

/** the sum of the shares and how many members have one */
export function totalOf(shares: Record<string, number>): { total: number; members: number } {
  let total = 0;
  let members = 0;
  for (const n of Object.values(shares)) {
    total += n;
    members++;
  }
  return { total, members };
}
