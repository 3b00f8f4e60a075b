import { describe, expect, it } from 'vitest';
import '../all.js';
import { resolveConfig } from '../../config/load.js';
import { registry } from '../../core/metrics.js';
import type { ApiCallRecord } from '../../core/record.js';
import { checkSections } from '../../app/check-sections.js';
import { AlertManager } from '../../correlator/alert-manager.js';
import { compileDetectors } from '../registry.js';
import { CapturingContext } from '../shared/capture.js';
import { checkConfig } from '../shared/detector-kit.js';
import { CustomRulesConfigSchema } from './config.js';
import { customRulesFactory } from './factory.js';
import { variablesMaker, variablesNamed } from './record-variables.js';

const SEC = 1000;
let n = 0;
const call = (ts: number, o: Partial<ApiCallRecord> = {}): ApiCallRecord => ({
  id: `r${n++}`,
  ts,
  durationMs: 3,
  sensor: { kind: 'test', id: 't' },
  service: 'admin',
  method: 'DELETE',
  host: 'admin.svc',
  path: '/admin/users/7',
  route: '/admin/users/{id}',
  status: 204,
  reqBytes: 0,
  respBytes: 0,
  source: { ip: '10.0.0.9' },
  user: { sub: 'u42' },
  ...o,
});

const ADMIN_DELETES = {
  name: 'admin-deletes',
  description: 'many deletes on the admin API by one user',
  severity: 'high',
  when: 'method == "DELETE" && route.startsWith("/admin/")',
  group_by: ['user.sub'],
  threshold: 5,
  window_seconds: 60,
};

const detector = (rules: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  customRulesFactory.create(
    customRulesFactory.prepare!(checkConfig('custom_rules', CustomRulesConfigSchema, { rules, ...extra })),
  );

const problemsOf = (rules: unknown[]): string[] => {
  try {
    compileDetectors({ custom_rules: { rules } });
  } catch (err) {
    return (err as { details: { problems: string[] } }).details.problems;
  }
  return [];
};

const errorsCounted = async (rule: string): Promise<number> =>
  (await registry.getSingleMetric('meshward_custom_rule_errors_total')?.get())?.values.find(
    (v) => v.labels.rule === rule,
  )?.value ?? 0;

describe('custom_rules config', () => {
  it('compiles and type-checks every condition when the config loads, naming the rule and the key', () => {
    expect(problemsOf([{ name: 'a', when: 'method == ' }])).toEqual([
      'detectors.custom_rules.rules[a].when: Unexpected token: EOF at column 11',
    ]);
    expect(problemsOf([{ name: 'b', when: 'usr.sub == "x"' }])).toEqual([
      'detectors.custom_rules.rules[b].when: Unknown variable: usr at column 1',
    ]);
    expect(problemsOf([{ name: 'c', when: 'user.sbu == "x"' }])).toEqual([
      'detectors.custom_rules.rules[c].when: No such key: sbu at column 6',
    ]);
    expect(problemsOf([{ name: 'd', when: 'status == "404"' }])).toEqual([
      'detectors.custom_rules.rules[d].when: no such overload: int == string at column 1',
    ]);
    expect(problemsOf([{ name: 'e', when: 'respBytes' }])).toEqual([
      'detectors.custom_rules.rules[e].when: the condition is of type int, not bool (compare it: `… == "x"`, `… > 0`)',
    ]);
  });

  it('refuses a matches() pattern that could backtrack exponentially on a crafted path, or one not written out', () => {
    expect(problemsOf([{ name: 'redos', when: 'path.matches("^/(a+)+$")' }])).toEqual([
      'detectors.custom_rules.rules[redos].when: the pattern "^/(a+)+$" of matches() may take exponential time on a crafted input (nested quantifiers); rewrite it without a quantified group that itself repeats',
    ]);
    expect(problemsOf([{ name: 'global', when: 'method == "GET" || host.matches("(a*)*b")' }])).toHaveLength(1);
    expect(problemsOf([{ name: 'computed', when: 'path.matches(host)' }])).toEqual([
      'detectors.custom_rules.rules[computed].when: the pattern of matches() must be a string literal (it is checked when the config loads)',
    ]);
    expect(
      problemsOf([{ name: 'fine', when: 'path.matches("^/admin/[a-z]+/[0-9]+$") && host.matches("internal")' }]),
    ).toEqual([]);
  });

  it('refuses a duplicate name, an unknown group_by field and a threshold below 1', () => {
    expect(problemsOf([ADMIN_DELETES, { ...ADMIN_DELETES, group_by: [] }])).toEqual([
      'detectors.custom_rules.rules[admin-deletes].name: another rule has this name (names must be unique)',
    ]);
    const [unknown] = problemsOf([{ ...ADMIN_DELETES, group_by: ['user.subject'] }]);
    expect(unknown).toMatch(
      /^detectors\.custom_rules\.rules\[admin-deletes\]\.group_by: unknown field user\.subject \(known: user\.sub, /,
    );
    expect(problemsOf([{ ...ADMIN_DELETES, group_by: ['params.tenant', 'tags.team', 'source.ip'] }])).toEqual([]);
    expect(problemsOf([{ ...ADMIN_DELETES, group_by: ['params.'] }])[0]).toMatch(/unknown field params\./);
    expect(problemsOf([{ ...ADMIN_DELETES, threshold: 0 }])).toEqual([
      'detectors.custom_rules.rules.0.threshold (admin-deletes): Expected integer to be greater or equal to 1',
    ]);
    expect(problemsOf([{ ...ADMIN_DELETES, name: 'Admin Deletes' }])[0]).toMatch(
      /rules\.0\.name \(Admin Deletes\): Expected string/,
    );
  });

  it('fails `meshward check` and every role start on a bad rule, naming the file', () => {
    const doc = { detectors: { custom_rules: { rules: [{ name: 'x', when: 'method = "GET"' }] } } };
    expect(() => checkSections(resolveConfig(doc), '/etc/meshward.yaml')).toThrow(
      /^configuration is invalid: \/etc\/meshward\.yaml: detectors\.custom_rules\.rules\[x\]\.when: /,
    );
  });

  it('is off without rules: no per-record step, so the correlator never calls it', () => {
    expect(compileDetectors({}).types).toContain('custom_rules');
    const d = detector([]);
    expect(d.observe).toBeUndefined();
    expect(d.stats?.()).toMatchObject({ rules: 0, groups: 0 });
  });
});

describe('custom_rules', () => {
  it('raises at the threshold within the window, with the rule label, subject, summary and evidence', () => {
    const d = detector([ADMIN_DELETES]);
    const ctx = new CapturingContext();
    for (let i = 0; i < 4; i++) d.observe!(call(i * SEC), ctx);
    // not a match: a read, another API
    d.observe!(call(5 * SEC, { method: 'GET' }), ctx);
    d.observe!(call(6 * SEC, { route: '/users/{id}', path: '/users/7' }), ctx);
    expect(ctx.signals).toHaveLength(0);
    d.observe!(call(7 * SEC), ctx);
    expect(ctx.signals).toHaveLength(1);
    const [s] = ctx.signals;
    expect(s).toMatchObject({
      kind: 'custom_rule',
      severity: 'high',
      service: 'admin',
      subject: { type: 'user', value: 'u42' },
      at: 7 * SEC,
      summary:
        'admin-deletes: user u42 made 5 matching calls in 1 min (DELETE /admin/users/{id}); many deletes on the admin API by one user',
      metrics: { requests: 5, threshold: 5, window_s: 60 },
      labels: { rule: 'admin-deletes', group: 'user.sub=u42' },
    });
    expect(s.endpoint).toBeUndefined();
    expect(s.recordIds).toHaveLength(5);
    // signalled again when the count doubles in the window, not on every match
    for (let i = 0; i < 5; i++) d.observe!(call(10 * SEC + i), ctx);
    expect(ctx.signals.map((x) => x.metrics.requests)).toEqual([5, 10]);
  });

  it('counts in a fixed window from the first match: matches spread over two windows do not add up', () => {
    const d = detector([ADMIN_DELETES]);
    const ctx = new CapturingContext();
    // 3 in the first minute, 3 in the next: never 5 within one window
    for (const t of [0, 20, 40, 60, 80, 100]) d.observe!(call(t * SEC), ctx);
    expect(ctx.signals).toHaveLength(0);
    for (const t of [110, 115]) d.observe!(call(t * SEC), ctx);
    expect(ctx.signals).toHaveLength(1);
    expect(ctx.signals[0].observed).toMatch(/^5 matching calls from 1970-01-01T00:01:00\.000Z to 1970-01-01T00:01:55/);
  });

  it('counts each group_by value apart, and a rule without group_by once for all', () => {
    const d = detector([
      { ...ADMIN_DELETES, threshold: 3 },
      { name: 'any-delete', when: 'method == "DELETE"', threshold: 3, severity: 'low' },
    ]);
    const ctx = new CapturingContext();
    for (let i = 0; i < 2; i++) for (const sub of ['alice', 'bob']) d.observe!(call(i * SEC, { user: { sub } }), ctx);
    // four deletes: the rule without group_by raised at its third; neither user made three
    expect(ctx.signals.map((s) => [s.labels?.rule, s.subject])).toEqual([['any-delete', undefined]]);
    expect(ctx.signals[0].summary).toBe('any-delete: 3 matching calls in 1 min (DELETE /admin/users/{id})');
    d.observe!(call(3 * SEC, { user: { sub: 'bob' } }), ctx);
    expect(ctx.signals.at(-1)).toMatchObject({ labels: { rule: 'admin-deletes' }, subject: { value: 'bob' } });
    // an anonymous delete has no user to count against
    d.observe!(call(4 * SEC, { user: undefined }), ctx);
    expect(d.stats?.()).toMatchObject({ matches_ungrouped: 1, groups: 3 });
  });

  it('takes the subject from the first group_by field, and names every field in the summary', () => {
    const d = detector([
      { name: 'scanner', when: 'status == 404', group_by: ['source.ip', 'service'], threshold: 2 },
      { name: 'by-route', when: 'status == 404', group_by: ['route'], threshold: 2 },
    ]);
    const ctx = new CapturingContext();
    for (const path of ['/wp-login.php', '/.env', '/.env'])
      d.observe!(call(0, { status: 404, method: 'GET', path, route: undefined }), ctx);
    const [scanner, byRoute] = ctx.signals;
    expect(scanner.subject).toEqual({ type: 'ip', value: '10.0.0.9' });
    expect(scanner.summary).toBe(
      'scanner: ip 10.0.0.9, service admin made 2 matching calls in 1 min (GET /wp-login.php, GET /.env)',
    );
    expect(scanner.labels).toEqual({ rule: 'scanner', group: 'source.ip=10.0.0.9,service=admin' });
    // a route is no subject: the alert has none, the label says the group
    expect(byRoute.subject).toBeUndefined();
    expect(byRoute.labels?.group).toBe('route=/.env');
    expect(ctx.signals).toHaveLength(2);
  });

  it('names the endpoint when group_by pins one (endpoint, or method and route), and keeps its first service', () => {
    const d = detector([
      { name: 'per-endpoint', when: 'status == 403', group_by: ['source.ip', 'endpoint'], threshold: 2 },
      { name: 'per-route', when: 'status == 403', group_by: ['route', 'method'], threshold: 2 },
      { name: 'route-only', when: 'status == 403', group_by: ['route'], threshold: 2 },
      { name: 'per-user', when: 'status == 403', group_by: ['user.sub'], threshold: 2 },
    ]);
    const ctx = new CapturingContext();
    d.observe!(call(0, { status: 403 }), ctx);
    // the same user and route at another service: the user's group spans both
    d.observe!(call(SEC, { status: 403, service: 'billing' }), ctx);
    const byRule = Object.fromEntries(ctx.signals.map((s) => [s.labels?.rule, s]));
    expect(Object.keys(byRule).sort()).toEqual(['per-endpoint', 'per-route', 'per-user', 'route-only']);
    expect(byRule['per-endpoint']).toMatchObject({ endpoint: 'DELETE /admin/users/{id}', service: 'admin' });
    expect(byRule['per-route'].endpoint).toBe('DELETE /admin/users/{id}');
    // a route without its method is not an endpoint
    expect(byRule['route-only'].endpoint).toBeUndefined();
    // the group's window began at admin: its alert stays admin's when its later matches are elsewhere
    expect(byRule['per-user']).toMatchObject({ service: 'admin', subject: { value: 'u42' } });
    expect(byRule['per-user'].endpoint).toBeUndefined();
    // one alert for the group: the doubling signal from billing refreshes it rather than raising another
    for (let i = 0; i < 2; i++) d.observe!(call(2 * SEC + i, { status: 403, service: 'billing', route: '/x' }), ctx);
    const alerts = new AlertManager();
    for (const sig of ctx.signals.filter((x) => x.labels?.rule === 'per-user')) alerts.signal(sig);
    expect(ctx.signals.filter((x) => x.labels?.rule === 'per-user').map((x) => x.service)).toEqual(['admin', 'admin']);
    expect(alerts.drain().map((a) => [a.service, a.count])).toEqual([['admin', 2]]);
  });

  it('checks a disabled rule (enabled: false) as the others but does not run it', () => {
    // a mistake in a disabled rule is refused all the same: enabling it later must not fail the start
    expect(problemsOf([{ ...ADMIN_DELETES, enabled: false, when: 'usr.sub == "1"' }])).toEqual([
      'detectors.custom_rules.rules[admin-deletes].when: Unknown variable: usr at column 1',
    ]);
    const d = detector([
      { ...ADMIN_DELETES, threshold: 1, enabled: false },
      { name: 'any-delete', when: 'method == "DELETE"', threshold: 1 },
    ]);
    const ctx = new CapturingContext();
    d.observe!(call(0), ctx);
    expect(ctx.signals.map((s) => s.labels?.rule)).toEqual(['any-delete']);
    expect(d.stats?.()).toMatchObject({ rules: 1, rules_disabled: 1 });
    // only disabled rules: no per-record step at all
    expect(detector([{ ...ADMIN_DELETES, enabled: false }]).observe).toBeUndefined();
  });

  it('counts a condition that cannot be evaluated on a record, as no match, and never throws', async () => {
    const d = detector([
      { name: 'debug-param', when: 'params.debug == "1"', threshold: 1 },
      { name: 'safe-debug-param', when: '"debug" in params && params.debug == "1"', threshold: 1 },
    ]);
    const ctx = new CapturingContext();
    const before = await errorsCounted('debug-param');
    expect(() => d.observe!(call(0), ctx)).not.toThrow();
    d.observe!(call(1, { params: { debug: '1' } }), ctx);
    expect(await errorsCounted('debug-param')).toBe(before + 1);
    expect(await errorsCounted('safe-debug-param')).toBe(0);
    expect(ctx.signals.map((s) => s.labels?.rule)).toEqual(['debug-param', 'safe-debug-param']);
    expect(d.stats?.()).toMatchObject({ errors: 1, matches: 2, alerts: 2 });
  });

  it('sees absent optional fields as "", false and 0', () => {
    const d = detector([
      {
        name: 'outside',
        when: '!source.mtls && source.principal == "" && user.sub == "" && user.tokenHash == "" && region == "" && size(tags) == 0 && respBytes > 1000000 && durationMs > 2.5',
      },
    ]);
    const ctx = new CapturingContext();
    d.observe!(call(0, { user: undefined, respBytes: 2_000_000 }), ctx);
    d.observe!(call(1, { user: undefined, respBytes: 10 }), ctx);
    expect(ctx.signals).toHaveLength(1);
  });

  it('reads from the record only the variables its conditions name, and those right', () => {
    expect([...variablesNamed(['user.sub == "x" && status >= 500', '"source" in tags'])].sort()).toEqual([
      'source',
      'status',
      'tags',
      'user',
    ]);
    const vars = variablesMaker(new Set(['user']))(
      call(0, { respBytes: 7, source: { ip: '1.1.1.1', mtls: true } }),
      'GET /x',
    );
    expect(vars.user.sub).toBe('u42');
    expect([vars.source.ip, vars.source.mtls, vars.respBytes, vars.status, vars.route]).toEqual([
      '',
      false,
      0n,
      204n,
      '/x',
    ]);
    const all = variablesMaker(variablesNamed(['source.mtls && respBytes > 0']))(
      call(0, { respBytes: 7, source: { ip: '1.1.1.1', mtls: true } }),
      'GET /x',
    );
    expect([all.source.ip, all.source.mtls, all.respBytes]).toEqual(['1.1.1.1', true, 7n]);
  });

  it('carries its window across a snapshot and restore mid-window (as JSON), and drops the counts of removed rules', () => {
    const rules = [ADMIN_DELETES, { name: 'gone-later', when: 'true', threshold: 100 }];
    const first = detector(rules);
    const ctx = new CapturingContext();
    for (let i = 0; i < 3; i++) first.observe!(call(i * SEC), ctx);
    const state = JSON.parse(JSON.stringify(first.snapshot()));
    const second = detector([ADMIN_DELETES]);
    second.restore(state);
    expect(second.stats?.()).toMatchObject({ groups: 1, matches: 6 });
    for (let i = 3; i < 5; i++) second.observe!(call(i * SEC), ctx);
    expect(ctx.signals.map((s) => s.metrics.requests)).toEqual([5]);
    // a checkpoint of another shape starts empty, counted, never thrown
    const third = detector([ADMIN_DELETES]);
    third.restore({ v: 9 });
    expect(third.stats?.()).toMatchObject({ groups: 0 });
  });

  it('keeps its counts bounded: past max_groups the least recently matched is dropped, counted', () => {
    const d = detector([{ ...ADMIN_DELETES, threshold: 2 }], { max_groups: 2 });
    const ctx = new CapturingContext();
    for (const sub of ['a', 'b', 'c']) d.observe!(call(0, { user: { sub } }), ctx);
    expect(d.stats?.()).toMatchObject({ groups: 2, groups_evicted: 1 });
  });

  it('gives each rule its own alert for the same subject (the rule label is part of the alert identity)', () => {
    const d = detector([
      { name: 'rule-a', when: 'true' },
      { name: 'rule-b', when: 'true' },
    ]);
    const ctx = new CapturingContext();
    d.observe!(call(0), ctx);
    const alerts = new AlertManager();
    for (const s of ctx.signals) alerts.signal(s);
    const out = alerts.drain();
    expect(out.map((a) => a.labels?.rule).sort()).toEqual(['rule-a', 'rule-b']);
    expect(new Set(out.map((a) => a.id)).size).toBe(2);
  });
});
