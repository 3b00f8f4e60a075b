import { createHash } from 'node:crypto';
import type { Alert, Severity } from '../../pipeline/core/alert.js';
import type { Decision, DecisionScope, DecisionState, EnforcedDecision } from '../../pipeline/core/decision.js';
import { type AlertKind, MESHWARD_SERVICE } from '../../pipeline/core/alert-kinds.js';
import { mwError } from '../../pipeline/core/errors.js';
import { stableId } from '../../pipeline/core/ids.js';
import { KeyedLock } from '../../pipeline/core/keyed-lock.js';
import { type Logger, silentLogger } from '../../pipeline/core/logger.js';
import { counter } from '../../pipeline/core/metrics.js';
import type { Store } from '../../pipeline/store/store.js';
import type { ActionAdapter, AdapterResult } from '../adapter.js';
import { type AuditEntry, AuditLog } from './audit.js';
import { type EngineConfig, defaultEngineConfig } from './config.js';
import { type CompiledPolicy, type CompiledRule, scopeFits } from './policy.js';
import { type RetryPolicy, withRetry } from './retry.js';

/** A decision change: subscribers (the enforcement feed, the console) see every state transition. */
export interface DecisionChange {
  decision: Decision;
  /** the state before this change; null when the decision was just created */
  previousState: DecisionState | null;
}

export interface DecisionFilter {
  state?: DecisionState;
  type?: Decision['type'];
  scope?: Decision['scope'];
  /** the decisions acting on this value (an IP, a user, a token hash, a service, a route), exactly */
  value?: string;
  /** the decisions taken on this alert */
  alertId?: string;
  /** newest first; at most this many (default 100) */
  limit?: number;
}

export interface PolicyEngine {
  /**
   * decide on an alert; resolves after the adapters have been called. Returns the decisions of this alert, each
   * matching rule's latest: a refresh of the alert seen after the rule's decision expired renews it (a new decision)
   */
  handleAlert(alert: Alert): Promise<Decision[]>;
  approve(id: string, actor: string): Promise<Decision>;
  lift(id: string, actor: string, comment: string): Promise<Decision>;
  list(filter?: DecisionFilter): Promise<Decision[]>;
  get(id: string): Promise<Decision | null>;
  /** the decisions enforcement points must apply now: active and not simulated */
  enforced(): Promise<Decision[]>;
  /** expire (and revert) every decision due at `now`; returns how many expired */
  expireDue(now?: number): Promise<number>;
  /** the policy in force */
  readonly policy: CompiledPolicy;
  /** replace the policy (an admin reload): later alerts follow it; decisions already made stay */
  setPolicy(next: CompiledPolicy): void;
  /** finish applies cut off by a crash (started more than resume_after_ms ago); returns how many were resumed */
  resumeDue(now?: number): Promise<number>;
  subscribe(listener: (change: DecisionChange) => void): () => void;
  readonly audit: AuditLog;
  /** stop the expiry timer and wait for in-flight work; safe twice. Adapters are closed by their owner. */
  close(): Promise<void>;
}

export interface PolicyEngineOptions {
  store: Store;
  policy: CompiledPolicy;
  /** adapters by config key, e.g. `idp/oauth_revocation`, `gateways/haproxy` */
  adapters: Record<string, ActionAdapter>;
  logger?: Logger;
  clock?: () => number;
  /** engine-raised alerts: guardrail_tripped, action_failed */
  onAlert?: (alert: Alert) => void;
  config?: Partial<EngineConfig>;
}

/**
 * the id of the decision a rule makes on an alert: one per (alert, rule), whatever engine or replay makes it; its
 * renewals (generation 1, 2, …: the alert went on after the one before expired) have their own, as stable
 */
export const decisionIdOf = (alertId: string, rule: string, generation = 0): string =>
  generation === 0 ? stableId('dec', alertId, rule) : stableId('dec', alertId, rule, generation);

/** kinds the engine raises itself; it never acts on them (no feedback loops) */
export const ENGINE_ALERT_KINDS = new Set(['guardrail_tripped', 'action_failed']);

/** what a renewal renews: the expired decision, the id of the rule's first decision on the alert, its generation */
interface Renewal {
  of: Decision;
  firstId: string;
  generation: number;
}

interface DecisionRecord {
  decision: Decision;
  /** how long it is enforced once active (also on the decision; records stored by earlier versions lack it there) */
  ttlMs: number;
  /** adapter keys the rule restricts the decision to */
  adapters?: string[];
  /** adapter keys that applied the decision (revert goes to exactly these) */
  applied: string[];
  /** true from creation/approval until the adapters have all been called (resumed after a crash) */
  applying: boolean;
  /** when applying started; a replay resumes an apply only once it is older than resume_after_ms */
  applyingAt?: number;
}

const K = {
  dec: (id: string) => `pa:dec:${id}`,
  created: 'pa:idx:created',
  /** the decisions still to end, by when: an active one's until, a pending one's approval deadline */
  until: 'pa:idx:until',
  /** decisions whose apply has started and not finished, scored by when it started */
  applying: 'pa:idx:applying',
  /** one resume per interrupted apply, whichever engine (or replay) gets there first */
  resume: (id: string, applyingAt: number) => `pa:resume:${id}:${applyingAt}`,
  subject: (scope: string, value: string) => `pa:subj:${scope}:${value}`,
  rate: (minute: number) => `pa:rate:${minute}`,
  trip: (minute: number) => `pa:trip:${minute}`,
  skip: (id: string) => `pa:skip:${id}`,
  /** the generation of the last renewal of a rule's decision on an alert, by the first decision's id */
  renewed: (firstId: string) => `pa:renewed:${firstId}`,
};

const SUBJECT_SCOPE: Record<string, DecisionScope> = {
  user: 'user',
  token: 'token',
  ip: 'ip',
  principal: 'principal',
  session: 'session',
  service: 'service',
  endpoint: 'route',
  route: 'route',
};

const decisionsTotal = counter('meshward_policy_decisions_total', 'Decisions created by the policy engine', [
  'type',
  'state',
]);
const adapterCalls = counter('meshward_policy_adapter_calls_total', 'Adapter calls made by the policy engine', [
  'adapter',
  'op',
  'outcome',
]);
const guardrailHits = counter('meshward_policy_guardrail_total', 'Decisions stopped or held by a guardrail', [
  'guardrail',
]);
const renewalsTotal = counter(
  'meshward_policy_renewals_total',
  'Decisions renewed because their alert went on after they expired',
  ['rule'],
);
const rulesNotApplicable = counter(
  'meshward_policy_rule_not_applicable_total',
  'Rules that matched an alert whose subject gives no value for the rule scope',
  ['rule'],
);

/**
 * The subject value a scope acts on, from the alert; null when the alert has none. Without an explicit scope the
 * alert subject's type decides, provided the decision type can act on it (no revoke_token on an IP).
 */
function targetOf(
  type: Decision['type'],
  scope: DecisionScope | undefined,
  alert: Alert,
): { scope: DecisionScope; value: string } | null {
  if (scope === 'service') return { scope, value: alert.service };
  if (scope === 'route') return alert.endpoint ? { scope, value: alert.endpoint } : null;
  if (!alert.subject) return null;
  const derived = SUBJECT_SCOPE[alert.subject.type];
  if (!derived || (scope && derived !== scope) || !scopeFits(type, derived)) return null;
  return { scope: derived, value: alert.subject.value };
}

/** a decision value safe for the audit log: raw tokens (not `h1:` hashes) are shown as a short digest only */
function auditValue(scope: DecisionScope, value: string): string {
  if (scope !== 'token' || /^h1:[0-9a-f]{32}$/.test(value)) return value;
  return `[raw token sha256:${createHash('sha256').update(value).digest('hex').slice(0, 12)}]`;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const isoOf = (ms: number) => new Date(ms).toISOString();

/** when a live decision ends unless someone acts: a pending one at its approval deadline, an active one at its until */
function endOf(d: Decision): number {
  return (d.state === 'pending_approval' ? d.approvalDeadline : d.until) ?? 0;
}

/**
 * A stored record as this version reads it. Records of earlier versions had no ttlMs on the decision, and a pending
 * decision's `until` was its approval deadline (it expired unapproved then): it is read as such, with no until.
 */
function recordOf(raw: string): DecisionRecord {
  return upgraded(JSON.parse(raw) as DecisionRecord);
}

/** whether a stored record was written by an earlier version (see recordOf) */
const storedByEarlierVersion = (stored: DecisionRecord): boolean => stored.decision.ttlMs === undefined;

function upgraded(rec: DecisionRecord): DecisionRecord {
  const d = rec.decision;
  if (d.ttlMs !== undefined) return rec;
  const { until, ...rest } = d;
  rec.decision =
    d.state === 'pending_approval' && d.approvalDeadline === undefined
      ? { ...rest, ttlMs: rec.ttlMs, approvalDeadline: until }
      : { ...d, ttlMs: rec.ttlMs };
  return rec;
}

/**
 * Whether a refresh of the alert renews the rule's latest decision on it: that decision expired at the end of its
 * enforcement (not unapproved: it had an `until`; not lifted, failed or still live) and the alert, still open, was
 * seen after that end. A decision an earlier version stored does not say whether it was ever enforced (a pending
 * one's until was its approval deadline): it is not renewed.
 */
function renewalDue(latest: Decision, alert: Alert, legacy: boolean): boolean {
  return (
    !legacy &&
    latest.state === 'expired' &&
    latest.until !== undefined &&
    alert.state !== 'resolved' &&
    alert.lastSeen > latest.until
  );
}

/** the decision as adapters enforce it: active, with its end (an active decision always has one) */
function enforcing(d: Decision): EnforcedDecision {
  if (d.until === undefined)
    throw mwError('INTERNAL', `decision ${d.id} is ${d.state} with no end to enforce it until`);
  return d as EnforcedDecision;
}

export function createPolicyEngine(opts: PolicyEngineOptions): PolicyEngine {
  const { store, adapters } = opts;
  let policy = opts.policy;
  const logger = opts.logger ?? silentLogger;
  const clock = opts.clock ?? Date.now;
  const cfg: EngineConfig = { ...defaultEngineConfig, ...opts.config };
  const retry: RetryPolicy = {
    maxAttempts: cfg.retry_max_attempts,
    baseDelayMs: cfg.retry_base_delay_ms,
    maxDelayMs: cfg.retry_max_delay_ms,
  };
  const audit = new AuditLog(store);
  const listeners = new Set<(c: DecisionChange) => void>();
  /** work on one decision id runs one at a time (approve vs lift vs expiry vs replay) */
  const locks = new KeyedLock<string>();
  let closed = false;

  const withLock = <T>(id: string, fn: () => Promise<T>): Promise<T> => locks.run(id, fn);

  const writeAudit = async (e: Omit<AuditEntry, 'ts'>) => {
    try {
      await audit.write({ ts: clock(), ...e });
    } catch (err) {
      logger.error({ err, decisionId: e.decisionId, action: e.action }, 'audit write failed');
    }
  };

  function emit(decision: Decision, previousState: DecisionState | null) {
    for (const l of listeners) {
      try {
        l({ decision, previousState });
      } catch (err) {
        logger.warn({ err }, 'decision listener threw');
      }
    }
  }

  function raise(kind: AlertKind, severity: Severity, summary: string, parts: string[], subject?: Alert['subject']) {
    if (!opts.onAlert) return;
    const now = clock();
    const alert: Alert = {
      v: 1,
      id: stableId('alert', kind, ...parts),
      kind,
      severity,
      state: 'open',
      service: MESHWARD_SERVICE,
      ...(subject ? { subject } : {}),
      firstSeen: now,
      lastSeen: now,
      count: 1,
      summary,
      evidence: { recordIds: [], metrics: {} },
      updatedAt: now,
    };
    try {
      opts.onAlert(alert);
    } catch (err) {
      logger.warn({ err, kind }, 'onAlert threw');
    }
  }

  async function load(id: string): Promise<DecisionRecord | null> {
    const raw = await store.get(K.dec(id));
    return raw ? recordOf(raw) : null;
  }

  async function save(rec: DecisionRecord): Promise<void> {
    const terminal =
      rec.decision.state === 'expired' || rec.decision.state === 'lifted' || rec.decision.state === 'failed';
    await store.set(K.dec(rec.decision.id), JSON.stringify(rec), terminal ? cfg.retention_ms : undefined);
    if (terminal) await store.zrem(K.until, rec.decision.id);
    else await store.zadd(K.until, endOf(rec.decision), rec.decision.id);
  }

  async function transition(rec: DecisionRecord, state: DecisionState, patch: Partial<Decision> = {}) {
    const previous = rec.decision.state;
    rec.decision = { ...rec.decision, ...patch, state, updatedAt: clock() };
    await save(rec);
    emit(rec.decision, previous);
  }

  function targetsFor(rec: DecisionRecord): [string, ActionAdapter][] {
    return Object.entries(adapters).filter(
      ([key, a]) => (!rec.adapters || rec.adapters.includes(key)) && a.supports(rec.decision),
    );
  }

  /** call one adapter with retries, auditing every attempt; resolves true when it succeeded */
  async function callAdapter(rec: DecisionRecord, key: string, adapter: ActionAdapter, op: 'apply' | 'revert') {
    const d = rec.decision;
    const base = { actor: 'system', action: `adapter_${op}`, decisionId: d.id, alertId: d.alertId, adapter: key };
    try {
      const result: AdapterResult = await withRetry(
        () => (op === 'apply' ? adapter.apply(enforcing(d)) : adapter.revert(d)),
        retry,
        (err, attempt, willRetry) => {
          adapterCalls.inc({ adapter: key, op, outcome: willRetry ? 'retry' : 'error' });
          void writeAudit({
            ...base,
            outcome: willRetry ? 'retry' : 'error',
            detail: clip(`attempt ${attempt + 1}: ${(err as Error).message ?? String(err)}`, 500),
          });
        },
      );
      adapterCalls.inc({ adapter: key, op, outcome: result.ok ? 'ok' : 'refused' });
      await writeAudit({ ...base, outcome: result.ok ? 'ok' : 'refused', detail: clip(result.detail, 500) });
      return { ok: result.ok, detail: result.detail };
    } catch (err) {
      return { ok: false, detail: (err as Error).message ?? String(err) };
    }
  }

  async function applyAll(rec: DecisionRecord): Promise<void> {
    const targets = targetsFor(rec).filter(([key]) => !rec.applied.includes(key));
    const d = rec.decision;
    if (targets.length === 0 && rec.applied.length === 0) {
      await writeAudit({
        actor: 'system',
        action: 'adapter_apply',
        decisionId: d.id,
        alertId: d.alertId,
        outcome: 'skipped',
        detail: `no adapter supports ${d.type}/${d.scope}; enforced through the decision feed only`,
      });
    }
    const results = await Promise.all(
      targets.map(async ([key, a]) => ({ key, ...(await callAdapter(rec, key, a, 'apply')) })),
    );
    const failed = results.filter((r) => !r.ok);
    for (const r of results) if (r.ok) rec.applied.push(r.key);
    rec.applying = false;
    for (const f of failed) {
      raise('action_failed', 'high', clip(`${f.key} could not apply ${d.type} on ${d.scope}: ${f.detail}`, 300), [
        d.id,
        f.key,
        'apply',
      ]);
    }
    if (failed.length > 0 && rec.applied.length === 0) {
      await transition(rec, 'failed');
      await writeAudit({
        actor: 'system',
        action: 'failed',
        decisionId: d.id,
        alertId: d.alertId,
        outcome: 'error',
        detail: `every adapter failed: ${failed.map((f) => f.key).join(', ')}`,
      });
      decisionsTotal.inc({ type: d.type, state: 'failed' });
    } else {
      await save(rec);
    }
    // the apply is finished either way: out of the in-flight index
    await store.zrem(K.applying, d.id);
  }

  /**
   * Finish an apply an engine started and did not finish (it died between deciding and enforcing): adapters are
   * idempotent. Call under the decision's lock with a fresh record; false when not due or another engine claimed it.
   */
  async function resumeApply(rec: DecisionRecord): Promise<boolean> {
    const startedAt = rec.applyingAt ?? 0;
    if (!rec.applying || rec.decision.state !== 'active' || clock() - startedAt <= cfg.resume_after_ms) return false;
    // the claim outlives the race between engines that read the same stale record; an engine that dies holding it
    // leaves the record stale, so the apply is resumed again once the claim has expired
    if (!(await store.setIfAbsent(K.resume(rec.decision.id, startedAt), '1', cfg.resume_after_ms + 10_000)))
      return false;
    await writeAudit({
      actor: 'system',
      action: 'apply_resumed',
      decisionId: rec.decision.id,
      alertId: rec.decision.alertId,
      outcome: 'ok',
      detail: `resuming an apply started at ${new Date(startedAt).toISOString()}`,
    });
    rec.applyingAt = clock();
    await store.zadd(K.applying, rec.applyingAt, rec.decision.id);
    await save(rec);
    await applyAll(rec);
    return true;
  }

  async function revertAll(rec: DecisionRecord): Promise<void> {
    const d = rec.decision;
    const applied = [...rec.applied];
    await Promise.all(
      applied.map(async (key) => {
        const adapter = adapters[key];
        const r = adapter
          ? await callAdapter(rec, key, adapter, 'revert')
          : { ok: false, detail: `adapter ${key} is not configured any more` };
        if (r.ok) rec.applied = rec.applied.filter((k) => k !== key);
        else
          raise('action_failed', 'high', clip(`${key} could not revert ${d.type} on ${d.scope}: ${r.detail}`, 300), [
            d.id,
            key,
            'revert',
          ]);
      }),
    );
  }

  /**
   * The latest of a rule's decisions on an alert: the first (generation 0) or its last renewal; null when none was
   * made. `pa:renewed:<first id>` notes the last renewal's generation; a renewal an engine made and died before
   * noting is found when the renewal is tried again (its id is taken). `legacy`: stored by an earlier version.
   */
  async function latestDecision(
    alertId: string,
    rule: string,
  ): Promise<{ rec: DecisionRecord; generation: number; legacy: boolean } | null> {
    const first = decisionIdOf(alertId, rule);
    const [raw, noted] = await store.mget([K.dec(first), K.renewed(first)]);
    const generation = Number(noted ?? 0);
    if (generation > 0) {
      const rec = await load(decisionIdOf(alertId, rule, generation));
      if (rec) return { rec, generation, legacy: false };
    }
    if (!raw) return null;
    const stored = JSON.parse(raw) as DecisionRecord;
    const legacy = storedByEarlierVersion(stored);
    return { rec: upgraded(stored), generation: 0, legacy };
  }

  /** note the last renewal of a rule's decisions on an alert, for as long as it can be live and then kept */
  async function noteRenewal(renewal: Renewal, ttlMs: number): Promise<void> {
    await store.set(K.renewed(renewal.firstId), String(renewal.generation), 2 * ttlMs + cfg.retention_ms);
  }

  async function decide(alert: Alert, rule: CompiledRule): Promise<Decision | null> {
    const target = targetOf(rule.type, rule.scope, alert);
    if (!target) {
      rulesNotApplicable.inc({ rule: rule.name });
      logger.debug({ rule: rule.name, alertId: alert.id }, 'rule matched but the alert has no subject for its scope');
      return null;
    }
    const firstId = decisionIdOf(alert.id, rule.name);
    // the rule's decisions on this alert, the first and its renewals, are made one at a time
    return withLock(firstId, async () => {
      const latest = await latestDecision(alert.id, rule.name);
      if (!latest) return create(alert, rule, target, firstId);
      const { rec, generation, legacy } = latest;
      const id = rec.decision.id;
      if (renewalDue(rec.decision, alert, legacy)) {
        const renewalId = decisionIdOf(alert.id, rule.name, generation + 1);
        const renewal: Renewal = { of: rec.decision, firstId, generation: generation + 1 };
        const made = await withLock(renewalId, () => create(alert, rule, target, renewalId, renewal));
        // not made (the allowlist now covers it): the alert's decision for the rule stays the expired one
        return made ?? rec.decision;
      }
      // a replay of an alert whose apply an engine did not finish: resume it once it is stale (else resumeDue will)
      if (id === firstId) {
        await resumeApply(rec);
        return rec.decision;
      }
      return withLock(id, async () => {
        const fresh = (await load(id)) ?? rec;
        await resumeApply(fresh);
        return fresh.decision;
      });
    });
  }

  /**
   * Make a rule's decision on an alert under id `id` (held under its lock), through every guardrail: the allowlist
   * (null when it covers the target), escalation, the actions-per-minute cap, dry run and approval. `renewal`: it
   * renews the rule's decision on the alert that expired while the alert went on.
   */
  async function create(
    alert: Alert,
    rule: CompiledRule,
    ruleTarget: { scope: DecisionScope; value: string },
    id: string,
    renewal?: Renewal,
  ): Promise<Decision | null> {
    const now = clock();
    let target = ruleTarget;
    const prior = (
      await store.zrange(K.subject(target.scope, target.value), now - rule.escalationWindowMs, now)
    ).filter((m) => m !== id).length;
    let type = rule.type;
    let ttlMs = rule.ttlMs;
    let acr = rule.acr;
    let escalatedBy: number | undefined;
    for (const step of rule.escalate) {
      if (prior < step.after) break;
      escalatedBy = step.after;
      const stepType = step.type ?? type;
      const stepTarget = step.scope ? (targetOf(stepType, step.scope, alert) ?? target) : target;
      if (scopeFits(stepType, stepTarget.scope)) {
        type = stepType;
        target = stepTarget;
      }
      if (step.ttlMs) ttlMs = step.ttlMs;
      if (step.acr) acr = step.acr;
    }
    // the rule's own target and what the decision would act on after escalation (a step may change it): either
    // allowlisted stops it (an allowlisted IP's alerts do not escalate to its service either); a route is its service's
    const allowlistedAs = (t: { scope: DecisionScope; value: string }) =>
      policy.allowlisted(t.scope, t.value)
        ? `${t.scope} ${auditValue(t.scope, t.value)}`
        : t.scope === 'route' && policy.allowlisted('service', alert.service)
          ? `service ${alert.service} (route ${t.value})`
          : undefined;
    const listed = allowlistedAs(ruleTarget) ?? allowlistedAs(target);
    if (listed) {
      guardrailHits.inc({ guardrail: 'allowlist' });
      if (await store.setIfAbsent(K.skip(id), '1', cfg.retention_ms)) {
        await writeAudit({
          actor: 'system',
          action: 'guardrail_allowlist',
          decisionId: id,
          alertId: alert.id,
          outcome: 'skipped',
          detail: `${listed} is allowlisted; rule ${rule.name} not applied`,
        });
      }
      return null;
    }
    const route = rule.route === 'alert' ? alert.endpoint : rule.route;
    const why = `${rule.name}: ${alert.kind} (${alert.severity}) on ${alert.service}: ${alert.summary}`;
    let state: DecisionState = rule.dryRun ? 'active' : rule.requiresApproval ? 'pending_approval' : 'active';
    let held = false;
    if (state === 'active' && !rule.dryRun) {
      const minute = Math.floor(now / 60_000);
      const n = await store.incr(K.rate(minute), 1, 120_000);
      if (n > policy.maxActionsPerMinute) {
        state = 'pending_approval';
        held = true;
        guardrailHits.inc({ guardrail: 'rate_cap' });
        if (await store.setIfAbsent(K.trip(minute), '1', 120_000)) {
          raise(
            'guardrail_tripped',
            'high',
            `more than ${policy.maxActionsPerMinute} actions in one minute: new decisions are held for approval`,
            [String(minute)],
          );
        }
      }
    }
    // enforced for ttlMs from when it becomes active; held for approval, it waits at most as long
    const pending = state === 'pending_approval';
    const decision: Decision = {
      v: 1,
      id,
      type,
      scope: target.scope,
      value: target.value,
      ...(route ? { route } : {}),
      service: alert.service,
      ...(pending ? { approvalDeadline: now + ttlMs } : { until: now + ttlMs }),
      ttlMs,
      reason: clip(
        `${why}${renewal ? ` [renews ${renewal.of.id}: the alert went on after it ended]` : ''}${escalatedBy ? ` [escalated: ${prior} prior decisions]` : ''}${held ? ' [held: actions-per-minute cap]' : ''}`,
        1000,
      ),
      alertId: alert.id,
      rule: rule.name,
      ...(renewal ? { renews: renewal.of.id } : {}),
      simulated: rule.dryRun,
      state,
      createdAt: now,
      updatedAt: now,
      ...(type === 'step_up' && acr ? { acr } : {}),
    };
    const rec: DecisionRecord = {
      decision,
      ttlMs,
      ...(rule.adapters ? { adapters: rule.adapters } : {}),
      applied: [],
      applying: state === 'active' && !rule.dryRun,
      applyingAt: now,
    };
    // indexed before the record exists, so a crash right after creating it still leaves it for resumeDue
    if (rec.applying) await store.zadd(K.applying, now, id);
    if (!(await store.setIfAbsent(K.dec(id), JSON.stringify(rec)))) {
      // another engine (or a replay) made it first
      if (renewal) await noteRenewal(renewal, ttlMs);
      return (await load(id))?.decision ?? null;
    }
    if (renewal) await noteRenewal(renewal, ttlMs);
    await store.zadd(K.created, now, id);
    await store.zadd(K.until, endOf(decision), id);
    await store.zadd(K.subject(decision.scope, decision.value), now, id);
    decisionsTotal.inc({ type, state: rule.dryRun ? 'simulated' : state });
    if (renewal) {
      renewalsTotal.inc({ rule: rule.name });
      await writeAudit({
        actor: 'system',
        action: 'renewed',
        decisionId: renewal.of.id,
        alertId: alert.id,
        outcome: 'ok',
        detail: `the alert was seen at ${isoOf(alert.lastSeen)}, after this decision ended at ${isoOf(renewal.of.until ?? 0)}: renewed as ${id}`,
      });
    }
    await writeAudit({
      actor: 'system',
      action: 'decision_created',
      decisionId: id,
      alertId: alert.id,
      outcome: rule.dryRun ? 'simulated' : held ? 'held' : state,
      detail: clip(
        `${type} ${decision.scope} ${auditValue(decision.scope, decision.value)} for ${Math.round(ttlMs / 1000)}s${pending ? `, held for approval until ${isoOf(now + ttlMs)}` : ''}; ${decision.reason}`,
        1000,
      ),
    });
    emit(decision, null);
    if (rule.dryRun) {
      for (const [key] of targetsFor(rec)) {
        await writeAudit({
          actor: 'system',
          action: 'adapter_apply',
          decisionId: id,
          alertId: alert.id,
          adapter: key,
          outcome: 'simulated',
          detail: 'dry run: adapter not called',
        });
      }
    } else if (rec.applying) {
      await applyAll(rec);
    }
    return rec.decision;
  }

  const engine: PolicyEngine = {
    audit,

    async handleAlert(alert) {
      if (closed || ENGINE_ALERT_KINDS.has(alert.kind)) return [];
      const out: Decision[] = [];
      for (const rule of policy.rules) {
        if (!rule.matches(alert)) continue;
        const d = await decide(alert, rule);
        if (d) out.push(d);
      }
      return out;
    },

    approve(id, actor) {
      return withLock(id, async () => {
        const rec = await load(id);
        if (!rec) throw mwError('NOT_FOUND', `decision ${id}`);
        if (rec.decision.state !== 'pending_approval') {
          throw mwError('CONFLICT', `decision ${id} is ${rec.decision.state}, not pending_approval`);
        }
        const now = clock();
        // past its deadline it is as good as expired (the expiry timer has not come round yet)
        if (now >= endOf(rec.decision))
          throw mwError('CONFLICT', `decision ${id} expired unapproved at ${isoOf(endOf(rec.decision))}`);
        rec.applying = !rec.decision.simulated;
        rec.applyingAt = now;
        if (rec.applying) await store.zadd(K.applying, now, id);
        const until = now + rec.ttlMs;
        await transition(rec, 'active', { until });
        await writeAudit({
          actor,
          action: 'approved',
          decisionId: id,
          alertId: rec.decision.alertId,
          outcome: 'ok',
          detail: `approved; active until ${isoOf(until)}`,
        });
        if (rec.applying) await applyAll(rec);
        return rec.decision;
      });
    },

    lift(id, actor, comment) {
      return withLock(id, async () => {
        const rec = await load(id);
        if (!rec) throw mwError('NOT_FOUND', `decision ${id}`);
        if (rec.decision.state !== 'active' && rec.decision.state !== 'pending_approval') {
          throw mwError('CONFLICT', `decision ${id} is ${rec.decision.state}`);
        }
        await revertAll(rec);
        rec.applying = false;
        await transition(rec, 'lifted');
        await writeAudit({
          actor,
          action: 'lifted',
          decisionId: id,
          alertId: rec.decision.alertId,
          outcome: rec.applied.length ? 'partial' : 'ok',
          detail: clip(comment || '(no comment)', 500),
        });
        return rec.decision;
      });
    },

    async list(filter = {}) {
      const limit = Math.min(filter.limit ?? 100, 1000);
      const out: Decision[] = [];
      const seen = new Set<string>();
      let max = Number.POSITIVE_INFINITY;
      // walk the creation index newest first in pages (bounded), filtering as we go
      for (let page = 0; page < 50 && out.length < limit; page++) {
        const ids = (await store.zrange(K.created, 0, max, { rev: true, limit: 200 })).filter((id) => !seen.has(id));
        if (ids.length === 0) break;
        const raws = await store.mget(ids.map(K.dec));
        for (const [i, raw] of raws.entries()) {
          seen.add(ids[i]);
          if (!raw) {
            await store.zrem(K.created, ids[i]); // the record aged out (retention): drop its index entry
            continue;
          }
          const d = recordOf(raw).decision;
          max = Math.min(max, d.createdAt);
          if (filter.state && d.state !== filter.state) continue;
          if (filter.type && d.type !== filter.type) continue;
          if (filter.scope && d.scope !== filter.scope) continue;
          if (filter.value !== undefined && d.value !== filter.value) continue;
          if (filter.alertId && d.alertId !== filter.alertId) continue;
          out.push(d);
          if (out.length >= limit) break;
        }
      }
      return out;
    },

    async get(id) {
      return (await load(id))?.decision ?? null;
    },

    async enforced() {
      const ids = await store.zrange(K.until, clock(), Number.POSITIVE_INFINITY);
      if (ids.length === 0) return [];
      const raws = await store.mget(ids.map(K.dec));
      return raws
        .filter((r): r is string => r !== null)
        .map((r) => recordOf(r).decision)
        .filter((d) => d.state === 'active' && !d.simulated);
    },

    async expireDue(now = clock()) {
      const ids = await store.zrange(K.until, 0, now, { limit: 500 });
      let n = 0;
      for (const id of ids) {
        await withLock(id, async () => {
          const rec = await load(id);
          if (!rec) {
            await store.zrem(K.until, id);
            return;
          }
          const d = rec.decision;
          if (d.state !== 'active' && d.state !== 'pending_approval') {
            await store.zrem(K.until, id);
            return;
          }
          if (endOf(d) > now) return;
          if (d.state === 'active') await revertAll(rec);
          rec.applying = false;
          await transition(rec, 'expired');
          await writeAudit({
            actor: 'system',
            action: 'expired',
            decisionId: id,
            alertId: d.alertId,
            outcome: rec.applied.length ? 'partial' : 'ok',
            detail: rec.applied.length
              ? `still applied at ${rec.applied.join(', ')}`
              : d.state === 'pending_approval'
                ? `expired unapproved: not approved by ${isoOf(endOf(d))}`
                : 'expired',
          });
          n++;
        });
      }
      return n;
    },

    get policy() {
      return policy;
    },

    setPolicy(next) {
      policy = next;
    },

    async resumeDue(now = clock()) {
      const ids = await store.zrange(K.applying, 0, now - cfg.resume_after_ms, { limit: 100 });
      let n = 0;
      for (const id of ids) {
        await withLock(id, async () => {
          const rec = await load(id);
          // finished, lifted, or never created (crash between indexing and creating): nothing left to resume
          if (!rec?.applying || rec.decision.state !== 'active') {
            await store.zrem(K.applying, id);
            return;
          }
          if (await resumeApply(rec)) n++;
        });
      }
      return n;
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await locks.idle();
    },
  };

  let timer: NodeJS.Timeout | undefined;
  if (cfg.expiry_interval_ms > 0) {
    let running = false;
    timer = setInterval(() => {
      if (running || closed) return;
      running = true;
      engine
        .expireDue()
        .catch((err) => logger.error({ err }, 'decision expiry failed'))
        .then(() => engine.resumeDue())
        .catch((err) => logger.error({ err }, 'resuming interrupted applies failed'))
        .finally(() => {
          running = false;
        });
    }, cfg.expiry_interval_ms);
    timer.unref();
  }
  return engine;
}
