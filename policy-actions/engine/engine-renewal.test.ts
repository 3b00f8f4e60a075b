import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../pipeline/core/alert.js';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
import { type DecisionChange, decisionIdOf, type PolicyEngine } from './engine.js';
import { type CompiledPolicy, parsePolicy } from './policy.js';
import { makeAlert } from './testdata/alerts.js';
import type { RecordingAdapter } from './testdata/recording-adapter.js';
import { engineTestParts, startTestEngine, TEST_POLICY_TEXT } from './testdata/test-engine.js';

const T0 = 1_760_000_000_000;
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** the alert as the correlator refreshes it while the attack goes on: same id, one more occurrence, seen at `at` */
const refreshed = (a: Alert, at: number, over: Partial<Alert> = {}): Alert => ({
  ...a,
  count: a.count + 1,
  lastSeen: at,
  updatedAt: at,
  ...over,
});

/** an enumeration from `ip` that the test policy's deny-enumerators denies for 15 min */
const enumeration = (ip: string) =>
  makeAlert({
    kind: 'enumeration',
    subject: { type: 'ip', value: ip },
    endpoint: 'GET /orders/{id}',
    labels: { category: 'payments' },
  });

describe('policy engine: renewing a decision whose alert goes on after it expired', () => {
  let now: number;
  let store: MemoryStore;
  let policy: CompiledPolicy;
  let idp: RecordingAdapter;
  let gateway: RecordingAdapter;
  let changes: DecisionChange[];
  let engine: PolicyEngine;
  let dir: string;

  const start = (s = store) =>
    startTestEngine({ store: s, policy, idp, gateway, clock: () => now, onChange: (c) => changes.push(c) });
  const auditOf = async (id: string) =>
    (await engine.audit.query({ decisionId: id })).entries.map((e) => [e.action, e.outcome]);

  beforeEach(() => {
    now = T0;
    ({ dir, store, policy, idp, gateway } = engineTestParts('mw-renewal-', () => now));
    changes = [];
    engine = start();
  });
  afterEach(async () => {
    await engine.close();
    await store.close();
  });

  it('a deny that expires while its alert is still refreshed is renewed: a new decision, applied again, linked to the one it renews', async () => {
    const attack = enumeration('203.0.113.77');
    const [first] = await engine.handleAlert(attack);
    expect(first).toMatchObject({ id: decisionIdOf(attack.id, 'deny-enumerators'), state: 'active' });
    expect(first).not.toHaveProperty('renews');
    now = T0 + 15 * MIN;
    expect(await engine.expireDue()).toBe(1);

    // the attack went on: the correlator refreshes the alert 30 s after the deny ended
    now += 30_000;
    const [renewal] = await engine.handleAlert(refreshed(attack, now));
    expect(renewal).toMatchObject({
      id: decisionIdOf(attack.id, 'deny-enumerators', 1),
      renews: first.id,
      type: 'deny',
      scope: 'ip',
      value: '203.0.113.77',
      route: 'GET /orders/{id}',
      state: 'active',
      until: now + 15 * MIN,
      ttlMs: 15 * MIN,
      alertId: attack.id,
      rule: 'deny-enumerators',
      reason: expect.stringContaining(`[renews ${first.id}: the alert went on after it ended]`),
    });
    expect(renewal.id).not.toBe(first.id);
    expect(gateway.calls.map((c) => [c.op, c.id])).toEqual([
      ['apply', first.id],
      ['revert', first.id],
      ['apply', renewal.id],
    ]);
    expect(await engine.enforced()).toEqual([renewal]);
    expect(changes.at(-1)).toMatchObject({ previousState: null, decision: { id: renewal.id, state: 'active' } });
    // the audit log links both ways: the expired one says what renewed it, the renewal what it renews
    expect(await auditOf(first.id)).toEqual([
      ['decision_created', 'active'],
      ['adapter_apply', 'ok'],
      ['adapter_revert', 'ok'],
      ['expired', 'ok'],
      ['renewed', 'ok'],
    ]);
    expect((await engine.audit.query({ decisionId: first.id })).entries.at(-1)?.detail).toBe(
      `the alert was seen at ${iso(now)}, after this decision ended at ${iso(T0 + 15 * MIN)}: renewed as ${renewal.id}`,
    );
    expect(await auditOf(renewal.id)).toEqual([
      ['decision_created', 'active'],
      ['adapter_apply', 'ok'],
    ]);
    expect((await engine.audit.query({ decisionId: renewal.id })).entries[0].detail).toContain(`renews ${first.id}`);
    expect((await engine.list({ alertId: attack.id })).map((d) => d.id)).toEqual([renewal.id, first.id]);

    // and again: renewals are decisions on the subject, so the third is escalated as a repeat offender's (after 2)
    now = (renewal.until ?? 0) + 1;
    expect(await engine.expireDue()).toBe(1);
    now += 1000;
    const [third] = await engine.handleAlert(refreshed(attack, now));
    expect(third).toMatchObject({
      id: decisionIdOf(attack.id, 'deny-enumerators', 2),
      renews: renewal.id,
      state: 'active',
      ttlMs: 3_600_000,
      reason: expect.stringContaining('[escalated: 2 prior decisions]'),
    });
    expect(gateway.applies()).toBe(3);
  });

  it('a refresh renews nothing while the decision is in force, nor for activity seen before it ended, nor once the alert resolved', async () => {
    const attack = enumeration('203.0.113.78');
    const [first] = await engine.handleAlert(attack);
    // refreshed before the deny ends: the same decision, applied once
    now = T0 + 10 * MIN;
    const during = refreshed(attack, now);
    expect(await engine.handleAlert(during)).toEqual([first]);
    now = T0 + 15 * MIN;
    await engine.expireDue();
    // after it ended: a replay of the refresh seen while it held, and the alert resolved after activity past its end
    now += MIN;
    expect((await engine.handleAlert(during)).map((d) => [d.id, d.state])).toEqual([[first.id, 'expired']]);
    const resolved = refreshed(attack, T0 + 15 * MIN + 1000, { state: 'resolved', updatedAt: now });
    expect((await engine.handleAlert(resolved)).map((d) => d.id)).toEqual([first.id]);
    expect(gateway.applies()).toBe(1);
    expect(await engine.list({ alertId: attack.id })).toHaveLength(1);
    // the alert open (acknowledged by an analyst) and seen after the end: renewed
    const [renewal] = await engine.handleAlert(refreshed(attack, now, { state: 'acknowledged' }));
    expect(renewal).toMatchObject({ renews: first.id, state: 'active' });
    expect(gateway.applies()).toBe(2);
  });

  it("an analyst's lift is never overridden, nor a rejection, an approval that never came or a failure; a pending decision is not duplicated", async () => {
    const risky = (user: string) =>
      makeAlert({ kind: 'brute_force', severity: 'high', subject: { type: 'user', value: user } });
    const lifted = enumeration('203.0.113.80');
    const rejected = risky('rita');
    const unapproved = risky('uma');
    const waiting = risky('walt');
    const failed = makeAlert({ subject: { type: 'token', value: 'tok-failing' } });
    const expired = enumeration('203.0.113.81');

    const [l] = await engine.handleAlert(lifted);
    await engine.lift(l.id, 'analyst-2', 'our own load test');
    const [r] = await engine.handleAlert(rejected);
    await engine.lift(r.id, 'analyst-2', 'rejected: known pen test');
    const [u] = await engine.handleAlert(unapproved);
    idp.downAll = true;
    const [f] = await engine.handleAlert(failed);
    idp.downAll = false;
    expect(f.state).toBe('failed');
    now += MIN; // a fresh actions-per-minute budget
    const [e] = await engine.handleAlert(expired);
    now = T0 + 29 * MIN;
    const [w] = await engine.handleAlert(waiting);
    now = T0 + 30 * MIN;
    expect(await engine.expireDue()).toBe(2); // the one never approved, and the deny
    expect((await engine.get(u.id))?.state).toBe('expired');
    const applied = [idp.applies(), gateway.applies()];

    // every alert goes on after its decision ended (or, for the one waiting, after it was made)
    now += MIN;
    const renewed = [];
    for (const a of [lifted, rejected, unapproved, failed, waiting, expired]) {
      const [d] = await engine.handleAlert(refreshed(a, now));
      renewed.push([d.id, d.state]);
    }
    expect(renewed).toEqual([
      [l.id, 'lifted'],
      [r.id, 'lifted'],
      [u.id, 'expired'],
      [f.id, 'failed'],
      [w.id, 'pending_approval'],
      [decisionIdOf(expired.id, 'deny-enumerators', 1), 'active'], // the one that simply expired
    ]);
    expect((await engine.get(decisionIdOf(expired.id, 'deny-enumerators', 1)))?.renews).toBe(e.id);
    expect([idp.applies(), gateway.applies()]).toEqual([applied[0], applied[1] + 1]);
    expect(await engine.list({ alertId: waiting.id })).toHaveLength(1);
    expect(await engine.list({ state: 'pending_approval' })).toEqual([await engine.get(w.id)]);
  });

  it('a refresh replayed renews once: twice in turn, concurrently, after a restart, and when the engine that renewed died before noting it', async () => {
    const attack = enumeration('203.0.113.90');
    const [first] = await engine.handleAlert(attack);
    now = T0 + 15 * MIN;
    await engine.expireDue();
    now += 5000;
    const refresh = refreshed(attack, now);
    const [a] = await engine.handleAlert(refresh);
    const [b] = await engine.handleAlert(refresh);
    const [[c], [d]] = await Promise.all([engine.handleAlert(refresh), engine.handleAlert(refresh)]);
    expect([a, b, c, d].map((x) => x.id)).toEqual(Array(4).fill(decisionIdOf(attack.id, 'deny-enumerators', 1)));
    expect(a.renews).toBe(first.id);

    // a restarted engine over the same store, which has lost the note of the last renewal (its maker died first)
    await engine.close();
    await store.close();
    store = new MemoryStore({ dataDir: dir, clock: () => now });
    await store.del(`pa:renewed:${first.id}`);
    engine = start(store);
    now += 1000;
    const [again] = await engine.handleAlert(refresh);
    expect(again).toMatchObject({ id: a.id, state: 'active' });
    const [later] = await engine.handleAlert(refreshed(refresh, now));
    expect(later.id).toBe(a.id);

    expect(gateway.calls.map((x) => [x.op, x.id])).toEqual([
      ['apply', first.id],
      ['revert', first.id],
      ['apply', a.id],
    ]);
    const entries = (await engine.audit.query({ limit: 1000 })).entries;
    expect(entries.filter((x) => x.action === 'decision_created').map((x) => x.decisionId)).toEqual([first.id, a.id]);
    expect(entries.filter((x) => x.action === 'renewed')).toHaveLength(1);
    expect(await engine.list({ alertId: attack.id })).toHaveLength(2);
  });

  it('a renewal goes through the guardrails again: approval, dry run and the allowlist as the policy now says', async () => {
    // approval: the approved step-up ended and the alert went on; the renewal waits for an analyst again
    const risky = makeAlert({ kind: 'brute_force', severity: 'high', subject: { type: 'user', value: 'alice' } });
    const [held] = await engine.handleAlert(risky);
    await engine.approve(held.id, 'analyst-7');
    // dry run: the simulated deny ended and the scraper went on; the renewal is simulated too
    const scraper = makeAlert({ kind: 'credential_stuffing', subject: { type: 'ip', value: '203.0.113.5' } });
    const [simulated] = await engine.handleAlert(scraper);
    // allowlist: the address was allowlisted since its deny
    const partner = enumeration('192.0.2.44');
    const [denied] = await engine.handleAlert(partner);
    now = T0 + 30 * MIN;
    expect(await engine.expireDue()).toBe(3);
    policy = parsePolicy(TEST_POLICY_TEXT.replace('ips: [198.51.100.7]', 'ips: [198.51.100.7, 192.0.2.44]'));
    engine.setPolicy(policy);
    const applied = [idp.applies(), gateway.applies()];

    now += MIN;
    const [stepUp] = await engine.handleAlert(refreshed(risky, now));
    expect(stepUp).toMatchObject({ renews: held.id, state: 'pending_approval', approvalDeadline: now + 30 * MIN });
    expect(stepUp).not.toHaveProperty('until');
    const [observed] = await engine.handleAlert(refreshed(scraper, now));
    expect(observed).toMatchObject({ renews: simulated.id, state: 'active', simulated: true });
    expect(await auditOf(observed.id)).toEqual([
      ['decision_created', 'simulated'],
      ['adapter_apply', 'simulated'],
    ]);
    const [spared] = await engine.handleAlert(refreshed(partner, now));
    expect(spared).toMatchObject({ id: denied.id, state: 'expired' });
    expect(await auditOf(decisionIdOf(partner.id, 'deny-enumerators', 1))).toEqual([
      ['guardrail_allowlist', 'skipped'],
    ]);
    expect([idp.applies(), gateway.applies()]).toEqual(applied);
    expect(await engine.enforced()).toEqual([]);
    // approved, the renewal is enforced
    expect(await engine.approve(stepUp.id, 'analyst-7')).toMatchObject({ state: 'active', until: now + 30 * MIN });
    expect(idp.applies()).toBe(applied[0] + 1);
  });

  it('an expired decision an earlier version stored is not renewed: it cannot say whether it was ever enforced', async () => {
    // as stored before decisions carried ttlMs: a pending one's until was its approval deadline
    const stored = (alert: Alert, ip: string, thisVersion: boolean) => ({
      decision: {
        v: 1,
        id: decisionIdOf(alert.id, 'deny-enumerators'),
        type: 'deny',
        scope: 'ip',
        value: ip,
        service: 'orders',
        until: T0 + 15 * MIN,
        ...(thisVersion ? { ttlMs: 15 * MIN } : {}),
        reason: 'deny-enumerators: enumeration',
        alertId: alert.id,
        rule: 'deny-enumerators',
        simulated: false,
        state: 'expired',
        createdAt: T0,
        updatedAt: T0 + 15 * MIN,
      },
      ttlMs: 15 * MIN,
      applied: [],
      applying: false,
      applyingAt: T0,
    });
    const old = enumeration('203.0.113.100');
    const current = enumeration('203.0.113.101');
    for (const [a, ip, thisVersion] of [
      [old, '203.0.113.100', false],
      [current, '203.0.113.101', true],
    ] as const) {
      const rec = stored(a, ip, thisVersion);
      await store.set(`pa:dec:${rec.decision.id}`, JSON.stringify(rec));
      await store.zadd('pa:idx:created', T0, rec.decision.id);
    }
    now = T0 + 20 * MIN;
    expect((await engine.handleAlert(refreshed(old, now))).map((d) => d.state)).toEqual(['expired']);
    expect((await engine.handleAlert(refreshed(current, now))).map((d) => [d.state, d.renews])).toEqual([
      ['active', decisionIdOf(current.id, 'deny-enumerators')],
    ]);
    expect(gateway.calls.map((c) => c.value)).toEqual(['203.0.113.101']);
  });
});
