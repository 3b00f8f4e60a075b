import safeRegex from 'safe-regex2';
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

/** a node of cel-js's syntax tree: `op`, and `args` whose shape depends on it */
interface CelNode {
  op: string;
  args: unknown;
}
const isNode = (x: unknown): x is CelNode =>
  typeof x === 'object' && x !== null && typeof (x as CelNode).op === 'string' && 'args' in x;

/**
 * The problems of the condition's `matches()` patterns. CEL means RE2 (linear time), but cel-js runs JavaScript's
 * backtracking engine, and the text it matches is the callers' (paths, parameters): a pattern with nested
 * quantifiers such as `(a+)+$` could take the correlator minutes on one crafted path. So a pattern must be a string
 * literal (a computed one cannot be checked before it runs) that safe-regex2 (star height at most 1) accepts.
 */
function regexProblems(root: unknown): string[] {
  const problems: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (!isNode(node)) return;
    const args = node.args;
    if ((node.op === 'call' || node.op === 'rcall') && Array.isArray(args) && args[0] === 'matches') {
      // call: [name, [text, pattern]]; rcall: [name, text, [pattern]]
      const params = (node.op === 'call' ? args[1] : args[2]) as unknown[];
      const pattern = params?.[params.length - 1];
      if (!isNode(pattern) || pattern.op !== 'value' || typeof pattern.args !== 'string')
        problems.push('the pattern of matches() must be a string literal (it is checked when the config loads)');
      else if (!safeRegex(pattern.args))
        problems.push(
          `the pattern ${JSON.stringify(pattern.args)} of matches() may take exponential time on a crafted input (nested quantifiers); rewrite it without a quantified group that itself repeats`,
        );
    }
    walk(args);
  };
  walk(root);
  return problems;
}

/**
 * Checks and compiles every rule once, when the config loads (the factory's prepare): each `when` parsed and
 * type-checked against the record's variables (it must be a bool), its matches() patterns literal and safe from
 * catastrophic backtracking, names unique, group_by fields known. Throws one
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
    const unsafe = regexProblems((test as unknown as { ast?: unknown }).ast);
    if (unsafe.length > 0) {
      for (const p of unsafe) problems.push(`${at}.when: ${p}`);
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
