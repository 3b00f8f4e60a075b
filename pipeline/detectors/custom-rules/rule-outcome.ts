import type { ApiCallRecord } from '../../core/record.js';
import type { CompiledRule } from './compile-rules.js';
import type { RecordVariables } from './record-variables.js';

/** between the rule's name and its group_by values in a group's key */
export const GROUP_KEY_SEP = '\u0000';

/**
 * A rule's condition on one record's variables: true (a match), false, or the error that makes it neither (a missing
 * map key, a division by zero, a `dyn` that is not a bool), which the detector counts as no match. Shared by the
 * detector and `meshward rules test`, so the test says what the detector does.
 */
export function conditionOutcome(rule: CompiledRule, vars: RecordVariables): boolean | Error {
  let hit: unknown;
  try {
    hit = rule.test(vars);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  if (hit === true || hit === false) return hit;
  return new Error(`the condition gave ${hit === null ? 'null' : typeof hit}, not a bool`);
}

/**
 * The key of the group a match counts in: the rule's name and its group_by values; undefined when they are all empty
 * (group_by user.sub on an anonymous call: nothing to count it against)
 */
export function groupKeyOf(rule: CompiledRule, r: ApiCallRecord, endpoint: string): string | undefined {
  let key = rule.name;
  if (rule.groupBy.length === 0) return key;
  let any = false;
  for (const f of rule.groupBy) {
    const v = f.read(r, endpoint);
    if (v !== '') any = true;
    key += GROUP_KEY_SEP + v;
  }
  return any ? key : undefined;
}
