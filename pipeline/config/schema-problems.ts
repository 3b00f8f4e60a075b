import { KindGuard, type TSchema } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { isSharedSecret, SECRET_TOO_SHORT } from './shared-secret.js';

/**
 * The key a YAML or JSON file names, from where a value sits and a JSON pointer inside it:
 * (`detectors.enumeration`, `/min_distinct`) → `detectors.enumeration.min_distinct`; `(root)` for the document itself.
 */
export function dottedKey(where: string, pointer: string): string {
  const inside = pointer
    .split('/')
    .slice(1)
    .map((p) => (p === '' ? '""' : p.replaceAll('~1', '/').replaceAll('~0', '~')));
  return [where, ...inside].filter(Boolean).join('.') || '(root)';
}

/**
 * A value's violations of a schema, at most `max`, each as `key: message` with the key dotted as a config file
 * names it (`collector.listen: Expected string`). Every config, policy and catalogue check words its errors so.
 */
export function schemaProblems(schema: TSchema, value: unknown, where = '', max = 5): string[] {
  const out: string[] = [];
  for (const e of Value.Errors(schema, value)) {
    const named = itemName(value, e.path);
    out.push(`${dottedKey(where, e.path)}${named ? ` (${named})` : ''}: ${problemMessage(e)}`);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * The `name` of the innermost list item on a JSON pointer's way that has one (a detection rule, a policy rule), so
 * that `rules.12.threshold` also says which rule it is: `rules.12.threshold (admin-deletes)`. Undefined when none has.
 */
export function itemName(value: unknown, pointer: string): string | undefined {
  let at = value;
  let named: string | undefined;
  for (const raw of pointer.split('/').slice(1)) {
    if (at === null || typeof at !== 'object') break;
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (!Object.hasOwn(at, key)) break;
    const inList = Array.isArray(at);
    at = (at as Record<string, unknown>)[key];
    const name = inList && at !== null && typeof at === 'object' ? (at as { name?: unknown }).name : undefined;
    // printable and short: it is echoed into an error message
    if (typeof name === 'string' && /^[\x20-\x7e]{1,64}$/.test(name)) named = name;
  }
  return named;
}

/**
 * What is wrong with a value, as every meshward check words it: TypeBox's message, except for a union of literals
 * (the values allowed) and a shared secret that is too short (SECRET_TOO_SHORT, as when it is read from a file)
 */
export function problemMessage(e: ValueError): string {
  if (e.type === ValueErrorType.StringMinLength && isSharedSecret(e.schema)) return SECRET_TOO_SHORT;
  if (e.type === ValueErrorType.ObjectAdditionalProperties) return keysAllowed(e.schema) ?? e.message;
  if (e.type === ValueErrorType.Object) return expectedObject(e.schema, e.value);
  return allowedValues(e.schema) ?? e.message;
}

/**
 * `Expected an object (a map of keys to numbers), got an array` for a value that is not an object where the schema
 * wants one (a YAML list where a map is expected), as withDefaults and every schema check word it
 */
export function expectedObject(schema: TSchema, value: unknown): string {
  const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
  if (!KindGuard.IsRecord(schema)) return `Expected an object, got ${got}`;
  const [entry] = Object.values(schema.patternProperties);
  return `Expected an object (a map of keys to ${mapValues(entry)}), got ${got}`;
}

/** what a map holds, for expectedObject: `numbers`, `strings`, `one of callers, callees`, … */
function mapValues(schema: TSchema | undefined): string {
  const options = (schema as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf;
  if (options?.length && options.every((o) => o.const !== undefined))
    return `one of ${options.map((o) => String(o.const)).join(', ')}`;
  const plural: Record<string, string> = {
    number: 'numbers',
    integer: 'integers',
    string: 'strings',
    boolean: 'booleans',
    object: 'objects',
    array: 'lists',
  };
  return plural[(schema as { type?: string } | undefined)?.type ?? ''] ?? 'values';
}

/**
 * `Expected a key matching ^.{1,64}$` for a key a map's key pattern refuses (`api.sensor_quiet_by_kind` bounds its
 * keys so), which TypeBox words as "Unexpected property", as for a key an object does not have
 */
function keysAllowed(schema: TSchema): string | undefined {
  const patterns = Object.keys((schema as { patternProperties?: Record<string, unknown> }).patternProperties ?? {});
  return patterns.length ? `Expected a key matching ${patterns.join(' or ')}` : undefined;
}

/**
 * `Expected one of: info, low, medium` for a union of literals (`log_level`, a policy's `action.type`), which TypeBox
 * words only as "Expected union value"
 */
function allowedValues(schema: TSchema): string | undefined {
  const options = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (!options?.length || !options.every((o) => o.const !== undefined)) return undefined;
  return `Expected one of: ${options.map((o) => String(o.const)).join(', ')}`;
}
