import { mwError } from '../../pipeline/core/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** `90s`, `15m`, `1h`, `7d`, `250ms` or a number of milliseconds → milliseconds */
export function parseDuration(value: string | number, where: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return value;
  } else {
    const m = DURATION.exec(value.trim());
    if (m) return Math.round(Number(m[1]) * UNITS[m[2]]);
  }
  throw mwError('POLICY_INVALID', `${where}: "${value}" is not a duration (use e.g. 30s, 15m, 1h, 7d)`);
}
