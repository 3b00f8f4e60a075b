import { hash32 } from './hash.js';

/**
 * HyperLogLog distinct counter over a Uint8Array of 2^p registers (p = 8 → 256 bytes, about 6.5 % standard error).
 * Written here rather than taken from `bloom-filters` because that package's HyperLogLog costs ~0.5 ms per update
 * (measured: 100,000 updates in 50 s) and ~3.7 KB per counter — too slow and too big for one counter per subject.
 */
export class HyperLogLog {
  readonly p: number;
  readonly registers: Uint8Array;

  constructor(p = 8, registers?: Uint8Array) {
    if (!Number.isInteger(p) || p < 4 || p > 16) throw new RangeError('p must be an integer in [4, 16]');
    this.p = p;
    this.registers = registers ?? new Uint8Array(1 << p);
  }

  /** add a value; true when a register changed (the estimate may have moved) */
  add(value: string): boolean {
    const h = hash32(value);
    const idx = h >>> (32 - this.p);
    const rest = (h << this.p) >>> 0;
    const rank = rest === 0 ? 32 - this.p + 1 : Math.clz32(rest) + 1;
    if (rank > this.registers[idx]) {
      this.registers[idx] = rank;
      return true;
    }
    return false;
  }

  count(): number {
    const m = this.registers.length;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      const r = this.registers[i];
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = m >= 128 ? 0.7213 / (1 + 1.079 / m) : m === 64 ? 0.709 : m === 32 ? 0.697 : 0.673;
    const raw = (alpha * m * m) / sum;
    if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
    return raw;
  }

  toJSON(): { p: number; r: string } {
    return { p: this.p, r: Buffer.from(this.registers).toString('base64') };
  }

  static fromJSON(j: { p: number; r: string }): HyperLogLog {
    return new HyperLogLog(j.p, new Uint8Array(Buffer.from(j.r, 'base64')));
  }
}
