import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODES = Array.from(CROCKFORD, (c) => c.charCodeAt(0));
const POOL_IDS = 512;
const pool = Buffer.alloc(POOL_IDS * 10);
let offset = pool.length;
/** the time part of the last id: ids made in the same millisecond share it */
let lastTime = -1;
let lastTimePart = '';
/** scratch for the 16 random characters of an id */
const rand = new Array<number>(16).fill(0);

function timePart(now: number): string {
  if (now === lastTime) return lastTimePart;
  const c = new Array<number>(10);
  let t = now;
  for (let i = 9; i >= 0; i--) {
    c[i] = CODES[t % 32];
    t = Math.floor(t / 32);
  }
  lastTime = now;
  lastTimePart = String.fromCharCode(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
  return lastTimePart;
}

/**
 * A ULID (48-bit ms time + 80 random bits, Crockford base32, 26 chars) for records made on a hot path: random bytes
 * come from a pooled buffer refilled every 512 ids, so an id costs no syscall. Ids sort by time; within one
 * millisecond their order is random (records are ordered by `ts`, not by id).
 */
export function recordId(now = Date.now()): string {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  // 80 bits = 16 base32 chars, 5 bits each, from 10 random bytes
  const r = rand;
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | pool[offset + i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      r[n++] = CODES[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  offset += 10;
  // one flat string from char codes, instead of a chain of 26 one-character concatenations
  return (
    timePart(now) +
    String.fromCharCode(
      r[0],
      r[1],
      r[2],
      r[3],
      r[4],
      r[5],
      r[6],
      r[7],
      r[8],
      r[9],
      r[10],
      r[11],
      r[12],
      r[13],
      r[14],
      r[15],
    )
  );
}
