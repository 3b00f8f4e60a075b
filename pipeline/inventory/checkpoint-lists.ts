/**
 * the `[key, string[], ...more]` items of a checkpointed list (the route learner's counted values, the pinned
 * versions): each well-formed item's key, its strings (anything else in the list dropped) and the whole item for
 * the fields after them; malformed items, or a state that is not a list, give nothing
 */
export function* keyedStringLists(state: unknown): Generator<{ key: string; values: string[]; item: unknown[] }> {
  if (!Array.isArray(state)) return;
  for (const item of state) {
    if (!Array.isArray(item) || typeof item[0] !== 'string' || !Array.isArray(item[1])) continue;
    const values = (item[1] as unknown[]).filter((v): v is string => typeof v === 'string');
    yield { key: item[0], values, item };
  }
}
