import { mwError } from '../../pipeline/core/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * The longest duration a policy may state: ten years. Anything longer is a typo, and `now + ttl` must stay a date
 * (a TTL past JavaScript's date range fails later, when a decision is approved or sent to a gateway).
 */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/** `90s`, `15m`, `1h`, `7d`, `250ms` or a number of milliseconds → milliseconds, more than 0 and at most 3650d */
export function parseDuration(value: string | number, where: string): number {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value;
  else {
    const m = DURATION.exec(value.trim());
    if (m) ms = Math.round(Number(m[1]) * UNITS[m[2]]);
  }
  if (Number.isFinite(ms) && ms > 0 && ms <= MAX_DURATION_MS) return ms;
  throw mwError(
    'POLICY_INVALID',
    `${where}: "${value}" is not a duration from 1ms to 3650d (use e.g. 30s, 15m, 1h, 7d)`,
  );
}
