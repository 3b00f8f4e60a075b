import '../detectors/all.js';
import { runCliSource } from '../../test/harness/cli-source.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RulesTestResult, runRulesTest } from './rules-test.js';
import { rulesTestTable } from './rules-test-output.js';

const dir = mkdtempSync(join(tmpdir(), 'mw-rules-test-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

const config = file(
  'meshward.yaml',
  `detectors:
  custom_rules:
    rules:
      - name: admin-deletes
        description: deletes on the admin API
        when: 'method == "DELETE" && route.startsWith("/admin/")'
        group_by: [user.sub]
        threshold: 2
      # a record without params has no key debug: an evaluation error, counted
      - name: debug-param
        when: 'params.debug == "1"'
`,
);
const typo = file(
  'typo.yaml',
  `detectors:
  custom_rules:
    rules:
      - name: fine
        when: 'status == 404'
      - name: typo
        when: 'usr.sub == "42"'
`,
);

const T0 = Date.parse('2026-12-02T10:00:00Z');
const record = (n: number, fields: Record<string, unknown>) =>
  JSON.stringify({
    v: 1,
    id: `r${n}`,
    ts: T0 + n * 1000,
    durationMs: 5,
    sensor: { kind: 'envoy_wasm', id: 's1' },
    service: 'admin',
    method: 'DELETE',
    host: 'admin.svc',
    path: `/admin/users/${n}`,
    route: '/admin/users/{id}',
    status: 204,
    reqBytes: 0,
    respBytes: 0,
    source: { ip: '10.0.0.9' },
    ...fields,
  });
const records = file(
  'records.jsonl',
  [
    record(1, { user: { sub: '42' } }),
    record(2, { user: { sub: '42' } }),
    // an anonymous delete: matched, but group_by user.sub has nothing to count it against
    record(3, {}),
    record(4, { user: { sub: '7' } }),
    record(5, {
      method: 'GET',
      path: '/orders?debug=1',
      route: '/orders',
      params: { debug: '1' },
      user: { sub: '42' },
    }),
    '{"v":1,"id":"short"}',
    'not json',
    '',
  ].join('\n'),
);

const json = (stdout: string) => JSON.parse(stdout) as RulesTestResult;

describe('meshward rules test: the config custom rules tried on records before deploying them', () => {
  it('counts distinct groups up to a cap, and says when there were more', async () => {
    const capped = await runRulesTest({ config, records, maxGroups: 1 });
    const admin = capped.rules.find((r) => r.rule === 'admin-deletes');
    // two users' groups, one counted: the second user's matches are in no group's count
    expect(admin).toMatchObject({ matched: 4, ungrouped: 1, groups: 1, groupsCapped: true });
    expect(rulesTestTable(capped)).toContain('| admin-deletes | 4 | 0 | 1 | 1+ |');
    const full = await runRulesTest({ config, records });
    expect(full.rules.find((r) => r.rule === 'admin-deletes')).not.toHaveProperty('groupsCapped');
  });

  it('counts matches, errors, ungrouped matches, groups and alerts per rule, and names the lines that are not records', async () => {
    const [asJson, asTable] = await Promise.all([
      runCliSource(['rules', 'test', '-c', config, '--records', records, '--json']),
      runCliSource(['rules', 'test', '-c', config, '--records', records]),
    ]);
    expect(asJson.stderr).toBe('');
    expect(asJson.code).toBe(0);
    expect(json(asJson.stdout)).toEqual({
      records: 5,
      rejected: 2,
      firstRejection: 'line 6: /ts: Expected required property',
      rules: [
        {
          rule: 'admin-deletes',
          matched: 4,
          errors: 0,
          ungrouped: 1,
          groups: 2,
          largestGroup: 2,
          samples: ['r1', 'r2', 'r3'],
          alerts: 1,
          alertSummaries: [
            'admin-deletes: user 42 made 2 matching calls in 1 min (DELETE /admin/users/{id}); deletes on the admin API',
          ],
        },
        {
          rule: 'debug-param',
          matched: 1,
          errors: 4,
          firstError: { recordId: 'r1', message: 'No such key: debug' },
          ungrouped: 0,
          groups: 1,
          largestGroup: 1,
          samples: ['r5'],
          alerts: 1,
          alertSummaries: ['debug-param: 1 matching call in 1 min (GET /orders)'],
        },
      ],
    });
    expect(asTable).toEqual({
      code: 0,
      stderr: '',
      stdout: `| rule | matched | errors | ungrouped | groups | largest group | alerts |
|---|---|---|---|---|---|---|
| admin-deletes | 4 | 0 | 1 | 2 | 2 | 1 |
| debug-param | 1 | 4 | 0 | 1 | 1 | 1 |

admin-deletes
  samples: r1, r2, r3
  alert: admin-deletes: user 42 made 2 matching calls in 1 min (DELETE /admin/users/{id}); deletes on the admin API
debug-param
  samples: r5
  first error: record r1: No such key: debug
  alert: debug-param: 1 matching call in 1 min (GET /orders)

5 records (2 lines rejected; first: line 6: /ts: Expected required property)
`,
    });
  }, 60_000);

  it('--rule limits the rules; an unknown one is refused with the names; --fail-on-error exits 1 on an evaluation error', async () => {
    const [one, unknown, failing, clean] = await Promise.all([
      runCliSource(['rules', 'test', '-c', config, '--records', records, '--rule', 'debug-param', '--json']),
      runCliSource(['rules', 'test', '-c', config, '--records', records, '--rule', 'admin-deletes', '--rule', 'nope']),
      runCliSource(['rules', 'test', '-c', config, '--records', records, '--json', '--fail-on-error']),
      runCliSource(['rules', 'test', '-c', config, '--records', records, '--rule', 'admin-deletes', '--fail-on-error']),
    ]);
    expect(one.code).toBe(0);
    expect(json(one.stdout).rules.map((r) => r.rule)).toEqual(['debug-param']);
    expect(unknown).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'meshward: MW_ERR_BAD_REQUEST: bad request: --rule nope: no such rule in detectors.custom_rules (rules: admin-deletes, debug-param)\n',
    });
    // the output is written all the same: the exit code is for a CI step
    expect(failing.code).toBe(1);
    expect(json(failing.stdout).rules[1].errors).toBe(4);
    expect(clean.code).toBe(0);
  }, 60_000);

  it('a config the correlator would refuse is refused the same way, naming the rule; a missing file, or no rules (exit 2)', async () => {
    const missing = join(dir, 'missing.jsonl');
    const [refused, unreadable, none] = await Promise.all([
      runCliSource(['rules', 'test', '-c', typo, '--records', records]),
      runCliSource(['rules', 'test', '-c', config, '--records', missing]),
      runCliSource(['rules', 'test', '-c', file('no-rules.yaml', 'detectors: {}\n'), '--records', records]),
    ]);
    expect(refused).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'meshward: MW_ERR_CONFIG_INVALID: configuration is invalid: detectors.custom_rules.rules[typo].when: Unknown variable: usr at column 1\n',
    });
    expect(unreadable).toEqual({
      code: 2,
      stdout: '',
      stderr: `meshward: MW_ERR_FILE_UNREADABLE: a file cannot be read: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'\n`,
    });
    expect(none).toEqual({
      code: 2,
      stdout: '',
      stderr: `meshward: MW_ERR_BAD_REQUEST: bad request: ${join(dir, 'no-rules.yaml')}: detectors.custom_rules has no rules to test\n`,
    });
  }, 60_000);

  it('tries a disabled rule (enabled: false) as if it were on, and says it is disabled', async () => {
    const withDisabled = file(
      'disabled.yaml',
      `detectors:
  custom_rules:
    rules:
      - name: admin-deletes
        when: 'method == "DELETE" && route.startsWith("/admin/")'
        group_by: [user.sub]
        threshold: 2
        enabled: false
`,
    );
    const [asJson, asTable] = await Promise.all([
      runCliSource(['rules', 'test', '-c', withDisabled, '--records', records, '--json']),
      runCliSource(['rules', 'test', '-c', withDisabled, '--records', records]),
    ]);
    expect(json(asJson.stdout).rules).toMatchObject([{ rule: 'admin-deletes', disabled: true, matched: 4, alerts: 1 }]);
    expect(asTable.stdout).toContain('| admin-deletes (disabled) | 4 | 0 | 1 | 2 | 2 | 1 |');
  }, 60_000);

  it('--record: each rule matched, not matched or its error, with the values its condition read', async () => {
    const [matched, notMatched, invalid] = await Promise.all([
      runCliSource(['rules', 'test', '-c', config, '--record', record(9, { user: { sub: '42' } })]),
      runCliSource([
        'rules',
        'test',
        '-c',
        config,
        '--record',
        record(9, { method: 'GET', params: { debug: '0' }, user: { sub: '42' } }),
      ]),
      runCliSource(['rules', 'test', '-c', config, '--record', '{"v":1,"id":"short"}']),
    ]);
    expect(matched).toEqual({
      code: 0,
      stderr: '',
      stdout: `admin-deletes: matched
  method="DELETE" route="/admin/users/{id}"
debug-param: error: No such key: debug
  params={}
`,
    });
    expect(notMatched).toEqual({
      code: 0,
      stderr: '',
      stdout: `admin-deletes: not matched
  method="GET" route="/admin/users/{id}"
debug-param: not matched
  params={"debug":"0"}
`,
    });
    expect(invalid).toEqual({
      code: 2,
      stdout: '',
      stderr: 'meshward: MW_ERR_RECORD_INVALID: record failed validation: --record: /ts: Expected required property\n',
    });
  }, 60_000);
});
