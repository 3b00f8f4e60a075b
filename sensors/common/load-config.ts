import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { schemaProblems } from '../../pipeline/config/schema-problems.js';
import { mwError } from '../../pipeline/core/errors.js';

/**
 * Defaults filled in, then validated: the config a component's factory receives. Fails fast (at start) with
 * CONFIG_INVALID naming every bad field, e.g. `max_buffer: Expected integer`.
 */
export function loadConfig<S extends TSchema>(schema: S, input: unknown, what = 'config'): Static<S> {
  const value = Value.Default(schema, Value.Clone(input ?? {}));
  if (Value.Check(schema, value)) return value as Static<S>;
  const problems = schemaProblems(schema, value, '', 10);
  throw mwError('CONFIG_INVALID', `${what}: ${problems.join('; ')}`, { problems });
}
