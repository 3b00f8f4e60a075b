import { type ObjectOptions, type TSchema, Type } from '@sinclair/typebox';

/**
 * A map whose keys are `minLength` to `maxLength` characters, a key out of bounds refused (`Expected a key matching
 * ^.{1,64}$`). TypeBox drops the minLength and maxLength of a Record's key schema (Type.Record(Type.String({
 * maxLength: 64 }), …) takes any key); a key pattern with additionalProperties: false is enforced. `anyCharacter`:
 * a key may hold line breaks too (`[\s\S]`, not `.`), for keys that are a caller's data (a record's query
 * parameter names), not an operator's.
 */
export function boundedKeyRecord<V extends TSchema>(
  key: { minLength: number; maxLength: number; anyCharacter?: boolean },
  value: V,
  options: ObjectOptions = {},
) {
  const char = key.anyCharacter ? '[\\s\\S]' : '.';
  return Type.Record(Type.String({ pattern: `^${char}{${key.minLength},${key.maxLength}}$` }), value, {
    ...options,
    additionalProperties: false,
  });
}
