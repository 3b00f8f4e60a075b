import type { AlertSubject } from '../../core/alert.js';
import { durationText } from '../../core/duration-text.js';
import { counter } from '../../core/metrics.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { appendTo, pushEvidence } from '../shared/record-fields.js';
import type { CompiledCustomRules, CompiledRule } from './compile-rules.js';
import type { ListFiles } from './list-files.js';
import { type RecordVariables, variablesMaker, variablesNamed } from './record-variables.js';
import { conditionOutcome, GROUP_KEY_SEP, groupKeyOf } from './rule-outcome.js';

export const TYPE = 'custom_rules';

const ruleErrors = counter(
  'meshward_custom_rule_errors_total',
  "records a custom rule's condition could not be evaluated on (a missing map key, a division by zero, a value of another type): counted as no match",
  ['rule'],
);

/** one group's matches in its current window */
interface GroupCount {
  /** event time of the window's first match */
  start: number;
  /** the service of the window's first match: its alert's service (a group may span services) */
  service?: string;
  count: number;
  /** the count at which the group's alert is signalled next in this window: the threshold, then each doubling */
  next: number;
  /** event time of the window's last match */
  last: number;
  /** evidence: the first matches' record ids */
  ids: string[];
  /** the first few distinct endpoints matched, and whether there were others */
  endpoints: string[];
  moreEndpoints: boolean;
}

const MAX_IDS = 10;
const MAX_ENDPOINTS = 3;
const calls = (n: number): string => `${n} matching call${n === 1 ? '' : 's'}`;

/**
 * Detections written by the operators (detectors.custom_rules.rules): a CEL condition over each record; the matches
 * are counted per rule and group (the values of its group_by fields) in a fixed window that starts at the group's
 * first match and lasts window_seconds; the next match after it starts the next window. The count reaching the
 * threshold raises a `custom_rule` alert (label `rule`), signalled again when the count doubles in the same window
 * (so its summary says how many, at a cost of one signal per doubling, not per match).
 *
 * A condition that throws on a record (a missing map key, a division by zero) is no match, counted in
 * meshward_custom_rule_errors_total{rule}. With no rules the detector has no per-record step: the correlator never
 * calls it.
 */
export class CustomRulesDetector implements Detector {
  readonly type = TYPE;
  readonly observe?: (r: ApiCallRecord, ctx: DetectorContext) => void;
  private readonly rules: readonly CompiledRule[];
  private readonly byName: ReadonlyMap<string, CompiledRule>;
  private readonly groups: BoundedMap<string, GroupCount>;
  private readonly variablesOf: (r: ApiCallRecord, endpoint: string) => RecordVariables;
  private readonly listFiles: ListFiles;
  private readonly disabledRules: number;
  private matches = 0;
  private alerts = 0;
  private errors = 0;
  private ungrouped = 0;

  constructor(compiled: CompiledCustomRules) {
    this.rules = compiled.rules;
    this.listFiles = compiled.listFiles;
    this.disabledRules = compiled.disabled.length;
    this.byName = new Map(this.rules.map((r) => [r.name, r]));
    // a group idle past the longest window has nothing left to count
    const ttl = Math.max(0, ...this.rules.map((r) => r.windowMs));
    this.groups = new BoundedMap(compiled.maxGroups, ttl);
    this.variablesOf = variablesMaker(variablesNamed(this.rules.map((r) => r.when)));
    if (this.rules.length > 0) this.observe = (r, ctx) => this.step(r, ctx);
  }

  private step(r: ApiCallRecord, ctx: DetectorContext): void {
    const endpoint = ctx.endpointOf(r);
    const vars = this.variablesOf(r, endpoint);
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i];
      const hit = conditionOutcome(rule, vars);
      if (hit === true) this.count(rule, r, endpoint, ctx);
      else if (hit !== false) this.failed(rule);
    }
  }

  private failed(rule: CompiledRule): void {
    this.errors++;
    ruleErrors.inc({ rule: rule.name });
  }

  private count(rule: CompiledRule, r: ApiCallRecord, endpoint: string, ctx: DetectorContext): void {
    const key = groupKeyOf(rule, r, endpoint);
    // nothing to count it against (group_by user.sub on an anonymous call)
    if (key === undefined) {
      this.ungrouped++;
      return;
    }
    this.matches++;
    this.groups.sweep(r.ts);
    let g = this.groups.get(key, r.ts);
    if (g === undefined || r.ts - g.start >= rule.windowMs) {
      g = {
        start: r.ts,
        service: r.service,
        count: 0,
        next: rule.threshold,
        last: r.ts,
        ids: [],
        endpoints: [],
        moreEndpoints: false,
      };
      this.groups.set(key, g, r.ts);
    }
    g.count++;
    if (r.ts > g.last) g.last = r.ts;
    g.ids = pushEvidence(g.ids, r.id, MAX_IDS);
    if (!g.endpoints.includes(endpoint)) {
      if (g.endpoints.length < MAX_ENDPOINTS) g.endpoints = appendTo(g.endpoints, endpoint);
      else g.moreEndpoints = true;
    }
    if (g.count < g.next) return;
    g.next = g.count * 2;
    this.signal(rule, r, endpoint, g, ctx);
  }

  private signal(rule: CompiledRule, r: ApiCallRecord, endpoint: string, g: GroupCount, ctx: DetectorContext): void {
    let subject: AlertSubject | undefined;
    const named: string[] = [];
    const grouped: string[] = [];
    for (let i = 0; i < rule.groupBy.length; i++) {
      const f = rule.groupBy[i];
      const v = f.read(r, endpoint);
      if (i === 0 && f.subject && v !== '') subject = { type: f.subject, value: v };
      named.push(`${f.label} ${v === '' ? '(none)' : v}`);
      grouped.push(`${f.name}=${v}`);
    }
    const window = durationText(rule.windowMs);
    const who = named.length > 0 ? `${named.join(', ')} made ` : '';
    const where = `${g.endpoints.join(', ')}${g.moreEndpoints ? ', …' : ''}`;
    const why = rule.description ? `; ${rule.description}` : '';
    this.alerts++;
    ctx.emit({
      kind: 'custom_rule',
      severity: rule.severity,
      // one alert per group and window, wherever its later matches were (a checkpoint before service was kept: this one)
      service: g.service ?? r.service,
      // a group of one endpoint names it, so that route-scoped actions and the endpoint's risk see the alert
      ...(rule.endpointGrouped ? { endpoint } : {}),
      ...(subject ? { subject } : {}),
      at: r.ts,
      summary: `${rule.name}: ${who}${calls(g.count)} in ${window} (${where})${why}`,
      expected: `fewer than ${rule.threshold} calls matching \`${rule.when}\` within ${window}${named.length > 0 ? ` per ${rule.groupBy.map((f) => f.name).join(', ')}` : ''}`,
      observed: `${calls(g.count)} from ${new Date(g.start).toISOString()} to ${new Date(g.last).toISOString()} (${where})`,
      recordIds: [...g.ids],
      metrics: { requests: g.count, threshold: rule.threshold, window_s: rule.windowMs / 1000 },
      labels: grouped.length > 0 ? { rule: rule.name, group: grouped.join(',') } : { rule: rule.name },
    });
  }

  snapshot(): unknown {
    return {
      v: 1,
      groups: this.groups.dump((g) => g),
      matches: this.matches,
      alerts: this.alerts,
      errors: this.errors,
      ungrouped: this.ungrouped,
    };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        if (s.v !== 1) throw new TypeError(`custom_rules checkpoint version ${String(s.v)}`);
        // the counts of rules no longer configured are dropped
        const rows = (s.groups as [string, GroupCount, number][]).filter(([key]) =>
          this.byName.has(key.split(GROUP_KEY_SEP, 1)[0]),
        );
        this.groups.load(rows, (g) => g);
        this.matches = Number(s.matches) || 0;
        this.alerts = Number(s.alerts) || 0;
        this.errors = Number(s.errors) || 0;
        this.ungrouped = Number(s.ungrouped) || 0;
      },
      () => {
        this.groups.clear();
        this.matches = 0;
        this.alerts = 0;
        this.errors = 0;
        this.ungrouped = 0;
      },
    );
  }

  /**
   * at each checkpoint (the correlator's, off the record path): the list files changed on disk are read again, at most
   * every list_reload_seconds, once for the shards of the process (ListFiles)
   */
  refresh(): void {
    this.listFiles.refresh();
  }

  stats(): Record<string, number> {
    const lists = this.listFiles.stats();
    return {
      rules: this.rules.length,
      rules_disabled: this.disabledRules,
      groups: this.groups.size,
      groups_evicted: this.groups.evicted,
      matches: this.matches,
      matches_ungrouped: this.ungrouped,
      alerts: this.alerts,
      errors: this.errors,
      // the process's list files (shared by the shards): how many, their entries in force, changes taken up or not
      list_files: lists.files,
      list_file_entries: lists.entries,
      list_reloads: lists.reloads,
      list_reload_failures: lists.failures,
    };
  }
}
