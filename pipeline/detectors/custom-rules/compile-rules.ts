import safeRegex from 'safe-regex2';
import type { Severity } from '../../core/alert.js';
import { mwError } from '../../core/errors.js';
import type { PrepareOptions } from '../detector.js';
import { type CustomRulesConfig, MAX_LISTS } from './config.js';
import { CidrMatchers } from './cidr.js';
import { GROUP_FIELD_NAMES, type GroupField, groupField } from './group-fields.js';
import { ListFiles } from './list-files.js';
import { celLists, type NamedLists, type RecordVariables, recordEnvironment } from './record-variables.js';

/** a rule ready to run: its condition compiled, its group_by fields resolved */
export interface CompiledRule {
  name: string;
  description: string;
  severity: Severity;
  when: string;
  /** the condition: true for a match; anything else, or a throw, is not one */
  test: (vars: RecordVariables) => unknown;
  groupBy: readonly GroupField[];
  /** group_by names the endpoint (`endpoint`, or `method` and `route`): each group is one endpoint's */
  endpointGrouped: boolean;
  /**
   * group_by does not name `service`: a group may span services, so partitions (keyed by service), and with several
   * it is counted across them when count_across_partitions is on
   */
  spansServices: boolean;
  threshold: number;
  windowMs: number;
}

export interface CompiledCustomRules {
  /** the rules the detector runs */
  rules: readonly CompiledRule[];
  /** the rules with `enabled: false`: checked and compiled as the others, not run (`meshward rules test` tries them) */
  disabled: readonly CompiledRule[];
  maxGroups: number;
  /** count_across_partitions: rules whose groups span services are counted in the store the correlators share */
  acrossPartitions: boolean;
  /** the lists read from files and their reload (shared by the shards: one read per change) */
  listFiles: ListFiles;
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

/** calls each `name(…)` or `….name(…)` call of the tree with its arguments (a receiver's not among them) */
function forEachCall(root: unknown, name: string, visit: (params: unknown[]) => void): void {
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (!isNode(node)) return;
    const args = node.args;
    if ((node.op === 'call' || node.op === 'rcall') && Array.isArray(args) && args[0] === name) {
      // call: [name, [args]]; rcall: [name, receiver, [args]]
      const params = node.op === 'call' ? args[1] : args[2];
      if (Array.isArray(params)) visit(params);
    }
    walk(args);
  };
  walk(root);
}

/** the name of the named list a node reads (`lists.office`: office), or undefined for anything else */
function namedListOf(node: unknown): string | undefined {
  if (!isNode(node) || node.op !== '.' || !Array.isArray(node.args)) return undefined;
  const [of, name] = node.args as [unknown, unknown];
  return typeof name === 'string' && isNode(of) && of.op === 'id' && of.args === 'lists' ? name : undefined;
}

const stringLiteral = (node: unknown): string | undefined =>
  isNode(node) && node.op === 'value' && typeof node.args === 'string' ? node.args : undefined;

/**
 * The problems of the condition's `matches()` patterns. CEL means RE2 (linear time), but cel-js runs JavaScript's
 * backtracking engine, and the text it matches is the callers' (paths, parameters): a pattern with nested
 * quantifiers such as `(a+)+$` could take the correlator minutes on one crafted path. So a pattern must be a string
 * literal (a computed one cannot be checked before it runs) that safe-regex2 (star height at most 1) accepts.
 */
function regexProblems(root: unknown): string[] {
  const problems: string[] = [];
  forEachCall(root, 'matches', (params) => {
    const pattern = stringLiteral(params[params.length - 1]);
    if (pattern === undefined)
      problems.push('the pattern of matches() must be a string literal (it is checked when the config loads)');
    else if (!safeRegex(pattern))
      problems.push(
        `the pattern ${JSON.stringify(pattern)} of matches() may take exponential time on a crafted input (nested quantifiers); rewrite it without a quantified group that itself repeats`,
      );
  });
  return problems;
}

/**
 * The problems of the condition's `inCidr()` ranges, each made once here: a literal range, a literal list's ranges,
 * a named list (`lists.office`) whose entries must all be ranges or addresses. A computed range is made at its first
 * use (an invalid one is then the rule's evaluation error).
 */
function cidrProblems(root: unknown, lists: NamedLists, cidrs: CidrMatchers, cidrLists: Set<string>): string[] {
  const problems: string[] = [];
  const tryMake = (what: string, make: () => void): void => {
    try {
      make();
    } catch (err) {
      problems.push(`${what} of inCidr() is invalid: ${(err as Error).message}`);
    }
  };
  forEachCall(root, 'inCidr', (params) => {
    const ranges = params[1];
    if (!isNode(ranges)) return;
    const literal = stringLiteral(ranges);
    if (literal !== undefined) tryMake('the range', () => cidrs.of(literal));
    else if (ranges.op === 'list' && Array.isArray(ranges.args)) {
      const entries = ranges.args.map(stringLiteral);
      if (entries.every((e) => e !== undefined)) tryMake('the list', () => cidrs.of(entries as string[]));
    } else {
      const name = namedListOf(ranges);
      const list = name !== undefined && lists[name];
      if (list) {
        cidrLists.add(name);
        tryMake(`the list lists.${name}`, () => cidrs.prepareList(list));
      }
    }
  });
  return problems;
}

/** the named lists (`lists.x`) the condition gives to `name(…)` as its argument at `index` */
function namedListsGivenTo(root: unknown, name: string, index: number, into: Set<string>): void {
  forEachCall(root, name, (params) => {
    const list = namedListOf(params[index]);
    if (list !== undefined) into.add(list);
  });
}

/** the type checker's `No such key: x` under `lists.x`, said as what it is */
function unknownList(message: string, when: string, lists: NamedLists): string | undefined {
  const key = /^No such key: ([a-zA-Z0-9_]+)/.exec(message)?.[1];
  if (key === undefined || !new RegExp(`\\blists\\s*\\.\\s*${key}\\b`).test(when)) return undefined;
  const names = Object.keys(lists);
  const defined =
    names.length === 0 ? 'none defined' : `defined: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`;
  const place = / at column \d+$/.exec(message)?.[0] ?? '';
  return `no list named ${key} in detectors.custom_rules.lists or list_files (${defined})${place}`;
}

/** CEL's reserved words: `lists.in` or `lists.true` does not parse (and the others are reserved by the spec) */
const RESERVED = new Set(
  'as break const continue else false for function if import in let loop namespace null package return true var void while'.split(
    ' ',
  ),
);

/** the named lists as the rules see them: copied and frozen, the same arrays at each evaluation */
const frozenLists = (lists: Readonly<Record<string, string[]>>): Record<string, readonly string[]> =>
  Object.fromEntries(Object.entries(lists).map(([name, entries]) => [name, Object.freeze([...entries])]));

/** what compileRules needs besides the config: whether to read the list files, the clock of their reload (tests) */
export interface CompileOptions extends PrepareOptions {
  now?: () => number;
}

/**
 * Checks and compiles every rule once, when the config loads (the factory's prepare): the list files read (a file
 * that cannot be is a mistake, naming `detectors.custom_rules.list_files.<name>` and the file), each `when` parsed and
 * type-checked against the record's variables and the named lists (it must be a bool), its matches() patterns literal
 * and safe from catastrophic backtracking, its inCidr() ranges valid, names unique, group_by fields known. Throws one
 * CONFIG_INVALID naming each rule and key at fault (`detectors.custom_rules.rules[admin-deletes].when: …`), up to five.
 */
export function compileRules(config: CustomRulesConfig, options: CompileOptions = {}): CompiledCustomRules {
  const problems: string[] = [];
  const inline = frozenLists(config.lists);
  for (const name of Object.keys(config.list_files))
    if (Object.hasOwn(inline, name))
      problems.push(
        `detectors.custom_rules.list_files.${name}: a list of this name is in detectors.custom_rules.lists too (give each list once)`,
      );
  const names = new Set([...Object.keys(inline), ...Object.keys(config.list_files)]);
  if (names.size > MAX_LISTS)
    problems.push(`detectors.custom_rules: ${names.size} named lists (lists and list_files), at most ${MAX_LISTS}`);
  // not read where the detectors do not run (a collector's or API's check): their names still type `lists.<name>`
  const fromFiles =
    options.readFiles === false ? { lists: {}, loaded: [], problems: [] } : ListFiles.load(config.list_files);
  problems.push(...fromFiles.problems);
  // a list file that does not load: its name still types `lists.<name>`, so its rules' own mistakes are said too
  const missing = Object.fromEntries(
    Object.keys(config.list_files)
      .filter((name) => !Object.hasOwn(fromFiles.lists, name))
      .map((name) => [name, Object.freeze([]) as readonly string[]]),
  );
  const lists = celLists({ ...missing, ...fromFiles.lists, ...inline });
  const cidrs = new CidrMatchers();
  const cidrLists = new Set<string>();
  const setLists = new Set<string>();
  const env = recordEnvironment(lists, cidrs);
  for (const name of Object.keys(lists))
    if (RESERVED.has(name))
      problems.push(
        `detectors.custom_rules.${Object.hasOwn(inline, name) ? 'lists' : 'list_files'}.${name}: a CEL reserved word cannot name a list (lists.${name} would not parse)`,
      );
  const seen = new Set<string>();
  const rules: CompiledRule[] = [];
  const disabled: CompiledRule[] = [];
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
      const message = oneLine(checked.error);
      problems.push(`${at}.when: ${unknownList(message, rule.when, lists) ?? message}`);
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
    const ast = (test as unknown as { ast?: unknown }).ast;
    const unsafe = [...regexProblems(ast), ...cidrProblems(ast, lists, cidrs, cidrLists)];
    namedListsGivenTo(ast, 'inList', 1, setLists);
    if (unsafe.length > 0) {
      for (const p of unsafe) problems.push(`${at}.when: ${p}`);
      continue;
    }
    (rule.enabled ? rules : disabled).push({
      name: rule.name,
      description: rule.description,
      severity: rule.severity,
      when: rule.when,
      test,
      groupBy,
      endpointGrouped:
        rule.group_by.includes('endpoint') || (rule.group_by.includes('method') && rule.group_by.includes('route')),
      spansServices: !rule.group_by.includes('service'),
      threshold: rule.threshold,
      windowMs: rule.window_seconds * 1000,
    });
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_PROBLEMS);
    throw mwError('CONFIG_INVALID', shown.join('; '), { problems: shown });
  }
  const listFiles = new ListFiles(
    fromFiles.loaded,
    lists,
    cidrs,
    { cidr: cidrLists, set: setLists },
    config.list_reload_seconds * 1000,
    options.now ?? Date.now,
  );
  return {
    rules,
    disabled,
    maxGroups: config.max_groups,
    acrossPartitions: config.count_across_partitions,
    listFiles,
  };
}
