import type { AlertSubject } from '../../core/alert.js';
import { durationText } from '../../core/duration-text.js';
import { counter } from '../../core/metrics.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext, MeshScope } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { appendTo, pushEvidence } from '../shared/record-fields.js';
import type { CompiledCustomRules, CompiledRule } from './compile-rules.js';
import type { ListFiles } from './list-files.js';
import { type FinalShare, MeshCounts, type SharedGroupFields } from './mesh-counts.js';
import { type RecordVariables, variablesMaker, variablesNamed } from './record-variables.js';
import { conditionOutcome, GROUP_KEY_SEP, groupKeyOf } from './rule-outcome.js';
import type { SharedTotal } from './shared-count.js';

export const TYPE = 'custom_rules';

const ruleErrors = counter(
  'meshward_custom_rule_errors_total',
  "records a custom rule's condition could not be evaluated on (a missing map key, a division by zero, a value of another type): counted as no match",
  ['rule'],
);

/** one group's matches in its current window (a count across partitions: this shard's share of it) */
interface GroupCount extends SharedGroupFields {
  /** event time of the window's first match */
  start: number;
  /** the service of the window's first match: its alert's service (a group may span services) */
  service?: string;
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
const iso = (t: number): string => new Date(t).toISOString();

/**
 * Detections written by the operators (detectors.custom_rules.rules): a CEL condition over each record; the matches
 * are counted per rule and group (the values of its group_by fields) in a fixed window that starts at the group's
 * first match and lasts window_seconds; the next match after it starts the next window. The count reaching the
 * threshold raises a `custom_rule` alert (label `rule`), signalled again when the count doubles in the same window
 * (so its summary says how many, at a cost of one signal per doubling, not per match).
 *
 * With several bus partitions (joinMesh), a rule whose group_by does not name `service` is counted across them
 * (MeshCounts): windows are aligned (multiples of window_seconds), this shard's count is its share, and the alert
 * is signalled by syncMesh once the total reaches the threshold.
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
  private readonly acrossPartitions: boolean;
  private mesh?: MeshCounts<GroupCount>;
  private matches = 0;
  private alerts = 0;
  private errors = 0;
  private ungrouped = 0;

  constructor(compiled: CompiledCustomRules) {
    this.rules = compiled.rules;
    this.listFiles = compiled.listFiles;
    this.disabledRules = compiled.disabled.length;
    this.acrossPartitions = compiled.acrossPartitions;
    this.byName = new Map(this.rules.map((r) => [r.name, r]));
    // a group idle past the longest window has nothing left to count
    const ttl = Math.max(0, ...this.rules.map((r) => r.windowMs));
    // a group dropped before its share across partitions was written still has it written
    this.groups = new BoundedMap(compiled.maxGroups, ttl, (key, g) => this.mesh?.left(key, g));
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
    const mesh = rule.spansServices ? this.mesh : undefined;
    const window = mesh ? Math.floor(r.ts / rule.windowMs) : undefined;
    // across partitions windows are aligned, so every shard counts the same one; a late match stays in the current
    if (g === undefined || this.later(g, r.ts, rule, window)) {
      if (g !== undefined) mesh?.left(key, g);
      g = {
        ...(window !== undefined ? { window } : {}),
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
    if (mesh) {
      mesh.touched(key);
      return;
    }
    if (g.count < g.next) return;
    g.next = g.count * 2;
    this.signal(rule, key, g, ctx, { at: r.ts, service: r.service });
  }

  /** whether a match at `ts` (in aligned window `window`, when counted across partitions) opens the group's next window */
  private later(g: GroupCount, ts: number, rule: CompiledRule, window: number | undefined): boolean {
    if (window === undefined) return ts - g.start >= rule.windowMs;
    return g.window === undefined || window > g.window;
  }

  /**
   * the group's alert at event time `at`; `shared`: the total across partitions (this shard's matches are the
   * evidence), else the shard's own count. `service`: where a group of an old checkpoint (before service was kept)
   * is said to be
   */
  private signal(
    rule: CompiledRule,
    key: string,
    g: GroupCount,
    ctx: DetectorContext,
    how: { at: number; service: string; shared?: SharedTotal },
  ): void {
    const { shared } = how;
    let subject: AlertSubject | undefined;
    const named: string[] = [];
    const grouped: string[] = [];
    // the group_by values, as the key holds them
    const values = key.split(GROUP_KEY_SEP).slice(1);
    for (let i = 0; i < rule.groupBy.length; i++) {
      const f = rule.groupBy[i];
      const v = values[i] ?? '';
      if (i === 0 && f.subject && v !== '') subject = { type: f.subject, value: v };
      named.push(`${f.label} ${v === '' ? '(none)' : v}`);
      grouped.push(`${f.name}=${v}`);
    }
    const window = durationText(rule.windowMs);
    const who = named.length > 0 ? `${named.join(', ')} made ` : '';
    const where = `${g.endpoints.join(', ')}${g.moreEndpoints ? ', …' : ''}`;
    const why = rule.description ? `; ${rule.description}` : '';
    const count = shared ? shared.total : g.count;
    const across = shared ? ` across ${shared.partitions} partition${shared.partitions === 1 ? '' : 's'}` : '';
    const start = g.window !== undefined ? g.window * rule.windowMs : g.start;
    const observed = shared
      ? `${calls(count)} from ${iso(start)} to ${iso(start + rule.windowMs)}${across}; ${g.count} of them here, from ${iso(g.start)} to ${iso(g.last)} (${where})`
      : `${calls(count)} from ${iso(g.start)} to ${iso(g.last)} (${where})`;
    this.alerts++;
    ctx.emit({
      kind: 'custom_rule',
      severity: rule.severity,
      // one alert per group and window, wherever its later matches were
      service: g.service ?? how.service,
      // a group of one endpoint names it, so that route-scoped actions and the endpoint's risk see the alert
      ...(rule.endpointGrouped && g.endpoints.length > 0 ? { endpoint: g.endpoints[0] } : {}),
      ...(subject ? { subject } : {}),
      at: how.at,
      // signalled when the shards' counts are read, not at a record: the alert is the window's first match's here
      ...(shared ? { since: g.start } : {}),
      summary: `${rule.name}: ${who}${calls(count)} in ${window}${across} (${where})${why}`,
      expected: `fewer than ${rule.threshold} calls matching \`${rule.when}\` within ${window}${named.length > 0 ? ` per ${rule.groupBy.map((f) => f.name).join(', ')}` : ''}`,
      observed,
      recordIds: [...g.ids],
      metrics: {
        requests: count,
        threshold: rule.threshold,
        window_s: rule.windowMs / 1000,
        ...(shared ? { partitions: shared.partitions } : {}),
      },
      labels: grouped.length > 0 ? { rule: rule.name, group: grouped.join(',') } : { rule: rule.name },
    });
  }

  /**
   * the correlator has several partitions: the rules whose groups span services (group_by without `service`) are
   * counted across them, unless count_across_partitions is off or no rule's groups span services
   */
  joinMesh(scope: MeshScope): void {
    if (this.acrossPartitions && this.rules.some((r) => r.spansServices)) this.mesh = new MeshCounts(scope);
  }

  /** writes this shard's shares of the counts across partitions and signals the totals that reached a level */
  async syncMesh(ctx: DetectorContext): Promise<void> {
    await this.mesh?.sync(
      this.groups,
      (name) => this.byName.get(name),
      (rule, key, g, shared) => this.signal(rule, key, g, ctx, { at: g.last, service: g.service ?? '', shared }),
    );
  }

  snapshot(): unknown {
    return {
      v: 1,
      groups: this.groups.dump((g) => g),
      matches: this.matches,
      alerts: this.alerts,
      errors: this.errors,
      ungrouped: this.ungrouped,
      ...(this.mesh ? { finals: this.mesh.pendingFinals() } : {}),
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
        const finals = Array.isArray(s.finals) ? (s.finals as FinalShare<GroupCount>[]) : [];
        this.mesh?.restored(
          rows.map(([key, g]) => [key, g]),
          finals.filter((f) => this.byName.has(f.key.split(GROUP_KEY_SEP, 1)[0])),
        );
        this.matches = Number(s.matches) || 0;
        this.alerts = Number(s.alerts) || 0;
        this.errors = Number(s.errors) || 0;
        this.ungrouped = Number(s.ungrouped) || 0;
      },
      () => {
        this.groups.clear();
        this.mesh?.restored([], []);
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
      ...this.mesh?.stats(),
      // the process's list files (shared by the shards): how many, their entries in force, changes taken up or not
      list_files: lists.files,
      list_file_entries: lists.entries,
      list_reloads: lists.reloads,
      list_reload_failures: lists.failures,
    };
  }
}
