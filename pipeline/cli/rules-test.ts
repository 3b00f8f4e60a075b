import { loadConfig } from '../config/load.js';
import { mwError } from '../core/errors.js';
import type { ApiCallRecord } from '../core/record.js';
import type { JsonlRejections } from '../core/valid-jsonl.js';
import { parseRootCauseConfig } from '../correlator/root-cause/config.js';
import { recordOfText, recordsOfFile } from '../correlator/replay-file.js';
import { replay } from '../correlator/replay.js';
import { shardOptionsOf } from '../correlator/shard-options.js';
import type { CompiledCustomRules, CompiledRule } from '../detectors/custom-rules/compile-rules.js';
import { CustomRulesDetector, TYPE } from '../detectors/custom-rules/custom-rules.js';
import { type RecordVariables, variablesMaker, variablesNamed } from '../detectors/custom-rules/record-variables.js';
import { conditionOutcome, groupKeyOf } from '../detectors/custom-rules/rule-outcome.js';
import type { Detector } from '../detectors/detector.js';
import { compileDetectors } from '../detectors/registry.js';

const MAX_SAMPLES = 3;
const MAX_ALERTS_SHOWN = 5;
/** distinct groups counted per rule at most (a file of millions of addresses would hold them all); more: `groupsCapped` */
export const MAX_GROUPS_COUNTED = 1_000_000;

/** what one rule did on the records */
export interface RuleTestResult {
  rule: string;
  /** the rule has `enabled: false`: the correlators do not run it; tried here as if they did */
  disabled?: boolean;
  /** records the condition was true for (the ungrouped among them) */
  matched: number;
  /** records the condition could not be evaluated on (the detector counts them as no match) */
  errors: number;
  firstError?: { recordId: string; message: string };
  /** matches whose group_by values were all empty: the detector leaves them out */
  ungrouped: number;
  /** distinct groups (group_by values) among the matches; 1 for a rule without group_by that matched */
  groups: number;
  /** there were more groups than were counted (maxGroups): `groups` is a floor, `largestGroup` that of those counted */
  groupsCapped?: true;
  /** the matches of the largest group, over the whole input (not per window) */
  largestGroup: number;
  /** the first matching records' ids */
  samples: string[];
  /** the alerts the detector raised for the rule (as `meshward replay` would write them) */
  alerts: number;
  /** the first alerts' summaries */
  alertSummaries: string[];
  /** with --record: the outcome on the record and the values of the variables its condition names */
  outcome?: 'matched' | 'not matched' | 'error';
  variables?: Record<string, unknown>;
}

export interface RulesTestResult extends JsonlRejections {
  records: number;
  rules: RuleTestResult[];
}

interface RuleTally {
  result: RuleTestResult;
  groups: Map<string, number>;
}

/** the named fields of a condition's variables (`user.sub`, `status`) with the record's values, for --record */
function namedValues(when: string, vars: RecordVariables): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const show = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v);
  for (const name of variablesNamed([when])) {
    const value = (vars as unknown as Record<string, unknown>)[name];
    if (name === 'source' || name === 'user' || name === 'sensor') {
      for (const m of when.matchAll(new RegExp(`(?<![.\\w])${name}\\.(\\w+)`, 'g')))
        if (Object.hasOwn(value as object, m[1]))
          values[`${name}.${m[1]}`] = show((value as Record<string, unknown>)[m[1]]);
    } else values[name] = show(value);
  }
  return values;
}

/**
 * The compiled custom rules of a config, as a correlator compiles them (the same refusals: CONFIG_INVALID naming the
 * rule and key; the list files read), and the detectors a shard needs to run them: custom_rules, and those that know
 * routes (api_discovery's catalogue), so that `route` and `endpoint` are what the correlator gives the rules
 */
function loadRules(configPath: string | undefined, only: readonly string[]) {
  const config = loadConfig(configPath);
  const compiled = compileDetectors(config.detectors);
  const custom = compiled.prepared(TYPE) as CompiledCustomRules | undefined;
  // the disabled rules too (enabled: false): tried here as if they were on, so that one can be tested before it is
  const all = custom ? [...custom.rules, ...custom.disabled] : [];
  const disabled = new Set(custom?.disabled.map((r) => r.name));
  if (all.length === 0)
    throw mwError('BAD_REQUEST', `${configPath ?? 'the default config'}: detectors.custom_rules has no rules to test`);
  const names = all.map((r) => r.name);
  for (const name of only)
    if (!names.includes(name))
      throw mwError(
        'BAD_REQUEST',
        `--rule ${name}: no such rule in detectors.custom_rules (rules: ${names.join(', ')})`,
      );
  const rules = only.length > 0 ? all.filter((r) => only.includes(r.name)) : all;
  const detectors = [
    ...(custom ? [new CustomRulesDetector({ ...custom, rules: all, disabled: [] })] : []),
    ...compiled.create().filter((d) => d.type !== TYPE && typeof d.routeOf === 'function'),
  ];
  return { config, rules, disabled, detectors };
}

/** a detector that evaluates each rule on each record as CustomRulesDetector does, and tallies what it saw */
function probe(
  rules: readonly CompiledRule[],
  tallies: RuleTally[],
  keepVariables: boolean,
  maxGroups: number,
): Detector {
  const variablesOf = variablesMaker(variablesNamed(rules.map((r) => r.when)));
  return {
    type: 'rules_test',
    observe(r: ApiCallRecord, ctx) {
      const endpoint = ctx.endpointOf(r);
      const vars = variablesOf(r, endpoint);
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i];
        const t = tallies[i].result;
        const hit = conditionOutcome(rule, vars);
        if (keepVariables) {
          t.variables = namedValues(rule.when, vars);
          t.outcome = hit === true ? 'matched' : hit === false ? 'not matched' : 'error';
        }
        if (hit === false) continue;
        if (hit !== true) {
          t.errors++;
          t.firstError ??= { recordId: r.id, message: hit.message.split('\n')[0] };
          continue;
        }
        t.matched++;
        if (t.samples.length < MAX_SAMPLES) t.samples.push(r.id);
        const key = groupKeyOf(rule, r, endpoint);
        if (key === undefined) {
          t.ungrouped++;
          continue;
        }
        const groups = tallies[i].groups;
        const n = groups.get(key);
        if (n !== undefined) groups.set(key, n + 1);
        else if (groups.size < maxGroups) groups.set(key, 1);
        else t.groupsCapped = true;
      }
    },
    snapshot: () => null,
    restore: () => {},
  };
}

/**
 * `meshward rules test`: the config's custom rules on records (a JSONL file as `meshward replay` reads it, or one
 * record given inline), each rule's condition evaluated on each record by the detector's own compiled functions and
 * variables, and the records run through the detector itself, in order, as `meshward replay` runs them (root-cause
 * folding off, so that every custom_rule alert shows as its own)
 */
export async function runRulesTest(opts: {
  config?: string;
  records?: string;
  record?: string;
  rules?: readonly string[];
  /** distinct groups counted per rule at most (default MAX_GROUPS_COUNTED) */
  maxGroups?: number;
}): Promise<RulesTestResult> {
  const { config, rules, disabled, detectors } = loadRules(opts.config, opts.rules ?? []);
  const tallies: RuleTally[] = rules.map((r) => ({
    result: {
      rule: r.name,
      ...(disabled.has(r.name) ? { disabled: true } : {}),
      matched: 0,
      errors: 0,
      ungrouped: 0,
      groups: 0,
      largestGroup: 0,
      samples: [],
      alerts: 0,
      alertSummaries: [],
    },
    groups: new Map(),
  }));
  const rejections: JsonlRejections = { rejected: 0 };
  let records = 0;
  const source =
    opts.record !== undefined ? recordOfText(opts.record, rejections) : recordsOfFile(opts.records ?? '', rejections);
  async function* counted(): AsyncGenerator<ApiCallRecord> {
    for await (const r of source) {
      records++;
      yield r;
    }
  }
  const alerts = await replay(counted(), {
    detectors: [probe(rules, tallies, opts.record !== undefined, opts.maxGroups ?? MAX_GROUPS_COUNTED), ...detectors],
    ...shardOptionsOf(config),
    rootCause: parseRootCauseConfig({ enabled: false }),
  });
  if (opts.record !== undefined && records === 0)
    throw mwError(
      'RECORD_INVALID',
      `--record: ${rejections.firstRejection?.replace(/^line 1: /, '') ?? 'no record given'}`,
    );
  for (const { result, groups } of tallies) {
    result.groups = groups.size;
    for (const n of groups.values()) if (n > result.largestGroup) result.largestGroup = n;
    const mine = alerts.filter((a) => a.kind === 'custom_rule' && a.labels?.rule === result.rule);
    result.alerts = mine.length;
    result.alertSummaries = mine.slice(0, MAX_ALERTS_SHOWN).map((a) => a.summary);
  }
  return { records, ...rejections, rules: tallies.map((t) => t.result) };
}
