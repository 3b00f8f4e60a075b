import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { schemaProblems } from '../../config/schema-problems.js';
import { mwError } from '../../core/errors.js';

/** check a value against a schema; throws MW_ERR_CATALOG_INVALID naming the source, place and first bad field */
export function checkOrThrow<T>(schema: TSchema, value: unknown, where: string): T {
  if (Value.Check(schema, value)) return value as T;
  const [first = '(root): invalid'] = schemaProblems(schema, value, '', 1);
  throw mwError('CATALOG_INVALID', `${where}: ${first}`, { where, problems: [first] });
}

/** own enumerable string value of a plain object, ignoring prototype keys */
export function own(o: unknown, key: string): unknown {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
  return Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/** the strings of an array (other items dropped), at most `max`; [] for anything else */
export function stringList(v: unknown, max = Number.POSITIVE_INFINITY): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, max) : [];
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
