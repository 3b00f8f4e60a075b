/** Small non-cryptographic string hashes for sketches (the hot path hashes every record, so no crypto here). */

/** 32-bit FNV-1a over UTF-16 code units */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's 32-bit finaliser: spreads the bits of an FNV hash so every output bit depends on every input bit */
export function mix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export const hash32 = (s: string, seed?: number): number => mix32(fnv1a(s, seed));
