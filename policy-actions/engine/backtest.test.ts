import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { policyTestTable, runPolicyTest, testPolicy } from './backtest.js';
import { parsePolicy } from './policy.js';
import { makeAlert } from './testdata/alerts.js';

const T0 = 1_760_000_000_000;
const MINUTE = 60_000;

const POLICY = `
version: 1
guardrails:
  allowlist: { ips: [10.9.9.9] }
  max_actions_per_minute: 2
rules:
  - name: block-enumerators
    match: { kinds: [enumeration] }
    action: { type: deny, scope: ip, ttl: 15m }
    escalate:
      - { after: 1, ttl: 1h }
  - name: revoke-mismatched-tokens
    match: { kinds: [token_mismatch] }
    action: { type: revoke_token, ttl: 1h }
    requires_approval: true
  - name: watch-new-callers
    match: { kinds: [new_caller] }
    action: { type: step_up, scope: user, ttl: 30m, acr: "urn:meshward:acr:mfa" }
    dry_run: true
`;

const ip = (value: string) => ({ type: 'ip', value });
/** the alerts of an afternoon, out of order as a listing may give them */
const ALERTS = [
  // the same address enumerates twice, 20 minutes apart: the second decision escalates
  makeAlert({ id: 'enum-2', kind: 'enumeration', subject: ip('203.0.113.7'), firstSeen: T0 + 20 * MINUTE }),
  makeAlert({ id: 'enum-1', kind: 'enumeration', subject: ip('203.0.113.7'), firstSeen: T0 }),
  // an allowlisted scanner: matched, no decision
  makeAlert({ id: 'enum-3', kind: 'enumeration', subject: ip('10.9.9.9'), firstSeen: T0 + 30 * MINUTE }),
  // three more addresses in one minute: the third is over the cap of two actions a minute and waits for approval
  ...['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((a, i) =>
    makeAlert({ id: `burst-${i}`, kind: 'enumeration', subject: ip(a), firstSeen: T0 + 40 * MINUTE + i * 1000 }),
  ),
  // an enumeration alert without a subject has nothing to deny
  makeAlert({ id: 'enum-nosubject', kind: 'enumeration', subject: undefined, firstSeen: T0 + 50 * MINUTE }),
  makeAlert({ id: 'tok', kind: 'token_mismatch', subject: { type: 'token', value: 'h1:abc' }, firstSeen: T0 }),
  makeAlert({ id: 'caller', kind: 'new_caller', subject: { type: 'user', value: 'u-1' }, firstSeen: T0 }),
  makeAlert({ id: 'other', kind: 'error_burst', subject: undefined, firstSeen: T0 }),
];

describe('policy test: what a policy would decide on past alerts', () => {
  it('counts per rule what the engine decides, with escalation, approval, dry run, allowlist and the rate cap', async () => {
    const r = await testPolicy(parsePolicy(POLICY), ALERTS);
    const byRule = Object.fromEntries(r.rules.map((o) => [o.rule, o]));
    expect(byRule['block-enumerators']).toEqual({
      rule: 'block-enumerators',
      matched: 7,
      decisions: 5,
      enforced: 4,
      pendingApproval: 1,
      heldByCap: 1,
      simulated: 0,
      escalated: 1,
      allowlisted: 1,
      noSubject: 1,
    });
    expect(byRule['revoke-mismatched-tokens']).toMatchObject({ matched: 1, decisions: 1, pendingApproval: 1 });
    expect(byRule['watch-new-callers']).toMatchObject({ matched: 1, decisions: 1, simulated: 1, enforced: 0 });
    expect(r.allowlisted).toBe(1);
    expect(r.capTripped).toBe(1);
    // in the order they were made, by each alert's first sighting; the escalated one lasts an hour
    const second = r.decisions.find((d) => d.alertId === 'enum-2');
    expect(second?.until).toBe(T0 + 20 * MINUTE + 60 * MINUTE);
    expect(r.decisions.find((d) => d.alertId === 'enum-1')?.until).toBe(T0 + 15 * MINUTE);
  });

  it('reads a JSONL file (bad lines counted and named), writes the decisions, and runs as meshward policy test', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-policy-test-'));
    const policy = join(dir, 'policy.yaml');
    const alerts = join(dir, 'alerts.jsonl');
    const out = join(dir, 'decisions.jsonl');
    writeFileSync(policy, POLICY);
    writeFileSync(alerts, [...ALERTS.map((a) => JSON.stringify(a)), 'not json', '{"v":1}', ''].join('\n'));
    const r = await runPolicyTest({ policy, alerts, out });
    expect(r).toMatchObject({ alerts: ALERTS.length, rejected: 2 });
    expect(r.firstRejection).toMatch(/^line 11: not JSON/);
    expect(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).rule),
    ).toHaveLength(7);
    expect(policyTestTable(r)).toContain('| block-enumerators | 7 | 5 | 4 | 1 (1) | 0 | 1 | 1 | 1 |');

    // a page of GET /v1/alerts as saved, too
    const page = join(dir, 'alerts.json');
    writeFileSync(page, JSON.stringify({ items: [...ALERTS, { v: 1 }], next: 'x' }));
    const fromPage = await runPolicyTest({ policy, alerts: page });
    expect(fromPage).toMatchObject({ alerts: ALERTS.length, rejected: 1 });
    expect(fromPage.firstRejection).toMatch(/^items\[10\]: /);
    expect(fromPage.rules).toEqual(r.rules);

    const main = join(import.meta.dirname, '..', '..', 'pipeline', 'cli', 'main.ts');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', main, 'policy', 'test', '--policy', policy, '--alerts', alerts],
      { cwd: join(import.meta.dirname, '..', '..') },
    );
    expect(stdout).toContain('| revoke-mismatched-tokens | 1 | 1 | 0 | 1 (0) | 0 | 0 | 0 | 0 |');
    expect(stdout).toContain('allowlist prevented 1; actions-per-minute cap tripped 1 times');
    // a bad policy is refused, naming the key
    writeFileSync(policy, 'version: 1\nrules:\n  - name: x\n    match: {}\n    action: { type: deny, ttl: soon }\n');
    await expect(runPolicyTest({ policy, alerts })).rejects.toThrow(/ttl/);
  }, 60_000);
});
