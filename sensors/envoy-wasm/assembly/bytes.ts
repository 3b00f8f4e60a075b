/** A growable byte buffer with JSON helpers. Everything the sensor emits is built here, byte by byte. */
export class ByteBuilder {
  buf: Uint8Array;
  len: i32 = 0;

  constructor(capacity: i32 = 1024) {
    this.buf = new Uint8Array(capacity);
  }

  reset(): void {
    this.len = 0;
  }

  ensure(extra: i32): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length << 1;
    if (cap < need) cap = need;
    const grown = new Uint8Array(cap);
    memory.copy(grown.dataStart, this.buf.dataStart, <usize>this.len);
    this.buf = grown;
  }

  byte(b: u32): void {
    this.ensure(1);
    store<u8>(this.buf.dataStart + <usize>this.len, <u8>b);
    this.len++;
  }

  raw(ptr: usize, n: i32): void {
    if (n <= 0) return;
    this.ensure(n);
    memory.copy(this.buf.dataStart + <usize>this.len, ptr, <usize>n);
    this.len += n;
  }

  bytes(src: Uint8Array): void {
    this.raw(src.dataStart, src.length);
  }

  /** appends a string made of ASCII characters (keys, literals) */
  ascii(s: string): void {
    const n = s.length;
    this.ensure(n);
    const base = this.buf.dataStart + <usize>this.len;
    for (let i = 0; i < n; i++) store<u8>(base + <usize>i, <u8>s.charCodeAt(i));
    this.len += n;
  }

  uint(v: u64): void {
    if (v == 0) {
      this.byte(48);
      return;
    }
    let digits = 0;
    let t = v;
    while (t > 0) {
      digits++;
      t /= 10;
    }
    this.ensure(digits);
    let p = this.buf.dataStart + <usize>(this.len + digits - 1);
    t = v;
    while (t > 0) {
      store<u8>(p, <u8>(48 + <u32>(t % 10)));
      t /= 10;
      p--;
    }
    this.len += digits;
  }

  /** milliseconds with three decimals from a nanosecond count: 1234567 ns -> 1.234 */
  millisFromNanos(ns: u64): void {
    const micros = ns / 1000;
    this.uint(micros / 1000);
    const frac = <u32>(micros % 1000);
    this.byte(46);
    this.byte(48 + frac / 100);
    this.byte(48 + ((frac / 10) % 10));
    this.byte(48 + (frac % 10));
  }

  /**
   * Appends `src[start, end)` as a quoted JSON string. At most `maxBytes` input bytes are taken (whole characters
   * only), so the decoded string has at most `maxBytes` UTF-16 units. Invalid UTF-8 becomes U+FFFD, control
   * characters are escaped. Returns true when the input was truncated.
   */
  jsonString(src: Uint8Array, start: i32, end: i32, maxBytes: i32): bool {
    if (start < 0) start = 0;
    if (end > src.length) end = src.length;
    if (start > end) start = end;
    let limit = end;
    let truncated = false;
    if (end - start > maxBytes) {
      limit = start + maxBytes;
      truncated = true;
    }
    // worst case: every byte becomes \u00XX (6 bytes); reserve once, then write without checks
    this.ensure((limit - start) * 6 + 2);
    const base = src.dataStart;
    let o = this.buf.dataStart + <usize>this.len;
    store<u8>(o++, 34);
    let i = start;
    while (i < limit) {
      const b = <u32>load<u8>(base + <usize>i);
      if (b < 0x80) {
        if (b == 34 || b == 92) {
          store<u8>(o++, 92);
          store<u8>(o++, <u8>b);
        } else if (b < 0x20) {
          store<u8>(o++, 92);
          store<u8>(o++, 117);
          store<u8>(o++, 48);
          store<u8>(o++, 48);
          store<u8>(o++, <u8>hexDigit(b >> 4));
          store<u8>(o++, <u8>hexDigit(b & 15));
        } else {
          store<u8>(o++, <u8>b);
        }
        i++;
        continue;
      }
      const n = utf8SequenceLength(base, i, end);
      if (n == 0) {
        // U+FFFD: 3 bytes for 1 input byte, within the 6-per-byte reservation
        store<u8>(o++, 0xef);
        store<u8>(o++, 0xbf);
        store<u8>(o++, 0xbd);
        i++;
        continue;
      }
      if (i + n > limit) {
        truncated = true;
        break;
      }
      memory.copy(o, base + <usize>i, <usize>n);
      o += <usize>n;
      i += n;
    }
    store<u8>(o++, 34);
    this.len = <i32>(o - this.buf.dataStart);
    return truncated;
  }

  /** a JSON string of a whole byte array */
  jsonBytes(src: Uint8Array, maxBytes: i32): bool {
    return this.jsonString(src, 0, src.length, maxBytes);
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.len);
    memory.copy(out.dataStart, this.buf.dataStart, <usize>this.len);
    return out;
  }
}

export function hexDigit(v: u32): u32 {
  return v < 10 ? 48 + v : 87 + v;
}

/** length of the well-formed UTF-8 sequence starting at base+i (bytes before `end`), or 0 when it is ill-formed */
export function utf8SequenceLength(base: usize, i: i32, end: i32): i32 {
  const b0 = <u32>load<u8>(base + <usize>i);
  let n = 0;
  let lo: u32 = 0x80;
  let hi: u32 = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) lo = 0xa0;
    else if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) lo = 0x90;
    else if (b0 == 0xf4) hi = 0x8f;
  } else return 0;
  if (i + n > end) return 0;
  const b1 = <u32>load<u8>(base + <usize>(i + 1));
  if (b1 < lo || b1 > hi) return 0;
  for (let k = 2; k < n; k++) {
    const c = <u32>load<u8>(base + <usize>(i + k));
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return n;
}

export function bytesOf(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

export function lowerAscii(b: u32): u32 {
  return b >= 65 && b <= 90 ? b + 32 : b;
}

/** src[start, end) equals `word` (ASCII case-insensitive when `fold`) */
export function sliceEquals(src: Uint8Array, start: i32, end: i32, word: Uint8Array, fold: bool): bool {
  const n = end - start;
  if (n != word.length) return false;
  const a = src.dataStart + <usize>start;
  const b = word.dataStart;
  for (let i = 0; i < n; i++) {
    let x = <u32>load<u8>(a + <usize>i);
    let y = <u32>load<u8>(b + <usize>i);
    if (fold) {
      x = lowerAscii(x);
      y = lowerAscii(y);
    }
    if (x != y) return false;
  }
  return true;
}

export function slice(src: Uint8Array, start: i32, end: i32): Uint8Array {
  const out = new Uint8Array(end - start);
  memory.copy(out.dataStart, src.dataStart + <usize>start, <usize>(end - start));
  return out;
}

export function isHex(b: u32): bool {
  return (b >= 48 && b <= 57) || (b >= 97 && b <= 102) || (b >= 65 && b <= 70);
}

export function hexValue(b: u32): u32 {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  return b - 55;
}
