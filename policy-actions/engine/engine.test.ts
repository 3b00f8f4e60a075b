import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../pipeline/core/alert.js';
import { stableId } from '../../pipeline/core/ids.js';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
import type { DecisionChange, PolicyEngine } from './engine.js';
import { type CompiledPolicy, parsePolicy } from './policy.js';
import { makeAlert } from './testdata/alerts.js';
import type { RecordingAdapter } from './testdata/recording-adapter.js';
import { engineTestParts, startTestEngine } from './testdata/test-engine.js';

const T0 = 1_760_000_000_000;

describe('policy engine', () => {
  let now: number;
  let store: MemoryStore;
  let policy: CompiledPolicy;
  let idp: RecordingAdapter;
  let gateway: RecordingAdapter;
  let alerts: Alert[];
  let changes: DecisionChange[];
  let engine: PolicyEngine;
  let dir: string;

  const start = (s = store) =>
    startTestEngine({
      store: s,
      policy,
      idp,
      gateway,
      clock: () => now,
      onChange: (c) => changes.push(c),
      onAlert: (a) => alerts.push(a),
    });

  beforeEach(() => {
    now = T0;
    ({ dir, store, policy, idp, gateway } = engineTestParts('mw-engine-', () => now));
    alerts = [];
    changes = [];
    engine = start();
  });
  afterEach(async () => {
    await engine.close();
    await engine.close();
    await store.close();
  });

  it('turns a matching alert into an active decision applied by the supporting adapter, and audits it', async () => {
    const alert = makeAlert({ subject: { type: 'token', value: 'tok-abc' } });
    const [d] = await engine.handleAlert(alert);
    expect(d).toMatchObject({
      id: stableId('dec', alert.id, 'revoke-stolen-token'),
      type: 'revoke_token',
      scope: 'token',
      value: 'tok-abc',
      state: 'active',
      simulated: false,
      until: T0 + 3_600_000,
      alertId: alert.id,
      rule: 'revoke-stolen-token',
      service: 'orders',
    });
    expect(idp.calls).toEqual([{ op: 'apply', id: d.id, type: 'revoke_token', value: 'tok-abc' }]);
    expect(gateway.calls).toEqual([]);
    const audit = await engine.audit.query({ decisionId: d.id });
    expect(audit.entries.map((e) => [e.action, e.outcome, e.adapter ?? null])).toEqual([
      ['decision_created', 'active', null],
      ['adapter_apply', 'ok', 'idp/test'],
    ]);
    expect(audit.entries[0]).toMatchObject({ actor: 'system', alertId: alert.id, ts: T0 });
    expect(changes.map((c) => [c.decision.id, c.previousState, c.decision.state])).toEqual([[d.id, null, 'active']]);
    expect(await engine.enforced()).toEqual([d]);
  });

  it('does not act on alerts below min severity, of other kinds, or without a subject for the scope', async () => {
    expect(await engine.handleAlert(makeAlert({ severity: 'medium' }))).toEqual([]);
    expect(await engine.handleAlert(makeAlert({ kind: 'error_burst' }))).toEqual([]);
    expect(await engine.handleAlert(makeAlert({ subject: { type: 'ip', value: '203.0.113.9' } }))).toEqual([]);
    expect(await engine.handleAlert(makeAlert({ kind: 'action_failed' }))).toEqual([]);
    expect(idp.calls).toEqual([]);
  });

  it('the same alert never acts twice: replays in-process, concurrently, and after a restart over the same store', async () => {
    const alert = makeAlert();
    const [a, b] = await Promise.all([engine.handleAlert(alert), engine.handleAlert(alert)]);
    expect(a[0].id).toBe(b[0].id);
    await engine.handleAlert(alert);
    expect(idp.applies()).toBe(1);
    await engine.close();
    await store.close();
    store = new MemoryStore({ dataDir: dir, clock: () => now });
    engine = start(store);
    const [again] = await engine.handleAlert(alert);
    expect(again.id).toBe(a[0].id);
    expect(again.state).toBe('active');
    expect(idp.applies()).toBe(1);
    const created = (await engine.audit.query({ limit: 100 })).entries.filter((e) => e.action === 'decision_created');
    expect(created).toHaveLength(1);
  });

  it('an apply interrupted by a crash is resumed by a replay of the alert once resume_after_ms has passed', async () => {
    const alert = makeAlert();
    idp.hangNext = true;
    void engine.handleAlert(alert); // engine "dies" inside the adapter call
    for (let i = 0; i < 100 && idp.applies() === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(idp.applies()).toBe(1);
    await store.flush();
    const restarted = new MemoryStore({ dataDir: dir, clock: () => now });
    const engine2 = start(restarted);
    now += 10_000;
    const [early] = await engine2.handleAlert(alert);
    expect(early.state).toBe('active');
    expect(idp.applies()).toBe(1);
    now += 60_000;
    await engine2.handleAlert(alert);
    expect(idp.applies()).toBe(2);
    const audit = await engine2.audit.query({ decisionId: early.id });
    expect(audit.entries.map((e) => [e.action, e.outcome])).toEqual([
      ['decision_created', 'active'],
      ['apply_resumed', 'ok'],
      ['adapter_apply', 'ok'],
    ]);
    await engine2.handleAlert(alert);
    expect(idp.applies()).toBe(2);
    await engine2.close();
    await restarted.close();
    engine = start(); // the afterEach closes this one; the hung one is abandoned like a dead process
  });

  it('dry-run rules decide and audit but never call an adapter, and stay out of enforcement', async () => {
    const [d] = await engine.handleAlert(
      makeAlert({ kind: 'credential_stuffing', subject: { type: 'ip', value: '203.0.113.5' } }),
    );
    expect(d).toMatchObject({ simulated: true, state: 'active', type: 'deny', scope: 'ip' });
    expect(gateway.calls).toEqual([]);
    const audit = await engine.audit.query({ decisionId: d.id });
    expect(audit.entries.map((e) => [e.action, e.outcome])).toEqual([
      ['decision_created', 'simulated'],
      ['adapter_apply', 'simulated'],
    ]);
    expect(await engine.enforced()).toEqual([]);
    now += 11 * 60_000;
    expect(await engine.expireDue()).toBe(1);
    expect(gateway.calls).toEqual([]);
    expect((await engine.get(d.id))?.state).toBe('expired');
  });

  it('requires_approval holds the decision until an analyst approves it; a second approval conflicts', async () => {
    const [d] = await engine.handleAlert(
      makeAlert({ kind: 'brute_force', severity: 'medium', subject: { type: 'user', value: 'alice' } }),
    );
    expect(d).toMatchObject({ state: 'pending_approval', type: 'step_up', acr: 'urn:meshward:acr:mfa', scope: 'user' });
    expect(idp.calls).toEqual([]);
    now += 5 * 60_000;
    const approved = await engine.approve(d.id, 'analyst-7');
    expect(approved).toMatchObject({ state: 'active', until: now + 30 * 60_000 });
    expect(idp.applies()).toBe(1);
    await expect(engine.approve(d.id, 'analyst-7')).rejects.toMatchObject({ code: 'MW_ERR_CONFLICT' });
    await expect(engine.approve('dec_missing', 'x')).rejects.toMatchObject({ code: 'MW_ERR_NOT_FOUND' });
    const audit = await engine.audit.query({ decisionId: d.id });
    expect(audit.entries.find((e) => e.action === 'approved')).toMatchObject({ actor: 'analyst-7', outcome: 'ok' });
  });

  it('a decision held for approval has no enforcement end: it says until when it may be approved and for how long it would be enforced', async () => {
    const stepUp = (user: string) =>
      makeAlert({ kind: 'brute_force', severity: 'medium', subject: { type: 'user', value: user } });
    const [d] = await engine.handleAlert(stepUp('alice'));
    const [other] = await engine.handleAlert(stepUp('bob'));
    for (const pending of [d, other, await engine.get(d.id), (await engine.list({ state: 'pending_approval' }))[0]]) {
      expect(pending).toMatchObject({
        state: 'pending_approval',
        ttlMs: 30 * 60_000,
        approvalDeadline: T0 + 30 * 60_000,
      });
      expect(pending).not.toHaveProperty('until');
    }
    // approved 5 minutes on: enforced for its 30 minutes from then
    now += 5 * 60_000;
    const approved = await engine.approve(d.id, 'analyst-7');
    expect(approved).toMatchObject({ state: 'active', until: now + 30 * 60_000, ttlMs: 30 * 60_000 });
    expect(await engine.enforced()).toEqual([approved]);
    const audit = await engine.audit.query({ decisionId: d.id });
    expect(audit.entries.map((e) => e.detail)).toEqual([
      expect.stringMatching(/^step_up user alice for 1800s, held for approval until 2025-10-09T09:23:20.000Z; /),
      `approved; active until ${new Date(now + 30 * 60_000).toISOString()}`,
      expect.any(String),
    ]);
    // the other is not approved by its deadline: it expires unapproved, never having had an enforcement end
    now = T0 + 30 * 60_000 - 1;
    expect(await engine.expireDue()).toBe(0);
    now += 1;
    await expect(engine.approve(other.id, 'analyst-7')).rejects.toMatchObject({
      code: 'MW_ERR_CONFLICT',
      message: expect.stringContaining(`expired unapproved at ${new Date(T0 + 30 * 60_000).toISOString()}`),
    });
    expect(await engine.expireDue()).toBe(1);
    const expired = await engine.get(other.id);
    expect(expired).toMatchObject({ state: 'expired', approvalDeadline: T0 + 30 * 60_000 });
    expect(expired).not.toHaveProperty('until');
    expect((await engine.audit.query({ decisionId: other.id })).entries.at(-1)).toMatchObject({
      action: 'expired',
      detail: `expired unapproved: not approved by ${new Date(T0 + 30 * 60_000).toISOString()}`,
    });
    expect(idp.applies()).toBe(1);
  });

  it('reads decisions an earlier version stored: a pending one whose until was its approval deadline', async () => {
    const old = (id: string, state: string, until: number) => ({
      decision: {
        v: 1,
        id,
        type: 'step_up',
        scope: 'user',
        value: id,
        service: 'orders',
        until,
        reason: 'step-up-risky-users: brute_force',
        alertId: `alr_${id}`,
        rule: 'step-up-risky-users',
        simulated: false,
        state,
        createdAt: T0,
        updatedAt: T0,
        acr: 'urn:meshward:acr:mfa',
      },
      ttlMs: 30 * 60_000,
      applied: state === 'active' ? ['idp/test'] : [],
      applying: false,
      applyingAt: T0,
    });
    for (const [id, state] of [
      ['dec_old_pending', 'pending_approval'],
      ['dec_old_waiting', 'pending_approval'],
      ['dec_old_active', 'active'],
    ]) {
      await store.set(`pa:dec:${id}`, JSON.stringify(old(id, state, T0 + 30 * 60_000)));
      await store.zadd('pa:idx:created', T0, id);
      await store.zadd('pa:idx:until', T0 + 30 * 60_000, id);
    }
    const pending = await engine.get('dec_old_pending');
    expect(pending).toMatchObject({
      state: 'pending_approval',
      ttlMs: 30 * 60_000,
      approvalDeadline: T0 + 30 * 60_000,
    });
    expect(pending).not.toHaveProperty('until');
    expect((await engine.list({ state: 'pending_approval' })).map((d) => d.approvalDeadline)).toEqual([
      T0 + 30 * 60_000,
      T0 + 30 * 60_000,
    ]);
    expect(await engine.get('dec_old_active')).toMatchObject({
      state: 'active',
      until: T0 + 30 * 60_000,
      ttlMs: 30 * 60_000,
    });
    now += 10 * 60_000;
    expect(await engine.approve('dec_old_pending', 'analyst-2')).toMatchObject({
      state: 'active',
      until: now + 30 * 60_000,
    });
    // at the old deadline: the active one ends, the one still waiting expires unapproved; the approved one stays
    now = T0 + 30 * 60_000;
    expect(await engine.expireDue()).toBe(2);
    expect((await engine.list()).map((d) => [d.id, d.state])).toEqual(
      expect.arrayContaining([
        ['dec_old_pending', 'active'],
        ['dec_old_waiting', 'expired'],
        ['dec_old_active', 'expired'],
      ]),
    );
  });

  it('never acts on allowlisted users, principals, IPs or CIDR blocks', async () => {
    const subjects = [
      { kind: 'brute_force', subject: { type: 'user', value: 'break-glass-admin' } },
      { kind: 'enumeration', subject: { type: 'ip', value: '10.20.30.40' }, labels: { category: 'payments' } },
      { kind: 'enumeration', subject: { type: 'ip', value: '198.51.100.7' }, labels: { category: 'payments' } },
      { kind: 'enumeration', subject: { type: 'ip', value: '2001:db8::1' }, labels: { category: 'payments' } },
    ];
    for (const s of subjects) {
      expect(await engine.handleAlert(makeAlert({ severity: 'critical', ...s } as Partial<Alert>))).toEqual([]);
    }
    expect(idp.calls).toEqual([]);
    expect(gateway.calls).toEqual([]);
    const audit = await engine.audit.query();
    expect(audit.entries.map((e) => [e.action, e.outcome])).toEqual(
      subjects.map(() => ['guardrail_allowlist', 'skipped']),
    );
    // a neighbour outside the block is acted on
    const [d] = await engine.handleAlert(
      makeAlert({ kind: 'enumeration', subject: { type: 'ip', value: '11.0.0.1' }, labels: { category: 'payments' } }),
    );
    expect(d.state).toBe('active');
  });

  it('checks the allowlist on what a decision would act on: after an escalation step, and a route by its service', async () => {
    policy = parsePolicy(`
guardrails: { allowlist: { users: [break-glass-admin], services: [payments], ips: [198.51.100.20] } }
rules:
  - name: close-endpoint
    match: { kinds: [unauthenticated_access] }
    action: { type: deny, scope: route, ttl: 1h }
  - name: deny-stuffer
    match: { kinds: [credential_stuffing] }
    action: { type: deny, scope: ip, ttl: 1h }
    escalate: [{ after: 1, scope: service }]
`);
    await engine.close();
    engine = start();
    const open = (service: string) =>
      engine.handleAlert(makeAlert({ kind: 'unauthenticated_access', service, endpoint: 'POST /charge' }));
    expect(await open('payments')).toEqual([]);
    expect((await open('orders')).map((d) => [d.scope, d.value])).toEqual([['route', 'POST /charge']]);

    const stuffing = () =>
      engine.handleAlert(
        makeAlert({ kind: 'credential_stuffing', service: 'payments', subject: { type: 'ip', value: '203.0.113.9' } }),
      );
    expect((await stuffing()).map((d) => [d.scope, d.value])).toEqual([['ip', '203.0.113.9']]);
    now += 61_000;
    expect(await stuffing()).toEqual([]); // escalated to the service, which is allowlisted

    expect(gateway.calls.map((c) => [c.op, c.value])).toEqual([
      ['apply', 'POST /charge'],
      ['apply', '203.0.113.9'],
    ]);
    // an allowlisted address is spared at every step: its alerts do not escalate to its (not allowlisted) service
    const scanner = () =>
      engine.handleAlert(
        makeAlert({ kind: 'credential_stuffing', service: 'orders', subject: { type: 'ip', value: '198.51.100.20' } }),
      );
    expect(await scanner()).toEqual([]);
    now += 61_000;
    expect(await scanner()).toEqual([]);

    expect(gateway.calls).toHaveLength(2);
    const skipped = (await engine.audit.query()).entries.filter((e) => e.action === 'guardrail_allowlist');
    expect(skipped.map((e) => e.detail)).toEqual([
      'service payments (route POST /charge) is allowlisted; rule close-endpoint not applied',
      'service payments is allowlisted; rule deny-stuffer not applied',
      'ip 198.51.100.20 is allowlisted; rule deny-stuffer not applied',
      'ip 198.51.100.20 is allowlisted; rule deny-stuffer not applied',
    ]);
  });

  it('past max_actions_per_minute new decisions are held as pending and guardrail_tripped is raised once', async () => {
    const out = [];
    for (let i = 0; i < 5; i++)
      out.push(...(await engine.handleAlert(makeAlert({ subject: { type: 'token', value: `t${i}` } }))));
    expect(out.map((d) => d.state)).toEqual(['active', 'active', 'active', 'pending_approval', 'pending_approval']);
    expect(out[3].reason).toContain('held: actions-per-minute cap');
    expect(idp.applies()).toBe(3);
    expect(alerts.map((a) => a.kind)).toEqual(['guardrail_tripped']);
    expect(alerts[0]).toMatchObject({ severity: 'high', service: 'meshward', state: 'open' });
    // the next minute has a fresh budget
    now += 60_000;
    const [next] = await engine.handleAlert(makeAlert({ subject: { type: 'token', value: 't9' } }));
    expect(next.state).toBe('active');
    // a held decision is enforced once approved
    await engine.approve(out[3].id, 'analyst-1');
    expect(idp.applies()).toBe(5);
  });

  it('escalates repeat offenders: longer TTL after 2 prior decisions, another type after 4', async () => {
    const ip = { type: 'ip', value: '203.0.113.50' };
    const made = [];
    for (let i = 0; i < 5; i++) {
      now += 61_000; // stay under the per-minute cap
      const [d] = await engine.handleAlert(
        makeAlert({ kind: 'enumeration', subject: ip, endpoint: 'GET /orders/{id}', labels: { category: 'identity' } }),
      );
      made.push(d);
    }
    expect(made.map((d) => [d.type, (d.until ?? 0) - d.createdAt, d.ttlMs])).toEqual([
      ['deny', 15 * 60_000, 15 * 60_000],
      ['deny', 15 * 60_000, 15 * 60_000],
      ['deny', 3_600_000, 3_600_000],
      ['deny', 3_600_000, 3_600_000],
      ['rate_limit', 86_400_000, 86_400_000],
    ]);
    expect(made[0].route).toBe('GET /orders/{id}');
    expect(made[2].reason).toContain('escalated: 2 prior decisions');
    // outside the window the count starts again
    now += 2 * 86_400_000;
    const [late] = await engine.handleAlert(
      makeAlert({ kind: 'enumeration', subject: ip, labels: { category: 'identity' } }),
    );
    expect((late.until ?? 0) - late.createdAt).toBe(15 * 60_000);
  });

  it('labels must match: an alert from another API cluster is left alone', async () => {
    const a = makeAlert({
      kind: 'enumeration',
      subject: { type: 'ip', value: '203.0.113.1' },
      labels: { category: 'catalog' },
    });
    expect(await engine.handleAlert(a)).toEqual([]);
    expect(await engine.handleAlert({ ...a, id: 'x', labels: undefined })).toEqual([]);
  });

  it('retries a failing adapter with backoff, auditing every attempt', async () => {
    idp.failNext = 2;
    const [d] = await engine.handleAlert(makeAlert());
    expect(d.state).toBe('active');
    expect(idp.applies()).toBe(3);
    const audit = await engine.audit.query({ decisionId: d.id });
    expect(audit.entries.map((e) => e.outcome)).toEqual(['active', 'retry', 'retry', 'ok']);
    expect(alerts).toEqual([]);
  });

  it('marks the decision failed and raises action_failed when retries run out; non-retryable errors are not retried', async () => {
    idp.downAll = true;
    const [d] = await engine.handleAlert(makeAlert());
    expect(d.state).toBe('failed');
    expect(idp.applies()).toBe(3);
    expect(alerts.map((a) => a.kind)).toEqual(['action_failed']);
    expect(alerts[0].summary).toContain('idp/test');
    idp.downAll = false;
    idp.refuseAll = true;
    const [e] = await engine.handleAlert(makeAlert());
    expect(e.state).toBe('failed');
    expect(idp.applies()).toBe(4);
    expect(await engine.enforced()).toEqual([]);
    const audit = await engine.audit.query({ decisionId: e.id });
    expect(audit.entries.map((x) => x.action)).toEqual(['decision_created', 'adapter_apply', 'failed']);
  });

  it('expiry reverts at the adapters that applied the decision and notifies subscribers', async () => {
    const [d] = await engine.handleAlert(
      makeAlert({
        kind: 'enumeration',
        subject: { type: 'ip', value: '203.0.113.77' },
        labels: { category: 'payments' },
      }),
    );
    expect(gateway.calls.map((c) => c.op)).toEqual(['apply']);
    now += 14 * 60_000;
    expect(await engine.expireDue()).toBe(0);
    now += 2 * 60_000;
    expect(await engine.expireDue()).toBe(1);
    expect(gateway.calls.map((c) => c.op)).toEqual(['apply', 'revert']);
    expect(idp.calls).toEqual([]);
    expect((await engine.get(d.id))?.state).toBe('expired');
    expect(changes.at(-1)).toMatchObject({ previousState: 'active', decision: { id: d.id, state: 'expired' } });
    expect(await engine.expireDue()).toBe(0);
    await expect(engine.lift(d.id, 'a', 'late')).rejects.toMatchObject({ code: 'MW_ERR_CONFLICT' });
  });

  it('lift reverts now and records who lifted it and why', async () => {
    const [d] = await engine.handleAlert(makeAlert());
    const lifted = await engine.lift(d.id, 'analyst-2', 'false positive: load test');
    expect(lifted.state).toBe('lifted');
    expect(idp.calls.map((c) => c.op)).toEqual(['apply', 'revert']);
    const audit = await engine.audit.query({ decisionId: d.id });
    expect(audit.entries.at(-1)).toMatchObject({
      action: 'lifted',
      actor: 'analyst-2',
      detail: 'false positive: load test',
    });
  });

  it('lists with filters and pages through the audit log', async () => {
    for (let i = 0; i < 3; i++) {
      now += 1;
      await engine.handleAlert(makeAlert({ subject: { type: 'token', value: `tok-${i}` } }));
    }
    now += 1;
    await engine.handleAlert(
      makeAlert({ kind: 'brute_force', severity: 'high', subject: { type: 'user', value: 'u' } }),
    );
    const all = await engine.list();
    expect(all.map((d) => d.value)).toEqual(['u', 'tok-2', 'tok-1', 'tok-0']);
    expect((await engine.list({ state: 'pending_approval' })).map((d) => d.value)).toEqual(['u']);
    expect((await engine.list({ type: 'revoke_token', limit: 2 })).map((d) => d.value)).toEqual(['tok-2', 'tok-1']);
    expect(await engine.list({ scope: 'ip' })).toEqual([]);
    const p1 = await engine.audit.query({ limit: 3 });
    const p2 = await engine.audit.query({ limit: 3, after: p1.next });
    const p3 = await engine.audit.query({ limit: 3, after: p2.next });
    const ids = [...p1.entries, ...p2.entries, ...p3.entries].map((e) => e.id);
    expect(new Set(ids).size).toBe(7);
    expect(p3.entries).toHaveLength(1);
  });
});
