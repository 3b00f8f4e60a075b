import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAlert } from './testdata/alerts.js';
import { parseDuration } from './duration.js';
import { loadPolicyFile, parsePolicy } from './policy.js';

const valid = readFileSync(join(import.meta.dirname, 'testdata/policy.yaml'), 'utf8');
const rule = (action: string, extra = '') =>
  `rules:\n  - name: r1\n    match: { kinds: [enumeration] }\n    action: ${action}\n${extra}`;

describe('policy file', () => {
  it('compiles the policies shipped for the demo and compose, every rule dry-run or approved', () => {
    for (const file of ['deploy/demo/policy.yaml', 'deploy/compose/policy.yaml']) {
      const p = parsePolicy(readFileSync(join(import.meta.dirname, '../..', file), 'utf8'));
      expect(p.rules.length, file).toBeGreaterThan(0);
      for (const r of p.rules) expect(r.dryRun || r.requiresApproval, `${file} ${r.name}`).toBe(true);
    }
    const demo = parsePolicy(readFileSync(join(import.meta.dirname, '../../deploy/demo/policy.yaml'), 'utf8'));
    expect(demo.rules.find((r) => r.name === 'close-unauthenticated-endpoints')).toMatchObject({
      type: 'deny',
      scope: 'route',
      ttlMs: 4 * 3_600_000,
      requiresApproval: true,
    });
    // data_volume's kinds: the subject decides the scope (a user or token is stepped up; any caller rate limited)
    expect(
      demo.rules.filter((r) => r.name.endsWith('-bulk-exporters') || r.name.endsWith('-excessive-callers')),
    ).toMatchObject([
      { type: 'step_up', scope: undefined, ttlMs: 3_600_000, requiresApproval: true },
      { type: 'rate_limit', scope: undefined, ttlMs: 1_800_000, dryRun: true },
    ]);
  });

  it('compiles the test policy: rules, durations and guardrails', () => {
    const p = parsePolicy(valid);
    expect(p.rules.map((r) => r.name)).toEqual([
      'revoke-stolen-token',
      'deny-enumerators',
      'step-up-risky-users',
      'observe-scrapers',
    ]);
    expect(p.rules[1]).toMatchObject({ ttlMs: 900_000, route: 'alert', escalationWindowMs: 86_400_000 });
    expect(p.rules[1].escalate).toEqual([
      { after: 2, ttlMs: 3_600_000, type: undefined, scope: undefined, acr: undefined },
      { after: 4, ttlMs: 86_400_000, type: 'rate_limit', scope: undefined, acr: undefined },
    ]);
    expect(p.rules[2]).toMatchObject({ requiresApproval: true, acr: 'urn:meshward:acr:mfa' });
    expect(p.rules[3].dryRun).toBe(true);
    expect(p.maxActionsPerMinute).toBe(3);
    expect(p.allowlisted('ip', '10.255.0.1')).toBe(true);
    expect(p.allowlisted('ip', '11.0.0.1')).toBe(false);
    expect(p.allowlisted('ip', '2001:db8:1::5')).toBe(true);
    expect(p.allowlisted('user', 'break-glass-admin')).toBe(true);
    expect(p.allowlisted('token', 'break-glass-admin')).toBe(false);
    expect(p.allowlisted('principal', 'spiffe://prod/ns/ops/sa/oncall')).toBe(true);
  });

  it.each([
    [rule('{ type: nuke, ttl: 1h }'), /rules\.0\.action\.type/],
    [rule('{ type: deny, ttl: 1h, colour: red }'), /rules\.0\.action/],
    [rule('{ type: deny, ttl: soon }'), /rules\.0\.action\.ttl: "soon" is not a duration/],
    [rule('{ type: step_up, ttl: 1h }'), /rules\.0\.action\.acr: step_up needs/],
    [
      rule('{ type: revoke_token, scope: ip, ttl: 1h }'),
      /rules\.0\.action\.scope: revoke_token cannot act on scope ip/,
    ],
    [
      rule('{ type: deny, scope: ip, ttl: 1h }', '    escalate: [{ after: 2, type: revoke_session }]'),
      /rules\.0\.escalate\.0/,
    ],
    [rule('{ type: deny, ttl: 1h }', '    escalate: [{ after: 0 }]'), /rules\.0\.escalate\.0\.after/],
    [
      `${rule('{ type: deny, ttl: 1h }')}  - name: r1\n    match: {}\n    action: { type: deny, ttl: 1m }\n`,
      /rules\.1\.name: duplicate/,
    ],
    ['guardrails: { allowlist: { cidrs: [10.0.0.0/33] } }\nrules: []', /guardrails\.allowlist\.cidrs\.0/],
    ['guardrails: { allowlist: { ips: [not-an-ip] } }\nrules: []', /guardrails\.allowlist\.ips\.0/],
    ['guardrails: { max_actions_per_minute: 0 }\nrules: []', /guardrails\.max_actions_per_minute/],
    [
      'rules: [ { name: r, match: { min_severity: urgent }, action: { type: deny, ttl: 1m } } ]',
      /rules\.0\.match\.min_severity/,
    ],
    ['rulez: []', /rules|rulez/],
    ['rules: [: bad', /not valid YAML/],
  ])('rejects %j naming the bad key', (text, message) => {
    expect(() => parsePolicy(text)).toThrow(message);
    try {
      parsePolicy(text);
    } catch (err) {
      expect((err as { code: string }).code).toBe('MW_ERR_POLICY_INVALID');
    }
  });

  it('a policy file that cannot be read or is wrong is refused with MW_ERR_POLICY_INVALID naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshward-policy-'));
    const missing = join(dir, 'nope.yaml');
    await expect(loadPolicyFile(missing)).rejects.toMatchObject({
      code: 'MW_ERR_POLICY_INVALID',
      message: expect.stringContaining(`cannot read ${missing}: ENOENT`),
    });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, rule('{ type: deny, ttl: soon }'));
    await expect(loadPolicyFile(bad)).rejects.toMatchObject({
      code: 'MW_ERR_POLICY_INVALID',
      message: `policy file is invalid: ${bad}: rules.0.action.ttl: "soon" is not a duration from 1ms to 3650d (use e.g. 30s, 15m, 1h, 7d)`,
    });
  });

  it('refuses a rule naming an adapter that is not configured (its decisions would be enforced nowhere)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'meshward-policy-')), 'policy.yaml');
    writeFileSync(file, rule('{ type: deny, scope: ip, ttl: 1h, adapters: [gateways/ngnix] }'));
    await expect(loadPolicyFile(file, ['gateways/nginx'])).rejects.toMatchObject({
      code: 'MW_ERR_POLICY_INVALID',
      message: expect.stringContaining(
        `${file}: rules.0.action.adapters: gateways/ngnix not configured under actions (configured: gateways/nginx)`,
      ),
    });
    await expect(loadPolicyFile(file, [])).rejects.toThrow(/\(configured: none\)/);
    expect((await loadPolicyFile(file, ['gateways/ngnix'])).rules[0].adapters).toEqual(['gateways/ngnix']);
    // offline (policy test) no adapters are known: not checked
    expect((await loadPolicyFile(file)).rules).toHaveLength(1);
  });

  it('refuses a rule whose kinds or subject types name none there are (it would never fire)', () => {
    const matching = (match: string) =>
      `rules:\n  - name: r1\n    match: ${match}\n    action: { type: deny, scope: ip, ttl: 1h }\n`;
    expect(() => parsePolicy(matching('{ kinds: [enumeration, enumaration] }'))).toThrow(
      /rules\.0\.match\.kinds: unknown alert kind enumaration \(known: error_burst, .*enumeration/,
    );
    expect(() => parsePolicy(matching('{ subject_types: [IP] }'))).toThrow(
      /rules\.0\.match\.subject_types: unknown subject type IP \(known: user, token, ip, /,
    );
    expect(
      parsePolicy(matching('{ kinds: [credential_stuffing, brute_force], subject_types: [ip, user] }')).rules,
    ).toHaveLength(1);
  });

  it('matches alert labels: the value itself, or any item of a comma-separated list', () => {
    const p = parsePolicy(`
version: 1
rules:
  - name: documented-only
    match: { kinds: [unauthenticated_access], labels: { rule: documented } }
    action: { type: deny, scope: route, ttl: 1h }
`);
    const [r] = p.rules;
    const alert = (rule: string) => makeAlert({ kind: 'unauthenticated_access', labels: { rule } });
    expect(r.matches(alert('documented'))).toBe(true);
    expect(r.matches(alert('open_endpoint,documented'))).toBe(true);
    expect(r.matches(alert('open_endpoint'))).toBe(false);
    expect(r.matches(alert('documented_not'))).toBe(false);
    expect(r.matches(makeAlert({ kind: 'unauthenticated_access' }))).toBe(false);
  });

  it('a rule for a kind acts on an alert a signal of that kind was folded into (labels.also)', () => {
    const p = parsePolicy(`
version: 1
rules:
  - name: too-many-calls
    match: { kinds: [excessive_calls] }
    action: { type: rate_limit, ttl: 10m }
`);
    const [r] = p.rules;
    // the walker's excessive calls were folded into its enumeration alert: the shard raised no excessive_calls alert
    expect(r.matches(makeAlert({ kind: 'enumeration', labels: { also: 'excessive_calls' } }))).toBe(true);
    expect(r.matches(makeAlert({ kind: 'enumeration', labels: { also: 'bulk_data_access,excessive_calls' } }))).toBe(
      true,
    );
    expect(r.matches(makeAlert({ kind: 'enumeration', labels: { also: 'bulk_data_access' } }))).toBe(false);
    expect(r.matches(makeAlert({ kind: 'enumeration' }))).toBe(false);
    expect(r.matches(makeAlert({ kind: 'excessive_calls' }))).toBe(true);
  });

  it('acts on sensor_quiet only in a rule that names it: a rule for any kind leaves it out', () => {
    const p = parsePolicy(`
version: 1
rules:
  - name: any-medium
    match: { min_severity: medium }
    action: { type: rate_limit, scope: service, ttl: 1h }
  - name: quiet-sensors
    match: { kinds: [sensor_quiet], subject_types: [sensor] }
    action: { type: deny, scope: service, ttl: 1h }
    dry_run: true
`);
    const quiet = makeAlert({
      kind: 'sensor_quiet',
      severity: 'medium',
      service: 'meshward',
      subject: { type: 'sensor', value: 'nginx/ingress-a' },
    });
    expect(p.rules.map((r) => r.matches(quiet))).toEqual([false, true]);
    // any other kind still matches the rule for any kind
    expect(p.rules.map((r) => r.matches(makeAlert({ severity: 'medium' })))).toEqual([true, false]);
  });

  it('parses durations', () => {
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('1.5h', 'x')).toBe(5_400_000);
    expect(parseDuration('7d', 'x')).toBe(604_800_000);
    expect(parseDuration(1200, 'x')).toBe(1200);
    expect(() => parseDuration(-1, 'x')).toThrow(/x:/);
  });
});
