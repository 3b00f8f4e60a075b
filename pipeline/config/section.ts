import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { mwError } from '../core/errors.js';
import { schemaProblems } from './schema-problems.js';

/**
 * Validates one config section (a detector's, a receiver's, a sink's, …) against its schema: defaults filled in
 * (over `defaults` when given), the input never mutated, and up to five errors named by `where` + their path
 * (fail fast at start).
 */
export function checkSection<T extends TSchema>(schema: T, raw: unknown, where: string, defaults?: object): Static<T> {
  const base = defaults
    ? { ...structuredClone(defaults), ...structuredClone(raw as object) }
    : structuredClone(raw ?? {});
  const value = Value.Default(schema, base);
  const problems = schemaProblems(schema, value, where);
  if (problems.length > 0) throw mwError('CONFIG_INVALID', problems.join('; '), { problems });
  return value as Static<T>;
}

/**
 * refuses a section key of the form `<type>/<name>` whose name is empty or blank (`syslog/`, `webhook/ `): a typo
 * that leaves an instance no name to tell it apart by (in metrics, sensor ids, logs). Fail fast, the key named
 */
export function checkInstanceName(section: string, key: string, type: string): void {
  if (key.length > type.length && key.slice(type.length + 1).trim() === '')
    throw mwError(
      'CONFIG_INVALID',
      `${section}.${key}: the name after the slash is empty (name it, e.g. ${type}/edge, or declare it under the bare key ${type})`,
    );
}
