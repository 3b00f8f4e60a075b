import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type Alert, AlertSchema } from '../../pipeline/core/alert.js';
import type { Decision } from '../../pipeline/core/decision.js';
import { unreadableFile, unwritableFile } from '../../pipeline/core/failure-line.js';
import { silentLogger } from '../../pipeline/core/logger.js';
import { admitted, type JsonlRejections, validLines } from '../../pipeline/core/valid-jsonl.js';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
import { createPolicyEngine, decisionIdOf } from './engine.js';
import { type CompiledPolicy, loadPolicyFile } from './policy.js';

const check = TypeCompiler.Compile(AlertSchema);

/** what one rule of the policy did with the alerts */
export interface RuleOutcome {
  rule: string;
  /** alerts the rule's match selected */
  matched: number;
  /** decisions it made: each alert at most once */
  decisions: number;
  /** enforced at once (not a dry run, no approval needed, under the actions-per-minute cap) */
  enforced: number;
  /** waiting for an analyst: the rule requires approval, or the actions-per-minute cap held them */
  pendingApproval: number;
  /** of pendingApproval, held by the actions-per-minute cap */
  heldByCap: number;
  /** dry run: recorded, never enforced */
  simulated: number;
  /** an escalation step applied (prior decisions on the same subject within the rule's window) */
  escalated: number;
  /** matched without a decision because the guardrail allowlist covers the subject */
  allowlisted: number;
  /** matched without a decision because the alert has no subject the rule's action can act on */
  noSubject: number;
}

/** what a policy test found; `rejected` and `firstRejection`: the lines of the file that are not alerts */
export interface PolicyTestResult extends JsonlRejections {
  /** alerts read (an id listed twice counts once in the rules, as it last stood) */
  alerts: number;
  /** decisions the allowlist prevented */
  allowlisted: number;
  /** times the actions-per-minute cap tripped (the engine's guardrail_tripped alerts) */
  capTripped: number;
  rules: RuleOutcome[];
  /** every decision, in the order they were made */
  decisions: Decision[];
}

/**
 * What a policy would decide on past alerts, before it is deployed: the policy engine itself, on an in-memory store,
 * with no adapter (nothing is enforced anywhere), its clock at each alert's first sighting (alerts in that order), so
 * escalation windows, the allowlist and the actions-per-minute cap act as they would have. An alert is decided on as
 * it finally stood (its last severity and labels).
 */
export async function testPolicy(
  policy: CompiledPolicy,
  alerts: readonly Alert[],
): Promise<Omit<PolicyTestResult, 'alerts' | keyof JsonlRejections>> {
  let now = 0;
  let capTripped = 0;
  const engine = createPolicyEngine({
    store: new MemoryStore(),
    policy,
    adapters: {},
    logger: silentLogger,
    clock: () => now,
    onAlert: (a) => {
      if (a.kind === 'guardrail_tripped') capTripped++;
    },
  });
  const rules = new Map<string, RuleOutcome>(
    policy.rules.map((r) => [
      r.name,
      {
        rule: r.name,
        matched: 0,
        decisions: 0,
        enforced: 0,
        pendingApproval: 0,
        heldByCap: 0,
        simulated: 0,
        escalated: 0,
        allowlisted: 0,
        noSubject: 0,
      },
    ]),
  );
  const decisions: Decision[] = [];
  /** matched without a decision: allowlisted (the audit log names its decision id) or no subject */
  const undecided: { outcome: RuleOutcome; id: string }[] = [];
  try {
    // one alert once, as it last stood (an alert listed twice, as refreshed, is one alert)
    const latest = new Map<string, Alert>();
    for (const a of alerts)
      if ((latest.get(a.id)?.updatedAt ?? Number.NEGATIVE_INFINITY) <= a.updatedAt) latest.set(a.id, a);
    const ordered = [...latest.values()].sort(
      (a, b) => a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    for (const alert of ordered) {
      now = alert.firstSeen;
      const made = await engine.handleAlert(alert);
      for (const rule of policy.rules) {
        if (!rule.matches(alert)) continue;
        const outcome = rules.get(rule.name)!;
        outcome.matched++;
        const d = made.find((x) => x.rule === rule.name);
        if (!d) {
          undecided.push({ outcome, id: decisionIdOf(alert.id, rule.name) });
          continue;
        }
        decisions.push(d);
        outcome.decisions++;
        if (d.simulated) outcome.simulated++;
        else if (d.state === 'pending_approval') outcome.pendingApproval++;
        else outcome.enforced++;
        if (d.reason.includes('[held:')) outcome.heldByCap++;
        if (d.reason.includes('[escalated:')) outcome.escalated++;
      }
    }
    const allowlistedIds = new Set<string>();
    let after: string | undefined;
    do {
      const page = await engine.audit.query({ after, limit: 1000 });
      for (const e of page.entries) if (e.action === 'guardrail_allowlist') allowlistedIds.add(e.decisionId);
      after = page.next;
    } while (after);
    for (const { outcome, id } of undecided) {
      if (allowlistedIds.has(id)) outcome.allowlisted++;
      else outcome.noSubject++;
    }
    return { allowlisted: allowlistedIds.size, capTripped, rules: [...rules.values()], decisions };
  } finally {
    await engine.close();
  }
}

/**
 * the alerts of a file: a page of `GET /v1/alerts` as saved (`{"items": [...]}`), else JSONL, one alert per line, as
 * `meshward replay` writes them; what is not an alert is counted in `rejections`, the first named
 */
async function readAlerts(path: string, rejections: JsonlRejections): Promise<Alert[]> {
  const text = await readFile(path, 'utf8').catch((err: unknown) => {
    throw unreadableFile(path, err);
  });
  let page: unknown;
  try {
    page = JSON.parse(text);
  } catch {
    page = undefined; // JSONL (or not JSON at all: named line by line below)
  }
  const items = (page as { items?: unknown } | undefined)?.items;
  if (Array.isArray(items)) return items.filter((a, i) => admitted(check, a, `items[${i}]`, 'an alert', rejections));
  const alerts: Alert[] = [];
  for await (const a of validLines(text.split('\n'), check, 'an alert', rejections)) alerts.push(a);
  return alerts;
}

/** `meshward policy test`: a policy file and alerts in, what it would decide out (decisions JSONL when `out`) */
export async function runPolicyTest(opts: { policy: string; alerts: string; out?: string }): Promise<PolicyTestResult> {
  const policy = await loadPolicyFile(opts.policy);
  const rejections: JsonlRejections = { rejected: 0 };
  const alerts = await readAlerts(opts.alerts, rejections);
  const result = await testPolicy(policy, alerts);
  if (opts.out) {
    try {
      writeFileSync(
        opts.out,
        result.decisions.map((d) => JSON.stringify(d)).join('\n') + (result.decisions.length ? '\n' : ''),
      );
    } catch (err) {
      throw unwritableFile(opts.out, err);
    }
  }
  return { alerts: alerts.length, ...rejections, ...result };
}

/** the result as a table, one row per rule */
export function policyTestTable(r: PolicyTestResult): string {
  const rows = [
    '| rule | matched | decisions | enforced | pending approval (held by cap) | dry run | escalated | allowlisted | no subject for its action |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.rules.map(
      (o) =>
        `| ${o.rule} | ${o.matched} | ${o.decisions} | ${o.enforced} | ${o.pendingApproval} (${o.heldByCap}) | ${o.simulated} | ${o.escalated} | ${o.allowlisted} | ${o.noSubject} |`,
    ),
  ];
  const notes = [
    `${r.alerts} alerts${r.rejected ? ` (${r.rejected} lines rejected; first: ${r.firstRejection})` : ''}, ${r.decisions.length} decisions`,
    `allowlist prevented ${r.allowlisted}; actions-per-minute cap tripped ${r.capTripped} times`,
  ];
  return `${rows.join('\n')}\n\n${notes.join('\n')}\n`;
}
