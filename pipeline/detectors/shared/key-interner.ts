/**
 * Composite map keys (`a` + separator + `b`) built once per distinct pair and handed out again as the same string.
 * Building `${service}\u0000${endpoint}` afresh for every record costs an allocation, a copy when the string is
 * flattened, and a full hash on every Map lookup; an interned key costs two lookups of strings whose hashes V8 has
 * already cached (the record's own `service`, the shard's endpoint id), and Map lookups by it compare by identity.
 * A pure memo: the same pair always gives a string of the same content. Bounded: it starts again empty past `max`
 * pairs, so a stream of ever-new pairs costs one extra lookup each, never unbounded memory.
 */
export class KeyInterner {
  private byB = new Map<string, Map<string, string>>();
  private pairs = 0;

  constructor(
    private readonly separator: string,
    private readonly max = 20_000,
  ) {}

  /** `${a}${separator}${b}` */
  key(a: string, b: string): string {
    let byA = this.byB.get(b);
    let k = byA?.get(a);
    if (k !== undefined) return k;
    if (this.pairs >= this.max) {
      this.byB = new Map();
      this.pairs = 0;
      byA = undefined;
    }
    if (byA === undefined) {
      byA = new Map();
      this.byB.set(b, byA);
    }
    k = `${a}${this.separator}${b}`;
    byA.set(a, k);
    this.pairs++;
    return k;
  }

  get size(): number {
    return this.pairs;
  }
}
