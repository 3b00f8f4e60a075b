import { runCliSource } from '../../test/harness/cli-source.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PolicyEngine, createPolicyEngine } from '../../policy-actions/engine/engine.js';
import { parsePolicy } from '../../policy-actions/engine/policy.js';
import { makeAlert } from '../../policy-actions/engine/testdata/alerts.js';
import { RecordingAdapter } from '../../policy-actions/engine/testdata/recording-adapter.js';
import { AlertRepository } from '../alerts/alert-repository.js';
import { SilenceRepository } from '../alerts/silences.js';
import { alertRoutes } from '../api/alert-routes.js';
import { AnalystDirectory, analystRoutes } from '../api/analyst-directory.js';
import { consoleRoutes } from '../api/console-routes.js';
import { INVENTORY_KEY, inventoryRoutes } from '../api/inventory-routes.js';
import { createApiServer } from '../api/api-server.js';
import { ApiAuthenticator } from '../api/auth.js';
import { silenceRoutes } from '../api/silence-routes.js';
import { decisionRoutesBehindRoles } from '../app/actions.js';
import type { Alert } from '../core/alert.js';
import type { ApiEntry } from '../inventory/api-entry.js';
import type { ApiCallRecord } from '../core/record.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { analystConnection } from './analyst-client.js';
import { registerAnalystCommands } from './analyst-commands.js';

const KEYS = { viewer: 'viewer-key-0123456789', responder: 'responder-key-0123456789' };
const policy = parsePolicy(
  readFileSync(join(import.meta.dirname, '../../policy-actions/engine/testdata/policy.yaml'), 'utf8'),
);

const alert = (i: number, over: Partial<Alert> = {}): Alert => ({
  v: 1,
  id: `alr_cli_${i}`,
  kind: 'enumeration',
  severity: 'medium',
  state: 'open',
  service: 'accounts',
  endpoint: 'GET /accounts/{id}',
  subject: { type: 'ip', value: `198.51.100.${i}` },
  firstSeen: 1_700_000_000_000,
  lastSeen: 1_700_000_000_000 + i * 1000,
  count: i,
  summary: `enumeration of accounts from 198.51.100.${i}`,
  evidence: { recordIds: [], metrics: {} },
  updatedAt: 1_700_000_000_000 + i * 1000,
  ...over,
});

/** the calls behind alr_cli_2 */
const evidence: ApiCallRecord[] = [2, 1].map((i) => ({
  v: 1,
  id: `rec_cli_${i}`,
  ts: 1_700_000_000_000 + i * 1000,
  durationMs: 14 + i,
  sensor: { kind: 'envoy_wasm', id: 'edge-1' },
  service: 'accounts',
  method: 'GET',
  host: 'accounts.internal',
  path: `/accounts/${1000 + i}`,
  status: 200,
  reqBytes: 0,
  respBytes: 512,
  source: { ip: '198.51.100.2' },
  user: { sub: 'user-7' },
}));

const DAY = 86_400_000;
const entry = (id: string, over: Partial<ApiEntry>): ApiEntry => ({
  id,
  service: 'accounts',
  method: 'GET',
  route: '/accounts/{id}',
  hosts: ['accounts.internal'],
  firstSeen: Date.now() - 30 * DAY,
  lastSeen: Date.now() - 60_000,
  count: 1200,
  callers: ['frontend'],
  params: [],
  statusMix: { '2xx': 1200 },
  auth: { token: 1200, mtls: 0, key: 0, none: 0 },
  catalogueId: 'cat_accounts',
  labels: { category: { value: 'identity', probability: 0.91, neighbours: ['cat_accounts'] } },
  state: 'catalogued',
  ...over,
});
const inventory = [
  entry('api_accounts_get', {}),
  entry('api_export_get', {
    route: '/internal/export',
    params: ['email', 'format'],
    firstSeen: Date.now() - 2 * DAY,
    lastSeen: Date.now() - 3 * DAY,
    auth: { token: 10, mtls: 0, key: 0, none: 30 },
    catalogueId: null,
    state: 'shadow',
    labels: {
      category: { value: 'unassigned', probability: 0.08, neighbours: ['cat_accounts'], candidate: 'reporting' },
    },
  }),
];

describe('meshward alerts / decisions / silences / inventory (the analyst API from a terminal)', () => {
  let app: FastifyInstance;
  let alerts: AlertRepository;
  let silences: SilenceRepository;
  let engine: PolicyEngine;
  let api: string;
  const keyFile = (key: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'mw-cli-')), 'key');
    writeFileSync(path, `${key}\n`);
    return path;
  };
  let responderKey: string;

  beforeAll(async () => {
    const store = new MemoryStore();
    alerts = new AlertRepository(store);
    silences = new SilenceRepository(store);
    engine = createPolicyEngine({
      store,
      policy,
      adapters: { 'gateways/test': new RecordingAdapter('gateways/test', ['deny', 'rate_limit', 'step_up']) },
      config: { expiry_interval_ms: 0, retry_base_delay_ms: 1 },
    });
    const auth = new ApiAuthenticator([
      { name: 'vic', key: KEYS.viewer, role: 'viewer' },
      { name: 'ray', key: KEYS.responder, role: 'responder' },
    ]);
    const analysts = new AnalystDirectory(store, () => auth.keyPrincipals());
    analysts.seen({ id: '00u7kimx', role: 'responder', via: 'oidc', name: 'kim@corp.test' });
    app = await createApiServer({
      auth,
      onAuthenticated: (p) => analysts.seen(p),
      logger: silentLogger,
      health: () => ({ bus: true }),
      plugins: [
        consoleRoutes(),
        analystRoutes(analysts),
        alertRoutes({ alerts, evidence: async (ids) => evidence.filter((x) => ids.includes(x.id)) }),
        silenceRoutes(silences, alerts),
        decisionRoutesBehindRoles(engine),
        inventoryRoutes(store),
      ],
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    api = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    responderKey = keyFile(KEYS.responder);
    for (const i of [1, 2, 3])
      await alerts.upsert(alert(i, i === 2 ? { evidence: { recordIds: evidence.map((x) => x.id), metrics: {} } } : {}));
    for (const e of inventory) await store.hset(INVENTORY_KEY, e.id, JSON.stringify(e));
  });
  afterAll(async () => {
    await app.close();
    await engine.close();
  });

  /** runs `meshward <args…>` as the CLI does, and returns what it printed */
  async function run(args: string[], key = responderKey): Promise<string> {
    let printed = '';
    const program = new Command().exitOverride();
    registerAnalystCommands(program, (t) => {
      printed += t;
    });
    const [group, ...rest] = args;
    await program.parseAsync([group, ...rest, '--api', api, '--key-file', key], { from: 'user' });
    return printed;
  }

  /** the same, for a command expected to fail: what it printed before, and the error it ended with */
  async function runFailing(args: string[]): Promise<{ printed: string; error: unknown }> {
    let printed = '';
    const program = new Command().exitOverride();
    registerAnalystCommands(program, (t) => {
      printed += t;
    });
    const [group, ...rest] = args;
    const error = await program
      .parseAsync([group, ...rest, '--api', api, '--key-file', responderKey], { from: 'user' })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    return { printed, error };
  }

  /** `meshward <args…>` as an operator runs it: the CLI's entry point in its own process */
  const runProcess = (args: string[]) => runCliSource([...args, '--api', api, '--key-file', responderKey]);

  it('lists the open alerts as a table, filtered, or as JSON', async () => {
    const text = await run(['alerts', 'list']);
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SEVERITY\s+KIND\s+SERVICE\s+STATE\s+OWNER\s+COUNT\s+LAST SEEN\s+SUMMARY$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['alr_cli_3', 'alr_cli_2', 'alr_cli_1']);
    expect(lines[1]).toContain('2023-11-14T22:13:23Z');
    const json = JSON.parse(await run(['alerts', 'list', '--subject', '198.51.100.2', '--json']));
    expect(json.items.map((a: Alert) => a.id)).toEqual(['alr_cli_2']);
    const none = await run(['alerts', 'list', '--endpoint', 'GET /accounts/{id}/orders']);
    expect(none.trim().split('\n')).toHaveLength(1);
    const all = await run(['alerts', 'list', '--endpoint', 'GET /accounts/{id}']);
    expect(all.trim().split('\n')).toHaveLength(4);
  });

  it('sorts the open queue: by severity (then newest), by count; a sort the API refuses says why', async () => {
    await alerts.upsert(alert(9, { id: 'alr_cli_sort_hi', severity: 'high', count: 1, service: 'sorting' }));
    await alerts.upsert(
      alert(8, { id: 'alr_cli_sort_lo', severity: 'low', count: 40, service: 'sorting', firstSeen: 1_700_000_005_000 }),
    );
    await alerts.upsert(alert(7, { id: 'alr_cli_sort_mid', severity: 'medium', count: 5, service: 'sorting' }));
    const ids = async (args: string[]) =>
      (await run(['alerts', 'list', '--service', 'sorting', ...args]))
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]);
    expect(await ids([])).toEqual(['alr_cli_sort_hi', 'alr_cli_sort_lo', 'alr_cli_sort_mid']);
    expect(await ids(['--sort', 'severity'])).toEqual(['alr_cli_sort_hi', 'alr_cli_sort_mid', 'alr_cli_sort_lo']);
    expect(await ids(['--sort', 'count'])).toEqual(['alr_cli_sort_lo', 'alr_cli_sort_mid', 'alr_cli_sort_hi']);
    // sorted by first seen, the list shows it
    const byFirst = (await run(['alerts', 'list', '--service', 'sorting', '--sort', 'first_seen'])).trim().split('\n');
    expect(byFirst[0]).toMatch(/COUNT\s+FIRST SEEN\s+LAST SEEN/);
    expect(byFirst[1]).toMatch(/^alr_cli_sort_lo .* 2023-11-14T22:13:25Z\s+2023-11-14T22:13:28Z /);
    expect((await run(['alerts', 'list', '--service', 'sorting'])).split('\n')[0]).not.toContain('FIRST SEEN');
    await expect(run(['alerts', 'list', '--state', 'any', '--sort', 'severity'])).rejects.toMatchObject({
      code: 'MW_ERR_BAD_REQUEST',
      message: expect.stringContaining('sort=severity lists the open or acknowledged alerts'),
    });
    for (const id of ['alr_cli_sort_hi', 'alr_cli_sort_lo', 'alr_cli_sort_mid'])
      await alerts.transition(id, 'resolve', 'ray');
  });

  it('triages: take alerts, note one, acknowledge and resolve with a comment; what was left says why', async () => {
    expect(await run(['alerts', 'assign', 'alr_cli_1', 'alr_cli_2'])).toBe(
      'alr_cli_1  open  owner ray\nalr_cli_2  open  owner ray\n',
    );
    const mine = await run(['alerts', 'list', '--mine']);
    expect(
      mine
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['alr_cli_2', 'alr_cli_1']);
    expect(await run(['alerts', 'note', 'alr_cli_1', '-m', 'called the accounts team'])).toBe('alr_cli_1  noted\n');
    expect(await run(['alerts', 'ack', 'alr_cli_1', '-m', 'looking'])).toBe('alr_cli_1  acknowledged  owner ray\n');
    expect(await run(['alerts', 'ack', 'alr_cli_1'])).toBe('alr_cli_1  left as it was: alert is acknowledged\n');
    await run(['alerts', 'resolve', 'alr_cli_1', '-m', 'pentest']);
    // an OIDC colleague: an opaque id, shown with the name the directory has for it
    await run(['alerts', 'assign', 'alr_cli_3', '--to', '00u7kimx']);
    expect((await alerts.get('alr_cli_3'))?.assignee).toBe('00u7kimx');
    expect(await run(['alerts', 'list', '--subject', '198.51.100.3'])).toContain('  kim@corp.test (00u7kimx)  ');
    // kim's now: taking it needs --takeover, and its history says from whom
    expect(await run(['alerts', 'assign', 'alr_cli_3'])).toBe(
      'alr_cli_3  left as it was: kim@corp.test (00u7kimx) owns it (--takeover takes it over)\n',
    );
    expect(await run(['alerts', 'assign', 'alr_cli_3', '--takeover', '-m', 'kim is off'])).toBe(
      'alr_cli_3  open  owner ray\n',
    );
    expect(await run(['alerts', 'show', 'alr_cli_3'])).toMatch(
      /ray {2}assigned to ray, taking it over from kim@corp\.test \(00u7kimx\): kim is off\n$/,
    );
    // kim takes it back: unassigning it needs --takeover too, and its history says whom it was taken from
    await alerts.assign('alr_cli_3', '00u7kimx', '00u7kimx', undefined, { takeover: true });
    expect(await run(['alerts', 'unassign', 'alr_cli_3'])).toBe(
      'alr_cli_3  left as it was: kim@corp.test (00u7kimx) owns it (--takeover unassigns it all the same)\n',
    );
    expect((await alerts.get('alr_cli_3'))?.assignee).toBe('00u7kimx');
    expect(await run(['alerts', 'unassign', 'alr_cli_3', '--takeover', '-m', 'kim moved team'])).toBe(
      'alr_cli_3  open\n',
    );
    expect(await run(['alerts', 'show', 'alr_cli_3'])).toMatch(
      /ray {2}unassigned, removing kim@corp\.test \(00u7kimx\) as owner: kim moved team\n$/,
    );
    // each of those has been acted on; one the correlators resolved, unseen, has not
    const quiet = { ...(await alerts.get('alr_cli_2'))!, id: 'alr_cli_4', state: 'resolved' as const };
    delete quiet.triagedAt;
    delete quiet.assignee;
    await alerts.upsert({ ...quiet, subject: { type: 'ip', value: '198.51.100.99' } });
    const untriaged = await run(['alerts', 'list', '--state', 'any', '--untriaged']);
    expect(
      untriaged
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['alr_cli_4']);
    const shown = await run(['alerts', 'show', 'alr_cli_1']);
    expect(shown).toContain('state:      resolved');
    expect(shown).toContain('owner:      ray');
    expect(shown).toMatch(/ray {2}assigned to ray\n.*ray {2}comment: called the accounts team\n/s);
    expect(shown).toMatch(/ray {2}resolve: pentest\n$/);
    expect(shown).toContain('\nno evidence records kept\n');
    // the calls behind an alert, oldest first: enough to judge it from a terminal
    const calls = (await run(['alerts', 'show', 'alr_cli_2'])).split('\nevidence (2 calls):\n')[1].split('\n');
    expect(calls[0]).toMatch(/^TIME\s+METHOD\s+PATH\s+STATUS\s+DURATION\s+SOURCE\s+USER$/);
    expect(calls.slice(1, 3).map((l) => l.split(/\s+/).join(' '))).toEqual([
      '2023-11-14T22:13:21Z GET /accounts/1001 200 15 ms 198.51.100.2 user-7',
      '2023-11-14T22:13:22Z GET /accounts/1002 200 16 ms 198.51.100.2 user-7',
    ]);
  });

  it('refuses clearly: a viewer may not triage, an unknown alert is not found, no key, no server', async () => {
    await expect(run(['alerts', 'ack', 'alr_cli_2'], keyFile(KEYS.viewer))).rejects.toMatchObject({
      code: 'MW_ERR_FORBIDDEN',
    });
    await expect(run(['alerts', 'show', 'alr_nope'])).rejects.toMatchObject({
      code: 'MW_ERR_NOT_FOUND',
      message: 'not found: alert alr_nope',
    });
    expect(() => analystConnection({ api }, {})).toThrow(/no API key: set MESHWARD_API_KEY/);
    expect(analystConnection({}, { MESHWARD_API_KEY: 'k', MESHWARD_API_URL: 'http://h:1/' })).toEqual({
      url: 'http://h:1',
      key: 'k',
    });
    const demo = join(mkdtempSync(join(tmpdir(), 'mw-cli-')), 'demo-credentials.json');
    writeFileSync(demo, JSON.stringify({ adminKey: 'admin-key', sensorToken: 's' }));
    expect(analystConnection({ keyFile: demo }, {}).key).toBe('admin-key');
    const program = new Command().exitOverride();
    registerAnalystCommands(program, () => undefined);
    await expect(
      program.parseAsync(['alerts', 'list', '--api', 'http://127.0.0.1:9', '--key-file', responderKey], {
        from: 'user',
      }),
    ).rejects.toMatchObject({ code: 'MW_ERR_API_UNAVAILABLE' });
  });

  it('lists, approves and lifts decisions; adds, lists and ends silences', async () => {
    const risky = makeAlert({ kind: 'brute_force', severity: 'high', subject: { type: 'user', value: 'alice' } });
    const [d] = await engine.handleAlert(risky);
    const listed = await run(['decisions', 'list', '--state', 'pending_approval']);
    expect(listed).toContain(d.id);
    expect(listed).toContain('pending_approval');
    // no enforcement end yet: until when it may be approved, and how long it would then be enforced
    const deadline = new Date(d.approvalDeadline ?? 0).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(listed).toContain(`approve by ${deadline}; then enforced 30 min`);
    expect(await run(['decisions', 'list', '--alert', risky.id])).toContain(d.id);
    expect(await run(['decisions', 'list', '--alert', 'alert_other'])).not.toContain(d.id);
    const approved = await run(['decisions', 'approve', d.id]);
    const until = (await engine.get(d.id))?.until ?? 0;
    expect(approved).toBe(`${d.id}  active until ${new Date(until).toISOString().replace(/\.\d{3}Z$/, 'Z')}\n`);
    expect(until - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(await run(['decisions', 'lift', d.id, '-m', 'false positive'])).toBe(`${d.id}  lifted\n`);

    const added = await run([
      'silences',
      'add',
      '--subject',
      '198.51.100.2',
      '--max-severity',
      'medium',
      '--for',
      '4h',
      '-m',
      'scanner run',
    ]);
    expect(added).toMatch(/^sil_\S+ {2}until \S+; 1 resolved now\n$/);
    const id = added.split(' ')[0];
    expect(await run(['silences', 'list'])).toMatch(
      new RegExp(
        `^ID\\s+ACTIVE\\s+MATCHES\\s+ENDS\\s+SUPPRESSED\\s+LAST SUPPRESSED\\s+BY\\s+COMMENT\n${id}\\s+yes\\s+subject=198\\.51\\.100\\.2 max_severity=medium\\s+\\S+\\s+0\\s+-\\s+ray\\s`,
      ),
    );
    // what it suppressed, as the alerts feed counts it in the store
    await silences.recordSuppressed(new Map([[id, 12]]), Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(await run(['silences', 'list'])).toMatch(
      new RegExp(`${id}\\s+yes\\s.*\\s12\\s+2026-01-02T03:04:05Z\\s+ray\\s`),
    );
    expect(await run(['silences', 'end', id])).toBe(`${id}  ended\n`);
    await expect(run(['silences', 'add', '--kind', 'x', '--for', '2 weeks', '-m', 'c'])).rejects.toThrow(
      /30m, 4h or 7d/,
    );
  });

  it('lists the inventory with its filters, and writes a service as OpenAPI', async () => {
    const all = (await run(['inventory', 'list'])).trim().split('\n');
    expect(all[0]).toMatch(
      /^ID\s+RISK\s+STATE\s+METHOD\s+ROUTE\s+SERVICE\s+CALLS\s+ANONYMOUS\s+DATA\s+FIRST SEEN\s+LAST SEEN\s+CATEGORY$/,
    );
    // the id first: what inventory review takes; then the risk score and level
    expect(all.slice(1).map((l) => l.split(/\s+/).slice(0, 6).join(' '))).toEqual([
      'api_accounts_get 10 low catalogued GET /accounts/{id}',
      'api_export_get 55 medium shadow GET /internal/export',
    ]);
    expect(all[2]).toMatch(/\s75%\s+personal\s+\S+\s+3d ago\s+reporting\? 8%$/);
    for (const args of [
      ['--new', '7d'],
      ['--quiet', '24h'],
      ['--sensitive', 'personal'],
      ['--route', 'EXPORT'],
      ['--state', 'shadow'],
    ]) {
      const lines = (await run(['inventory', 'list', ...args])).trim().split('\n');
      expect(
        lines.slice(1).map((l) => l.split(/\s+/)[5]),
        args.join(' '),
      ).toEqual(['/internal/export']);
    }
    const active = (await run(['inventory', 'list', '--active', '1h'])).trim().split('\n');
    expect(active.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['api_accounts_get']);
    expect(active[1]).toMatch(/\s1m ago\s/);
    await expect(run(['inventory', 'list', '--quiet', 'a week'])).rejects.toThrow(/30m, 4h or 7d/);
    // riskiest first (shadow 15, no credential on 75% of accepted calls 25, an email parameter 15), and a floor
    const ids = async (...args: string[]) =>
      (await run(['inventory', 'list', ...args]))
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]);
    expect(await ids('--sort', 'risk')).toEqual(['api_export_get', 'api_accounts_get']);
    expect(await ids('--min-risk', '11')).toEqual(['api_export_get']);
    expect(await ids('--min-risk', '10', '--sort', 'last-seen')).toEqual(['api_accounts_get', 'api_export_get']);
    await expect(run(['inventory', 'list', '--min-risk', '101'])).rejects.toThrow(/a whole number from 0 to 100/);
    await expect(run(['inventory', 'list', '--sort', 'score'])).rejects.toThrow(/last-seen, risk/);
    const doc = JSON.parse(await run(['inventory', 'openapi', '--service', 'accounts', '--state', 'shadow']));
    expect(Object.keys(doc.paths)).toEqual(['/internal/export']);
    expect(await run(['inventory', 'openapi', '--service', 'accounts', '--yaml'])).toMatch(/^openapi: 3\.0\.3\n/);
    await expect(run(['inventory', 'openapi', '--service', 'nobody'])).rejects.toMatchObject({
      code: 'MW_ERR_NOT_FOUND',
    });

    // a review: given labels, or the predicted ones confirmed (an unassigned one is not taken)
    expect(await run(['inventory', 'review', 'api_accounts_get', '--confirm', '-m', 'as predicted'])).toBe(
      'api_accounts_get  reviewed  category=identity\n',
    );
    await expect(run(['inventory', 'review', 'api_export_get', '--confirm'])).rejects.toThrow(/give the labels/);
    expect(await run(['inventory', 'review', 'api_export_get', '--category', 'reporting', '--app-code', 'ACC01'])).toBe(
      'api_export_get  reviewed  category=reporting appCode=ACC01\n',
    );
    expect((await run(['inventory', 'list', '--state', 'reviewed'])).trim().split('\n')).toHaveLength(3);
  });

  it('an id that names nothing: the others are handled, each unknown id is named, and the command fails', async () => {
    await alerts.upsert(alert(6, { subject: { type: 'ip', value: '203.0.113.6' } }));
    for (const [verb, shown] of [
      ['ack', 'acknowledged'],
      ['reopen', 'open'],
      ['assign', 'open  owner ray'],
      ['unassign', 'open'],
      ['resolve', 'resolved'],
    ]) {
      const r = await runFailing(['alerts', verb, 'alr_cli_6', 'alr_gone_1', 'alr_gone_2', '-m', 'bulk']);
      expect(r.printed, verb).toBe(`alr_cli_6  ${shown}\n`);
      expect(r.error, verb).toMatchObject({
        code: 'MW_ERR_NOT_FOUND',
        message: 'not found: alerts alr_gone_1, alr_gone_2',
      });
    }
    expect((await alerts.get('alr_cli_6'))?.state).toBe('resolved');
    // with --json the answer is printed as the API gave it, and the command still fails
    const asJson = await runFailing(['alerts', 'reopen', 'alr_cli_6', 'alr_gone_1', '--json']);
    expect(JSON.parse(asJson.printed).skipped).toEqual([{ id: 'alr_gone_1', reason: 'not found' }]);
    expect(asJson.error).toMatchObject({ code: 'MW_ERR_NOT_FOUND', message: 'not found: alert alr_gone_1' });

    const reviewed = await runFailing([
      'inventory',
      'review',
      'api_accounts_get',
      'api_gone',
      '--category',
      'identity',
    ]);
    expect(reviewed.printed).toBe('api_accounts_get  reviewed  category=identity\n');
    expect(reviewed.error).toMatchObject({ code: 'MW_ERR_NOT_FOUND', message: 'not found: inventory entry api_gone' });
    expect((await runFailing(['inventory', 'review', 'api_gone', 'api_gone_too', '--confirm'])).error).toMatchObject({
      code: 'MW_ERR_NOT_FOUND',
      message: 'not found: inventory entries api_gone, api_gone_too',
    });

    // the commands taking one id fail on an unknown one as they did
    for (const [args, message] of [
      [['alerts', 'note', 'alr_gone', '-m', 'x'], 'not found: alert alr_gone'],
      [['decisions', 'approve', 'dec_gone'], 'not found: decision dec_gone'],
      [['decisions', 'lift', 'dec_gone', '-m', 'x'], 'not found: decision dec_gone'],
      [['silences', 'end', 'sil_gone'], 'not found: silence sil_gone'],
    ] as const) {
      const r = await runFailing([...args]);
      expect(r.printed, args.join(' ')).toBe('');
      expect(r.error, args.join(' ')).toMatchObject({ code: 'MW_ERR_NOT_FOUND', message });
    }
  });

  it('the real CLI: an unknown id goes to stderr with a non-zero exit, the known ones to stdout', async () => {
    await alerts.upsert(alert(7, { subject: { type: 'ip', value: '203.0.113.7' } }));
    const [mixed, unknown] = await Promise.all([
      runProcess(['alerts', 'resolve', 'alr_cli_7', 'alr_gone', '-m', 'done']),
      runProcess(['decisions', 'approve', 'dec_gone']),
    ]);
    expect(mixed).toEqual({
      code: 2,
      stdout: 'alr_cli_7  resolved\n',
      stderr: 'meshward: MW_ERR_NOT_FOUND: not found: alert alr_gone\n',
    });
    expect((await alerts.get('alr_cli_7'))?.state).toBe('resolved');
    expect(unknown).toEqual({
      code: 2,
      stdout: '',
      stderr: 'meshward: MW_ERR_NOT_FOUND: not found: decision dec_gone\n',
    });
  }, 60_000);
});
