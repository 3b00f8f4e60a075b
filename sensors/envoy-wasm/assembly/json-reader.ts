import { ByteBuilder, hexValue, isHex } from './bytes';

// A small JSON reader for the plugin configuration and the collector's answers. It builds a tree; inputs are a few
// hundred bytes, read once per configure or per batch answer, never per request.

export const J_NULL = 0;
export const J_BOOL = 1;
export const J_NUM = 2;
export const J_STR = 3;
export const J_ARR = 4;
export const J_OBJ = 5;

const MAX_DEPTH = 32;

export class JsonValue {
  kind: i32 = J_NULL;
  b: bool = false;
  n: f64 = 0;
  s: string = '';
  items: Array<JsonValue> = [];
  keys: Array<string> = [];

  /** the value of an object member, or null */
  get(key: string): JsonValue | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }
}

export class JsonReader {
  private src: Uint8Array;
  private pos: i32 = 0;
  private depth: i32 = 0;
  private scratch: ByteBuilder = new ByteBuilder(64);
  error: string = '';

  constructor(src: Uint8Array) {
    this.src = src;
  }

  /** the parsed document, or null with `error` set */
  parse(): JsonValue | null {
    const v = this.value();
    if (v === null) return null;
    this.skipWs();
    if (this.pos != this.src.length) return this.fail('unexpected data after the JSON value');
    return v;
  }

  private fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = message + ' at byte ' + this.pos.toString();
    return null;
  }

  private peek(): i32 {
    return this.pos < this.src.length ? <i32>this.src[this.pos] : -1;
  }

  private skipWs(): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c != 32 && c != 9 && c != 10 && c != 13) break;
      this.pos++;
    }
  }

  private literal(word: string): bool {
    if (this.pos + word.length > this.src.length) return false;
    for (let i = 0; i < word.length; i++) if (<i32>this.src[this.pos + i] != word.charCodeAt(i)) return false;
    this.pos += word.length;
    return true;
  }

  private value(): JsonValue | null {
    this.skipWs();
    const c = this.peek();
    const v = new JsonValue();
    if (c == 123) return this.object();
    if (c == 91) return this.array();
    if (c == 34) {
      const s = this.string();
      if (s === null) return null;
      v.kind = J_STR;
      v.s = s;
      return v;
    }
    if (c == 116 && this.literal('true')) {
      v.kind = J_BOOL;
      v.b = true;
      return v;
    }
    if (c == 102 && this.literal('false')) {
      v.kind = J_BOOL;
      return v;
    }
    if (c == 110 && this.literal('null')) return v;
    if (c == 45 || (c >= 48 && c <= 57)) return this.number();
    return this.fail('unexpected character');
  }

  private object(): JsonValue | null {
    if (++this.depth > MAX_DEPTH) return this.fail('nesting too deep');
    this.pos++;
    const v = new JsonValue();
    v.kind = J_OBJ;
    this.skipWs();
    if (this.peek() == 125) {
      this.pos++;
      this.depth--;
      return v;
    }
    while (true) {
      this.skipWs();
      if (this.peek() != 34) return this.fail('expected a member name');
      const key = this.string();
      if (key === null) return null;
      this.skipWs();
      if (this.peek() != 58) return this.fail("expected ':'");
      this.pos++;
      const item = this.value();
      if (item === null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.skipWs();
      const c = this.peek();
      this.pos++;
      if (c == 44) continue;
      if (c == 125) break;
      this.pos--;
      return this.fail("expected ',' or '}'");
    }
    this.depth--;
    return v;
  }

  private array(): JsonValue | null {
    if (++this.depth > MAX_DEPTH) return this.fail('nesting too deep');
    this.pos++;
    const v = new JsonValue();
    v.kind = J_ARR;
    this.skipWs();
    if (this.peek() == 93) {
      this.pos++;
      this.depth--;
      return v;
    }
    while (true) {
      const item = this.value();
      if (item === null) return null;
      v.items.push(item);
      this.skipWs();
      const c = this.peek();
      this.pos++;
      if (c == 44) continue;
      if (c == 93) break;
      this.pos--;
      return this.fail("expected ',' or ']'");
    }
    this.depth--;
    return v;
  }

  private number(): JsonValue | null {
    const start = this.pos;
    if (this.peek() == 45) this.pos++;
    let digits = 0;
    while (this.peek() >= 48 && this.peek() <= 57) {
      this.pos++;
      digits++;
    }
    if (digits == 0) return this.fail('bad number');
    if (this.peek() == 46) {
      this.pos++;
      let frac = 0;
      while (this.peek() >= 48 && this.peek() <= 57) {
        this.pos++;
        frac++;
      }
      if (frac == 0) return this.fail('bad number');
    }
    if (this.peek() == 101 || this.peek() == 69) {
      this.pos++;
      if (this.peek() == 43 || this.peek() == 45) this.pos++;
      let exp = 0;
      while (this.peek() >= 48 && this.peek() <= 57) {
        this.pos++;
        exp++;
      }
      if (exp == 0) return this.fail('bad number');
    }
    const text = String.UTF8.decodeUnsafe(this.src.dataStart + <usize>start, <usize>(this.pos - start));
    const v = new JsonValue();
    v.kind = J_NUM;
    v.n = parseFloat(text);
    return v;
  }

  private string(): string | null {
    this.pos++;
    const out = this.scratch;
    out.reset();
    while (true) {
      if (this.pos >= this.src.length) {
        this.fail('unterminated string');
        return null;
      }
      const c = <u32>this.src[this.pos++];
      if (c == 34) break;
      if (c < 0x20) {
        this.fail('control character in string');
        return null;
      }
      if (c != 92) {
        out.byte(c);
        continue;
      }
      if (this.pos >= this.src.length) {
        this.fail('unterminated escape');
        return null;
      }
      const e = <u32>this.src[this.pos++];
      if (e == 34 || e == 92 || e == 47) out.byte(e);
      else if (e == 98) out.byte(8);
      else if (e == 102) out.byte(12);
      else if (e == 110) out.byte(10);
      else if (e == 114) out.byte(13);
      else if (e == 116) out.byte(9);
      else if (e == 117) {
        let cp = this.hex4();
        if (cp < 0) return null;
        if (
          cp >= 0xd800 &&
          cp <= 0xdbff &&
          this.pos + 1 < this.src.length &&
          this.src[this.pos] == 92 &&
          this.src[this.pos + 1] == 117
        ) {
          this.pos += 2;
          const lo = this.hex4();
          if (lo < 0) return null;
          if (lo >= 0xdc00 && lo <= 0xdfff) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          else cp = 0xfffd;
        } else if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
        utf8Encode(out, <u32>cp);
      } else {
        this.fail('bad escape');
        return null;
      }
    }
    return String.UTF8.decodeUnsafe(out.buf.dataStart, <usize>out.len);
  }

  private hex4(): i32 {
    if (this.pos + 4 > this.src.length) {
      this.fail('bad \\u escape');
      return -1;
    }
    let v: u32 = 0;
    for (let i = 0; i < 4; i++) {
      const h = <u32>this.src[this.pos + i];
      if (!isHex(h)) {
        this.fail('bad \\u escape');
        return -1;
      }
      v = (v << 4) | hexValue(h);
    }
    this.pos += 4;
    return <i32>v;
  }
}

function utf8Encode(out: ByteBuilder, cp: u32): void {
  if (cp < 0x80) out.byte(cp);
  else if (cp < 0x800) {
    out.byte(0xc0 | (cp >> 6));
    out.byte(0x80 | (cp & 63));
  } else if (cp < 0x10000) {
    out.byte(0xe0 | (cp >> 12));
    out.byte(0x80 | ((cp >> 6) & 63));
    out.byte(0x80 | (cp & 63));
  } else {
    out.byte(0xf0 | (cp >> 18));
    out.byte(0x80 | ((cp >> 12) & 63));
    out.byte(0x80 | ((cp >> 6) & 63));
    out.byte(0x80 | (cp & 63));
  }
}
