import { setOwn } from './own-key.js';
import {
  HOST_MAX,
  PARAM_KEY_MAX,
  PARAM_VALUE_MAX,
  PARAMS_MAX,
  PATH_MAX,
  TAG_KEY_MAX,
  TAG_VALUE_MAX,
  TAGS_MAX,
} from './record.js';

/** the record fields whose content the caller (not the sensor) writes */
export type BoundedField = 'params' | 'tags' | 'path' | 'host';

/**
 * what was cut: a map key shortened, a string value shortened, a map entry dropped past the entry bound (`excess`), or
 * one dropped because its cut key repeated an earlier key (`repeat`)
 */
export type CutKind = 'key' | 'value' | 'excess' | 'repeat';

/** told, per field and kind, how many were cut in one record */
export type OnCut = (field: BoundedField, kind: CutKind, n: number) => void;

/**
 * A record (as parsed, not yet checked) held to the schema's bounds on what a caller writes (record.ts): `host` and
 * `path` at most HOST_MAX and PATH_MAX long; `params` and `tags` keys at most PARAM_KEY_MAX and TAG_KEY_MAX, their
 * string values at most PARAM_VALUE_MAX and TAG_VALUE_MAX, and at most PARAMS_MAX and TAGS_MAX entries. A longer
 * string is cut to the bound (never through a surrogate pair); when a cut key equals a key already seen, the first
 * one in the object's order is kept and the later one dropped; past the entry bound, the first entries in order are
 * kept. A caller's long or many query parameters, path or Host thus never cost the record (refused whole, it would
 * hide the call from every detector). What a sensor writes (ids, ts, status, sensor, service) is left as it is: out
 * of bounds, it is a sensor's bug, and the record is refused.
 *
 * The hot path: a value that is not an object, or whose bounded fields are all within bounds (or not of the type the
 * schema wants, which the check then refuses), is returned as it is, without allocating. Otherwise a shallow copy
 * with new maps is returned; the value handed in is never modified (a record rejected for another reason is
 * dead-lettered as it came). Never throws.
 */
export function boundRecord(value: unknown, onCut?: OnCut): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const r = value as Record<string, unknown>;
  const { path, host } = r;
  const overParams = overMap(r.params, MAP_BOUNDS.params);
  const overTags = overMap(r.tags, MAP_BOUNDS.tags);
  const overPath = typeof path === 'string' && path.length > PATH_MAX;
  const overHost = typeof host === 'string' && host.length > HOST_MAX;
  if (!overParams && !overTags && !overPath && !overHost) return value;
  const copy: Record<string, unknown> = { ...r };
  if (overParams) copy.params = boundMap(r.params as Record<string, unknown>, 'params', onCut);
  if (overTags) copy.tags = boundMap(r.tags as Record<string, unknown>, 'tags', onCut);
  if (overPath) {
    copy.path = cutPath(path as string);
    onCut?.('path', 'value', 1);
  }
  if (overHost) {
    copy.host = cut(host as string, HOST_MAX);
    onCut?.('host', 'value', 1);
  }
  return copy;
}

/** the bounds of the two maps a caller writes: key length, string value length, entries */
const MAP_BOUNDS = {
  params: { key: PARAM_KEY_MAX, value: PARAM_VALUE_MAX, count: PARAMS_MAX },
  tags: { key: TAG_KEY_MAX, value: TAG_VALUE_MAX, count: TAGS_MAX },
} as const;
type MapBounds = (typeof MAP_BOUNDS)[keyof typeof MAP_BOUNDS];

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** a map (not an array) with an entry, key or string value past its bounds */
function overMap(v: unknown, b: MapBounds): boolean {
  if (!isMap(v)) return false;
  let n = 0;
  for (const k in v) {
    if (++n > b.count || k.length > b.key) return true;
    const x = v[k];
    if (typeof x === 'string' && x.length > b.value) return true;
  }
  return false;
}

function boundMap(map: Record<string, unknown>, field: 'params' | 'tags', onCut: OnCut | undefined) {
  const b = MAP_BOUNDS[field];
  const out: Record<string, unknown> = {};
  let kept = 0;
  let keys = 0;
  let values = 0;
  let excess = 0;
  let repeats = 0;
  for (const k of Object.keys(map)) {
    if (kept >= b.count) {
      excess++;
      continue;
    }
    const key = k.length > b.key ? cut(k, b.key) : k;
    if (key !== k) keys++;
    if (Object.hasOwn(out, key)) {
      repeats++;
      continue;
    }
    let v = map[k];
    if (typeof v === 'string' && v.length > b.value) {
      v = cut(v, b.value);
      values++;
    }
    setOwn(out, key, v);
    kept++;
  }
  if (onCut) {
    if (keys > 0) onCut(field, 'key', keys);
    if (values > 0) onCut(field, 'value', values);
    if (excess > 0) onCut(field, 'excess', excess);
    if (repeats > 0) onCut(field, 'repeat', repeats);
  }
  return out;
}

/**
 * a path cut to PATH_MAX at the last `/`, `?` or `&` within it, so the part kept ends with whole segments and
 * parameters: a cut through a token (an id, a key in the query) would keep a piece of it that the secret scrubber,
 * which runs after, might no longer recognise as one. A path with no such delimiter in reach is cut at the bound
 */
function cutPath(path: string): string {
  const head = cut(path, PATH_MAX);
  const at = Math.max(head.lastIndexOf('/'), head.lastIndexOf('?'), head.lastIndexOf('&'));
  return at > 0 ? head.slice(0, at) : head;
}

/** the first `max` code units of `s`, one fewer when the last would be the first half of a surrogate pair */
function cut(s: string, max: number): string {
  const last = s.charCodeAt(max - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
