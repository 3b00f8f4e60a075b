import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const POOL_IDS = 512;
const pool = Buffer.alloc(POOL_IDS * 10);
let offset = pool.length;

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
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // 80 bits = 16 base32 chars, 5 bits each, from 10 random bytes
  let rand = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | pool[offset + i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      rand += CROCKFORD[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  offset += 10;
  return time + rand;
}
