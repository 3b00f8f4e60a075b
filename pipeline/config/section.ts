import type { Static, TSchema } from '@sinclair/typebox';
import { mwError } from '../core/errors.js';
import { expectedObject } from './schema-problems.js';
import { withDefaults } from './with-defaults.js';

/**
 * Validates one config section (a detector's, a receiver's, a sink's, …) against its schema: defaults filled in
 * (over `defaults` when given), the input never mutated, and up to `maxProblems` (five) errors named by `where` +
 * their path (fail fast at start). A section that is not a mapping is refused (checkMapping).
 */
export function checkSection<T extends TSchema>(
  schema: T,
  raw: unknown,
  where: string,
  defaults?: object,
  maxProblems = 5,
): Static<T> {
  checkMapping(schema, raw, where);
  const base = defaults
    ? { ...structuredClone(defaults), ...structuredClone(raw as object) }
    : structuredClone(raw ?? {});
  const { value, problems } = withDefaults(schema, base, where, maxProblems);
  if (problems.length > 0) throw mwError('CONFIG_INVALID', problems.join('; '), { problems });
  return value as Static<T>;
}

/**
 * refuses a section that is not a mapping (a YAML list, a number), before it is spread over its defaults: spread,
 * `[1]` would become `{"0": 1}` and `5` nothing at all. Absent or null is an empty section
 */
export function checkMapping(schema: TSchema, raw: unknown, where: string): void {
  if (raw === undefined || raw === null || (typeof raw === 'object' && !Array.isArray(raw))) return;
  const problem = `${where}: ${expectedObject(schema, raw)}`;
  throw mwError('CONFIG_INVALID', problem, { problems: [problem] });
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
