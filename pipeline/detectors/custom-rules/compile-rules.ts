import type { Severity } from '../../core/alert.js';
import { mwError } from '../../core/errors.js';
import type { CustomRulesConfig } from './config.js';
import { GROUP_FIELD_NAMES, type GroupField, groupField } from './group-fields.js';
import { type RecordVariables, recordEnvironment } from './record-variables.js';

/** a rule ready to run: its condition compiled, its group_by fields resolved */
export interface CompiledRule {
  name: string;
  description: string;
  severity: Severity;
  when: string;
  /** the condition: true for a match; anything else, or a throw, is not one */
  test: (vars: RecordVariables) => unknown;
  groupBy: readonly GroupField[];
  threshold: number;
  windowMs: number;
}

export interface CompiledCustomRules {
  rules: readonly CompiledRule[];
  maxGroups: number;
}

const WHERE = 'detectors.custom_rules.rules';
const MAX_PROBLEMS = 5;

/**
 * cel-js's message is the problem, then a copy of the expression with a caret under the place: one line for a config
 * error, the place as a column (`Unknown variable: usr at column 1`)
 */
function oneLine(err: unknown): string {
  const e = err as { message?: unknown; node?: { pos?: unknown } };
  const first = String(e.message ?? err).split('\n')[0];
  return typeof e.node?.pos === 'number' ? `${first} at column ${e.node.pos + 1}` : first;
}

/**
 * Checks and compiles every rule once, when the config loads (the factory's prepare): each `when` parsed and
 * type-checked against the record's variables (it must be a bool), names unique, group_by fields known. Throws one
 * CONFIG_INVALID naming each rule and key at fault (`detectors.custom_rules.rules[admin-deletes].when: …`), up to five.
 */
export function compileRules(config: CustomRulesConfig): CompiledCustomRules {
  const env = recordEnvironment();
  const problems: string[] = [];
  const seen = new Set<string>();
  const rules: CompiledRule[] = [];
  for (const rule of config.rules) {
    const at = `${WHERE}[${rule.name}]`;
    if (seen.has(rule.name)) problems.push(`${at}.name: another rule has this name (names must be unique)`);
    seen.add(rule.name);
    const groupBy: GroupField[] = [];
    for (const name of rule.group_by) {
      const field = groupField(name);
      if (field) groupBy.push(field);
      else problems.push(`${at}.group_by: unknown field ${name} (known: ${GROUP_FIELD_NAMES.join(', ')})`);
    }
    const checked = env.check(rule.when);
    if (!checked.valid) {
      problems.push(`${at}.when: ${oneLine(checked.error)}`);
      continue;
    }
    if (checked.type !== 'bool' && checked.type !== 'dyn') {
      problems.push(
        `${at}.when: the condition is of type ${checked.type}, not bool (compare it: \`… == "x"\`, \`… > 0\`)`,
      );
      continue;
    }
    let test: (vars: RecordVariables) => unknown;
    try {
      // called as it is, without a wrapper: it runs per record and rule
      test = env.parse(rule.when) as unknown as (vars: RecordVariables) => unknown;
    } catch (err) {
      problems.push(`${at}.when: ${oneLine(err)}`);
      continue;
    }
    rules.push({
      name: rule.name,
      description: rule.description,
      severity: rule.severity,
      when: rule.when,
      test,
      groupBy,
      threshold: rule.threshold,
      windowMs: rule.window_seconds * 1000,
    });
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_PROBLEMS);
    throw mwError('CONFIG_INVALID', shown.join('; '), { problems: shown });
  }
  return { rules, maxGroups: config.max_groups };
}
