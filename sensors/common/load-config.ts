import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { withDefaults } from '../../pipeline/config/with-defaults.js';
import { mwError } from '../../pipeline/core/errors.js';

/**
 * Defaults filled in, then validated: the config a component's factory receives. Fails fast (at start) with
 * CONFIG_INVALID naming every bad field, e.g. `max_buffer: Expected integer`.
 */
export function loadConfig<S extends TSchema>(schema: S, input: unknown, what = 'config'): Static<S> {
  const { value, problems } = withDefaults(schema, Value.Clone(input ?? {}), '', 10);
  if (problems.length === 0) return value as Static<S>;
  throw mwError('CONFIG_INVALID', `${what}: ${problems.join('; ')}`, { problems });
}
