/**
 * Counts under three keys (dimension → key → item → count, e.g. class → provider or service → class), kept live as
 * training rows come and go: an item at 0 is dropped, and a key with no item left.
 */
export class NestedCounts {
  private readonly top = new Map<string, Map<string, Map<string, number>>>();

  add(dim: string, key: string, item: string, delta = 1): void {
    let byKey = this.top.get(dim);
    if (!byKey) {
      byKey = new Map();
      this.top.set(dim, byKey);
    }
    const counts = byKey.get(key) ?? new Map<string, number>();
    const n = (counts.get(item) ?? 0) + delta;
    if (n > 0) counts.set(item, n);
    else counts.delete(item);
    if (counts.size > 0) byKey.set(key, counts);
    else byKey.delete(key);
  }

  /** the keys of a dimension, each with its items' counts */
  of(dim: string): ReadonlyMap<string, ReadonlyMap<string, number>> | undefined {
    return this.top.get(dim);
  }

  /** the items' counts under one key of a dimension */
  get(dim: string, key: string): ReadonlyMap<string, number> | undefined {
    return this.top.get(dim)?.get(key);
  }

  clear(): void {
    this.top.clear();
  }
}
