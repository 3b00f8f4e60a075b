// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), written for this sensor: the bearer token leaves the proxy only
// as a keyed hash. The HMAC key pads are absorbed once at configure time; each token then costs two compressions
// of the inner hash and one or two of the outer.

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];

const W = new StaticArray<u32>(64);

export class Sha256 {
  h: StaticArray<u32> = new StaticArray<u32>(8);
  block: StaticArray<u8> = new StaticArray<u8>(64);
  blockLen: i32 = 0;
  total: u64 = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    const h = this.h;
    unchecked((h[0] = 0x6a09e667));
    unchecked((h[1] = 0xbb67ae85));
    unchecked((h[2] = 0x3c6ef372));
    unchecked((h[3] = 0xa54ff53a));
    unchecked((h[4] = 0x510e527f));
    unchecked((h[5] = 0x9b05688c));
    unchecked((h[6] = 0x1f83d9ab));
    unchecked((h[7] = 0x5be0cd19));
    this.blockLen = 0;
    this.total = 0;
  }

  copyFrom(other: Sha256): void {
    memory.copy(changetype<usize>(this.h), changetype<usize>(other.h), 32);
    memory.copy(changetype<usize>(this.block), changetype<usize>(other.block), 64);
    this.blockLen = other.blockLen;
    this.total = other.total;
  }

  update(ptr: usize, len: i32): void {
    if (len <= 0) return;
    this.total += <u64>len;
    const block = changetype<usize>(this.block);
    let i = 0;
    if (this.blockLen > 0) {
      const take = min(64 - this.blockLen, len);
      memory.copy(block + <usize>this.blockLen, ptr, <usize>take);
      this.blockLen += take;
      i = take;
      if (this.blockLen < 64) return;
      this.compress(block);
      this.blockLen = 0;
    }
    while (len - i >= 64) {
      this.compress(ptr + <usize>i);
      i += 64;
    }
    if (i < len) {
      memory.copy(block, ptr + <usize>i, <usize>(len - i));
      this.blockLen = len - i;
    }
  }

  updateBytes(data: Uint8Array): void {
    this.update(data.dataStart, data.length);
  }

  /** writes the 32-byte digest at `out`; the state must be reset before reuse */
  finish(out: usize): void {
    const bits = this.total << 3;
    const block = changetype<usize>(this.block);
    store<u8>(block + <usize>this.blockLen, 0x80);
    this.blockLen++;
    if (this.blockLen > 56) {
      memory.fill(block + <usize>this.blockLen, 0, <usize>(64 - this.blockLen));
      this.compress(block);
      this.blockLen = 0;
    }
    memory.fill(block + <usize>this.blockLen, 0, <usize>(56 - this.blockLen));
    store<u64>(block + 56, bswap<u64>(bits));
    this.compress(block);
    for (let i = 0; i < 8; i++) store<u32>(out + <usize>(i << 2), bswap<u32>(unchecked(this.h[i])));
  }

  private compress(p: usize): void {
    for (let t = 0; t < 16; t++) unchecked((W[t] = bswap<u32>(load<u32>(p + <usize>(t << 2)))));
    for (let t = 16; t < 64; t++) {
      const w15 = unchecked(W[t - 15]);
      const w2 = unchecked(W[t - 2]);
      const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
      unchecked((W[t] = unchecked(W[t - 16]) + s0 + unchecked(W[t - 7]) + s1));
    }
    const h = this.h;
    let a = unchecked(h[0]);
    let b = unchecked(h[1]);
    let c = unchecked(h[2]);
    let d = unchecked(h[3]);
    let e = unchecked(h[4]);
    let f = unchecked(h[5]);
    let g = unchecked(h[6]);
    let hh = unchecked(h[7]);
    for (let t = 0; t < 64; t++) {
      const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = hh + S1 + ch + unchecked(K[t]) + unchecked(W[t]);
      const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = S0 + maj;
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    unchecked((h[0] += a));
    unchecked((h[1] += b));
    unchecked((h[2] += c));
    unchecked((h[3] += d));
    unchecked((h[4] += e));
    unchecked((h[5] += f));
    unchecked((h[6] += g));
    unchecked((h[7] += hh));
  }
}

/** HMAC-SHA256 with the key pads absorbed once */
export class HmacSha256 {
  private innerStart: Sha256 = new Sha256();
  private outerStart: Sha256 = new Sha256();
  private work: Sha256 = new Sha256();
  private digest: StaticArray<u8> = new StaticArray<u8>(32);

  constructor(key: Uint8Array) {
    const pad = new StaticArray<u8>(64);
    const padPtr = changetype<usize>(pad);
    if (key.length > 64) {
      const kh = new Sha256();
      kh.updateBytes(key);
      kh.finish(padPtr);
    } else {
      memory.copy(padPtr, key.dataStart, <usize>key.length);
    }
    for (let i = 0; i < 64; i++) unchecked((pad[i] ^= 0x36));
    this.innerStart.update(padPtr, 64);
    for (let i = 0; i < 64; i++) unchecked((pad[i] ^= 0x36 ^ 0x5c));
    this.outerStart.update(padPtr, 64);
  }

  /** writes the 32-byte MAC of data[ptr, ptr+len) at `out` */
  mac(ptr: usize, len: i32, out: usize): void {
    const digestPtr = changetype<usize>(this.digest);
    this.work.copyFrom(this.innerStart);
    this.work.update(ptr, len);
    this.work.finish(digestPtr);
    this.work.copyFrom(this.outerStart);
    this.work.update(digestPtr, 32);
    this.work.finish(out);
  }
}
