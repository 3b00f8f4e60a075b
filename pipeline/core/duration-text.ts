const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1000],
];

/**
 * A duration as people read it, to its two largest units: `8 min 40 s`, `2 h 5 min`, `15 min`, `7 d`; under a
 * second, `under a second`. For summaries and tables (a policy's TTL, the span of an alert's calls).
 */
export function durationText(ms: number): string {
  if (!(ms >= 1000)) return 'under a second';
  const parts: string[] = [];
  let rest = Math.floor(ms / 1000) * 1000;
  for (const [unit, size] of UNITS) {
    if (rest < size && parts.length === 0) continue;
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n} ${unit}`);
    if (parts.length === 2 || (parts.length === 1 && n === 0)) break;
  }
  return parts.join(' ');
}
