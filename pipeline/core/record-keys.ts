import { PARAM_KEY_MAX, TAG_KEY_MAX } from './record.js';

export type BoundedKeyField = 'params' | 'tags';

/** told when a record's keys were cut: how many were cut, and how many of those were dropped as a repeat */
export type OnKeysCut = (field: BoundedKeyField, truncated: number, dropped: number) => void;

/**
 * A record (as parsed, not yet checked) whose `params` and `tags` keys are at most PARAM_KEY_MAX and TAG_KEY_MAX
 * long: a longer key is cut to the bound (never through a surrogate pair), and when a cut key equals a key already
 * seen, the first one in the object's order is kept and the later one dropped. A caller's long query parameter name
 * thus never costs the record (refused whole, it would hide the call from every detector).
 *
 * The hot path: a value that is not an object with an object `params`/`tags`, or whose keys are all short, is
 * returned as it is, without allocating. Otherwise a shallow copy with new maps is returned; the value handed in is
 * never modified (a record rejected for another reason is dead-lettered as it came). Never throws.
 */
export function boundRecordKeys(value: unknown, onCut?: OnKeysCut): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const r = value as { params?: unknown; tags?: unknown };
  const params = r.params;
  const tags = r.tags;
  const longParam = isMap(params) && hasLongKey(params, PARAM_KEY_MAX);
  const longTag = isMap(tags) && hasLongKey(tags, TAG_KEY_MAX);
  if (!longParam && !longTag) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (longParam) copy.params = cutKeys(params as Record<string, unknown>, PARAM_KEY_MAX, 'params', onCut);
  if (longTag) copy.tags = cutKeys(tags as Record<string, unknown>, TAG_KEY_MAX, 'tags', onCut);
  return copy;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasLongKey(map: Record<string, unknown>, max: number): boolean {
  for (const k in map) if (k.length > max) return true;
  return false;
}

function cutKeys(
  map: Record<string, unknown>,
  max: number,
  field: BoundedKeyField,
  onCut: OnKeysCut | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let truncated = 0;
  let dropped = 0;
  for (const k of Object.keys(map)) {
    const key = k.length > max ? cutKey(k, max) : k;
    if (key !== k) truncated++;
    if (Object.hasOwn(out, key)) {
      dropped++;
      continue;
    }
    // defined, not assigned: a caller's `__proto__` parameter is a key, not the object's prototype
    Object.defineProperty(out, key, { value: map[k], enumerable: true, writable: true, configurable: true });
  }
  if (truncated > 0) onCut?.(field, truncated, dropped);
  return out;
}

/** the first `max` code units of `k`, one fewer when the last would be the first half of a surrogate pair */
function cutKey(k: string, max: number): string {
  const last = k.charCodeAt(max - 1);
  return k.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
