/**
 * Composite map keys (`a` + separator + `b`) built once per distinct pair and handed out again as the same string.
 * Building `${service}\u0000${endpoint}` afresh for every record costs an allocation, a copy when the string is
 * flattened, and a full hash on every Map lookup; an interned key costs two lookups of strings whose hashes V8 has
 * already cached (the record's own `service`, the shard's endpoint id), and Map lookups by it compare by identity.
 * A pure memo: the same pair always gives a string of the same content. Bounded: it starts again empty past `max`
 * pairs (4,096 by default: a shard seldom sees more endpoints at once), so a stream of ever-new pairs costs one
 * extra lookup each, never unbounded memory.
 */
/** the keys of one `b`: the first `a` inline (usually the only one: an endpoint belongs to one service), more in a Map */
interface KeysOfB {
  a: string;
  key: string;
  more: Map<string, string> | null;
}

export class KeyInterner {
  private byB = new Map<string, KeysOfB>();
  private pairs = 0;

  constructor(
    private readonly separator: string,
    private readonly max = 4096,
  ) {}

  /** `${a}${separator}${b}` */
  key(a: string, b: string): string {
    let keys = this.byB.get(b);
    if (keys !== undefined) {
      if (keys.a === a) return keys.key;
      const k = keys.more?.get(a);
      if (k !== undefined) return k;
    }
    if (this.pairs >= this.max) {
      this.byB = new Map();
      this.pairs = 0;
      keys = undefined;
    }
    const k = `${a}${this.separator}${b}`;
    this.pairs++;
    if (keys === undefined) this.byB.set(b, { a, key: k, more: null });
    else {
      keys.more ??= new Map();
      keys.more.set(a, k);
    }
    return k;
  }

  get size(): number {
    return this.pairs;
  }
}

/** where flat() puts the character it reads, so the read is never optimised away */
let _read = 0;

/**
 * `s` flattened, to be kept as a Map key. A string built by concatenation (a template literal) is a rope of its parts
 * until something reads its characters; kept as a key, a rope holds its parts and, once hashed, a flat copy as well
 * (~130 bytes more per `enumeration` pair, measured). Reading a character flattens it in place.
 */
export function flat(s: string): string {
  _read ^= s.charCodeAt(0) | 0;
  return s;
}
