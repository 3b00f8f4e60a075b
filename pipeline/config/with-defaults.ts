import { KindGuard, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { dottedKey, expectedObject, schemaProblems } from './schema-problems.js';

/**
 * Defaults filled in (the value is mutated: pass a copy), then the value's violations of the schema, at most `max`,
 * worded as schemaProblems words them. A value that is not an object where the schema wants one (an object or a map)
 * is refused first, by its key: TypeBox's Value.Default turns an array given where an object has a default into an
 * object (`[240]` → `{"0": 240}`) that validation would then accept.
 */
export function withDefaults(
  schema: TSchema,
  raw: unknown,
  where = '',
  max = 5,
): { value: unknown; problems: string[] } {
  const problems: string[] = [];
  notObjects(schema, raw, where, '', problems, max);
  if (problems.length > 0) return { value: raw, problems };
  const value = Value.Default(schema, raw);
  return { value, problems: schemaProblems(schema, value, where, max) };
}

/** `<key>: Expected an object …` for each value, however deep, that is not an object where the schema wants one */
function notObjects(schema: TSchema, value: unknown, where: string, pointer: string, out: string[], max: number) {
  if (value === undefined || out.length >= max) return;
  const isRecord = KindGuard.IsRecord(schema);
  if (!isRecord && !KindGuard.IsObject(schema)) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    out.push(`${dottedKey(where, pointer)}: ${expectedObject(schema, value)}`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const inner = isRecord
      ? mapValueSchema(schema, key)
      : Object.hasOwn(schema.properties, key)
        ? schema.properties[key]
        : undefined;
    if (inner) notObjects(inner, v, where, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, out, max);
  }
}

/** the schema of a map's value under `key`: its key pattern's, else its additionalProperties' */
function mapValueSchema(schema: TSchema & { patternProperties: Record<string, TSchema> }, key: string) {
  const [pattern, inner] = Object.entries(schema.patternProperties)[0] ?? [];
  if (pattern !== undefined && new RegExp(pattern).test(key)) return inner;
  return typeof schema.additionalProperties === 'object' ? (schema.additionalProperties as TSchema) : undefined;
}
