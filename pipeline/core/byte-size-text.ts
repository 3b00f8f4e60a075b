const UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB'] as const;

/** an amount of data for people, in decimal units: `950 bytes`, `20 MB`, `1.2 GB` (two significant figures past 10) */
export function byteSizeText(bytes: number): string {
  if (!(bytes >= 1000)) return `${Math.max(0, Math.round(bytes || 0))} bytes`;
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${UNITS[u]}`;
}
