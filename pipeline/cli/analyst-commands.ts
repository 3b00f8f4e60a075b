import Table from 'cli-table3';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Alert } from '../core/alert.js';
import type { ApiEntry } from '../inventory/api-entry.js';
import { type AnalystConnection, analystConnection, callApi, callApiText } from './analyst-client.js';

/** where a command writes what it answers (stdout; tests collect it) */
export type Out = (text: string) => void;

interface AlertNote {
  ts: number;
  actor: string;
  action: string;
  comment?: string;
  assignee?: string | null;
}
interface Decision {
  id: string;
  type: string;
  scope: string;
  value: string;
  route?: string;
  state: string;
  until: number;
  reason: string;
  alertId?: string;
  simulated: boolean;
}
interface Silence {
  id: string;
  matchers: Record<string, string>;
  endsAt: number;
  createdBy: string;
  comment: string;
  active: boolean;
}
interface Triaged {
  items: Alert[];
  skipped: { id: string; reason: string }[];
}

/** a borderless table, as kubectl prints one: a header row, then one line per item */
function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    chars: Object.fromEntries(
      [
        'top',
        'top-mid',
        'top-left',
        'top-right',
        'bottom',
        'bottom-mid',
        'bottom-left',
        'bottom-right',
        'left',
        'left-mid',
        'mid',
        'mid-mid',
        'right',
        'right-mid',
        'middle',
      ].map((k) => [k, '']),
    ),
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2 },
  });
  t.push(...rows.map((r) => r.map(String)));
  return `${t.toString().replace(/ +$/gm, '')}\n`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const oneLine = (s: string, max = 70) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** `30m`, `4h`, `7d` → minutes */
function minutes(v: string): number {
  const m = /^(\d+)(m|h|d)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('a duration such as 30m, 4h or 7d');
  return Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2] as 'm' | 'h' | 'd'];
}

/**
 * `meshward alerts …`, `meshward decisions …`, `meshward silences …`, `meshward inventory …`: the analyst API from a terminal or a script, as
 * the console uses it (the same roles apply). Tables by default, `--json` for the API's answer as it is.
 */
export function registerAnalystCommands(program: Command, out: Out = (t) => process.stdout.write(t)): void {
  const connection = (cmd: Command): AnalystConnection => analystConnection(cmd.optsWithGlobals());
  const withConnection = (cmd: Command) =>
    cmd
      .addOption(new Option('--api <url>', 'the analyst API (default $MESHWARD_API_URL, else http://127.0.0.1:7070)'))
      .addOption(
        new Option(
          '--key-file <file>',
          'a file holding the API key, or the demo credentials JSON (default: $MESHWARD_API_KEY)',
        ),
      )
      .option('--json', 'print the API answer as JSON');

  const alerts = withConnection(program.command('alerts').description('list, show and triage alerts'));
  alerts
    .command('list')
    .description('alerts, newest first (open ones unless --state)')
    .option('--state <state>', 'open, acknowledged, resolved or any', 'open')
    .option('--kind <kind>')
    .option('--service <name>')
    .option('--subject <value>', "the subject's value: an IP, a user, a token hash")
    .option('--min-severity <severity>', 'info, low, medium, high or critical')
    .option('--mine', 'only those assigned to me')
    .option('--unassigned', 'only those nobody owns')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (f: Record<string, string | boolean | undefined>, cmd: Command) => {
      const c = connection(cmd);
      const g = cmd.optsWithGlobals();
      const me = f.mine ? (await callApi<{ id: string }>(c, 'GET', '/v1/me')).id : undefined;
      const q = new URLSearchParams();
      const set = (k: string, v: unknown) => typeof v === 'string' && v && q.set(k, v);
      if (f.state !== 'any') set('state', f.state);
      set('kind', f.kind);
      set('service', f.service);
      set('subject', f.subject);
      set('min_severity', f.minSeverity);
      set('assignee', me);
      if (f.unassigned) q.set('unassigned', 'true');
      set('limit', f.limit);
      const page = await callApi<{ items: Alert[]; next?: string }>(c, 'GET', `/v1/alerts?${q}`);
      if (g.json) return out(`${JSON.stringify(page, null, 2)}\n`);
      out(
        table(
          ['ID', 'SEVERITY', 'KIND', 'SERVICE', 'STATE', 'OWNER', 'COUNT', 'LAST SEEN', 'SUMMARY'],
          page.items.map((a) => [
            a.id,
            a.severity,
            a.kind,
            a.service,
            a.state,
            a.assignee ?? '-',
            a.count,
            iso(a.lastSeen),
            oneLine(a.summary),
          ]),
        ),
      );
      if (page.next) out(`(more: --limit ${Number(f.limit) * 2}, or filter)\n`);
    });

  alerts
    .command('show')
    .description('one alert with its notes')
    .argument('<id>')
    .action(async (id: string, _f: unknown, cmd: Command) => {
      const r = await callApi<{ alert: Alert; notes: AlertNote[] }>(
        connection(cmd),
        'GET',
        `/v1/alerts/${encodeURIComponent(id)}`,
      );
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(r, null, 2)}\n`);
      const a = r.alert;
      const lines: [string, string | undefined][] = [
        ['id', a.id],
        ['summary', a.summary],
        ['kind', a.kind],
        ['severity', a.severity],
        ['state', a.state],
        ['owner', a.assignee ?? '-'],
        ['service', a.service],
        ['endpoint', a.endpoint],
        ['subject', a.subject ? `${a.subject.type} ${a.subject.value}` : undefined],
        ['expected', a.expected],
        ['observed', a.observed],
        ['first seen', iso(a.firstSeen)],
        ['last seen', `${iso(a.lastSeen)} (fired ${a.count} time${a.count === 1 ? '' : 's'})`],
      ];
      for (const [k, v] of lines) if (v !== undefined) out(`${`${k}:`.padEnd(12)}${v}\n`);
      out(r.notes.length ? '\nnotes:\n' : '\nno notes\n');
      for (const n of r.notes) {
        const what = n.action === 'assign' ? (n.assignee ? `assigned to ${n.assignee}` : 'unassigned') : n.action;
        out(`  ${iso(n.ts)}  ${n.actor}  ${what}${n.comment ? `: ${n.comment}` : ''}\n`);
      }
    });

  /** a triage action over one or more alerts, through the bulk route: what changed and what was left, and why */
  const triage = (name: string, action: string, description: string) =>
    alerts
      .command(name)
      .description(description)
      .argument('<ids...>')
      .option('-m, --comment <text>', 'a note kept in each alert’s history')
      .action(async (ids: string[], f: { comment?: string }, cmd: Command) => {
        const c = connection(cmd);
        const assignee =
          action === 'assign'
            ? ((f as { to?: string }).to ?? (await callApi<{ id: string }>(c, 'GET', '/v1/me')).id)
            : undefined;
        const r = await callApi<Triaged>(c, 'POST', '/v1/alerts/triage', {
          action,
          ids,
          ...(assignee ? { assignee } : {}),
          ...(f.comment ? { comment: f.comment } : {}),
        });
        if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(r, null, 2)}\n`);
        for (const a of r.items) out(`${a.id}  ${a.state}${a.assignee ? `  owner ${a.assignee}` : ''}\n`);
        for (const s of r.skipped) out(`${s.id}  left as it was: ${s.reason}\n`);
      });
  triage('ack', 'acknowledge', 'acknowledge open alerts');
  triage('resolve', 'resolve', 'resolve alerts');
  triage('reopen', 'reopen', 'reopen alerts');
  triage('assign', 'assign', 'assign alerts to an analyst (--to), or to yourself').option(
    '--to <principal>',
    'the owner: a principal id as GET /v1/me names it',
  );
  triage('unassign', 'unassign', 'take the owner of alerts away');

  alerts
    .command('note')
    .description("add a note to an alert's history; its state and owner stay")
    .argument('<id>')
    .requiredOption('-m, --comment <text>', 'the note')
    .action(async (id: string, f: { comment: string }, cmd: Command) => {
      const a = await callApi<Alert>(connection(cmd), 'POST', `/v1/alerts/${encodeURIComponent(id)}/notes`, {
        comment: f.comment,
      });
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(a, null, 2)}\n`);
      out(`${a.id}  noted\n`);
    });

  const decisions = withConnection(program.command('decisions').description('list, approve and lift decisions'));
  decisions
    .command('list')
    .description('decisions, newest first')
    .option('--state <state>', 'pending_approval, active, expired, lifted or failed')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (f: { state?: string; limit: string }, cmd: Command) => {
      const q = new URLSearchParams({ limit: f.limit, ...(f.state ? { state: f.state } : {}) });
      const r = await callApi<{ decisions: Decision[] }>(connection(cmd), 'GET', `/v1/decisions?${q}`);
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(r, null, 2)}\n`);
      out(
        table(
          ['ID', 'STATE', 'TYPE', 'TARGET', 'UNTIL', 'ALERT', 'REASON'],
          r.decisions.map((d) => [
            d.id,
            `${d.state}${d.simulated ? ' (dry run)' : ''}`,
            d.type,
            `${d.scope} ${d.value}${d.route ? ` on ${d.route}` : ''}`,
            iso(d.until),
            d.alertId ?? '-',
            oneLine(d.reason, 50),
          ]),
        ),
      );
    });
  decisions
    .command('approve')
    .description('approve a pending decision: it is applied now')
    .argument('<id>')
    .action(async (id: string, _f: unknown, cmd: Command) => {
      const d = await callApi<Decision>(connection(cmd), 'POST', `/v1/decisions/${encodeURIComponent(id)}/approve`);
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(d, null, 2)}\n`);
      out(`${d.id}  ${d.state}\n`);
    });
  decisions
    .command('lift')
    .description('lift a decision before it expires (kept in the audit log with the reason)')
    .argument('<id>')
    .requiredOption('-m, --comment <text>', 'why')
    .action(async (id: string, f: { comment: string }, cmd: Command) => {
      const d = await callApi<Decision>(connection(cmd), 'POST', `/v1/decisions/${encodeURIComponent(id)}/lift`, {
        comment: f.comment,
      });
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(d, null, 2)}\n`);
      out(`${d.id}  ${d.state}\n`);
    });

  const silences = withConnection(program.command('silences').description('list, add and end silences'));
  silences
    .command('list')
    .description('silences, active ones first')
    .action(async (_f: unknown, cmd: Command) => {
      const r = await callApi<{ items: Silence[] }>(connection(cmd), 'GET', '/v1/silences');
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(r, null, 2)}\n`);
      out(
        table(
          ['ID', 'ACTIVE', 'MATCHES', 'ENDS', 'BY', 'COMMENT'],
          r.items.map((s) => [
            s.id,
            s.active ? 'yes' : 'no',
            Object.entries(s.matchers)
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
            iso(s.endsAt),
            s.createdBy,
            oneLine(s.comment, 50),
          ]),
        ),
      );
    });
  silences
    .command('add')
    .description('silence the alerts matching every field given, for a while; those open are resolved now')
    .option('--kind <kind>')
    .option('--service <name>')
    .option('--endpoint <endpoint>', 'METHOD /route')
    .option('--subject <value>')
    .option('--max-severity <severity>', 'only alerts this severe or less')
    .requiredOption('--for <duration>', 'how long: 30m, 4h, 7d (at most 30d)', minutes)
    .requiredOption('-m, --comment <text>', 'why these alerts are expected')
    .action(async (f: Record<string, string | number | undefined>, cmd: Command) => {
      const matchers = Object.fromEntries(
        (
          [
            ['kind', f.kind],
            ['service', f.service],
            ['endpoint', f.endpoint],
            ['subject', f.subject],
            ['max_severity', f.maxSeverity],
          ] as const
        ).filter(([, v]) => v !== undefined),
      );
      const s = await callApi<Silence & { resolved: number }>(connection(cmd), 'POST', '/v1/silences', {
        matchers,
        duration_minutes: f.for,
        comment: f.comment,
      });
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(s, null, 2)}\n`);
      out(`${s.id}  until ${iso(s.endsAt)}; ${s.resolved} resolved now\n`);
    });
  silences
    .command('end')
    .description('end a silence now')
    .argument('<id>')
    .action(async (id: string, _f: unknown, cmd: Command) => {
      const s = await callApi<Silence>(connection(cmd), 'POST', `/v1/silences/${encodeURIComponent(id)}/expire`);
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(s, null, 2)}\n`);
      out(`${s.id}  ended\n`);
    });

  const inventory = withConnection(
    program.command('inventory').description('the API inventory: endpoints seen in traffic, a service as OpenAPI'),
  );
  inventory
    .command('list')
    .description('endpoints seen in traffic, most recently seen first')
    .option('--state <state>', 'new, catalogued, shadow, zombie or reviewed')
    .option('--service <name>')
    .option('--sensitive <kind>', 'with a parameter that says it takes: credential, personal, payment or any')
    .option('--new <duration>', 'first seen within this: 24h, 7d, 30d', minutes)
    .option('--route <text>', 'whose route contains this (any case)')
    .option('--anonymous', 'that answered calls carrying no credential')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (f: Record<string, string | number | boolean | undefined>, cmd: Command) => {
      const q = new URLSearchParams({ limit: String(f.limit) });
      for (const [flag, param] of [
        ['state', 'state'],
        ['service', 'service'],
        ['sensitive', 'sensitive'],
        ['route', 'q'],
      ] as const)
        if (typeof f[flag] === 'string') q.set(param, f[flag] as string);
      if (f.anonymous) q.set('anonymous', 'true');
      if (typeof f.new === 'number') q.set('first_seen_after', String(Date.now() - f.new * 60_000));
      type Shown = ApiEntry & { sensitive?: Record<string, string[]> };
      const page = await callApi<{ items: Shown[]; next?: string }>(connection(cmd), 'GET', `/v1/inventory?${q}`);
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(page, null, 2)}\n`);
      const anonymousShare = (e: Shown) => {
        const a = e.auth;
        const total = a ? a.token + a.mtls + a.key + a.none : 0;
        return total ? `${Math.round((100 * (a?.none ?? 0)) / total)}%` : '-';
      };
      out(
        table(
          ['STATE', 'METHOD', 'ROUTE', 'SERVICE', 'CALLS', 'ANONYMOUS', 'DATA', 'FIRST SEEN', 'CATEGORY'],
          page.items.map((e) => {
            const category = e.labels.category;
            return [
              e.state,
              e.method,
              oneLine(e.route, 60),
              e.service,
              e.count,
              anonymousShare(e),
              Object.keys(e.sensitive ?? {}).join(',') || '-',
              iso(e.firstSeen),
              category
                ? `${category.value === 'unassigned' ? `${category.candidate ?? '?'}?` : category.value} ${Math.round(100 * category.probability)}%`
                : '-',
            ];
          }),
        ),
      );
      if (page.next) out(`(more: --limit ${Number(f.limit) * 2}, or filter)\n`);
    });
  inventory
    .command('openapi')
    .description(
      'what traffic showed of a service as an OpenAPI 3.0 document (to review and add to the catalogue), on stdout',
    )
    .requiredOption('--service <name>')
    .option('--state <state>', 'only its endpoints in this state, e.g. shadow')
    .option('--yaml', 'YAML rather than JSON')
    .action(async (f: { service: string; state?: string; yaml?: boolean }, cmd: Command) => {
      const q = new URLSearchParams({ service: f.service, format: f.yaml ? 'yaml' : 'json' });
      if (f.state) q.set('state', f.state);
      const text = await callApiText(connection(cmd), 'GET', `/v1/inventory/openapi?${q}`);
      out(f.yaml ? text : `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    });
  inventory
    .command('review')
    .description('confirm or correct the labels of an endpoint: it becomes reviewed, and the model learns it')
    .argument('<id>', 'the inventory entry id (inventory list --json)')
    .option('--category <value>')
    .option('--line-of-business <value>')
    .option('--app-code <value>')
    .option('--confirm', 'take the predicted labels (those assigned) for the dimensions not given')
    .option('-m, --comment <text>')
    .action(async (id: string, f: Record<string, string | boolean | undefined>, cmd: Command) => {
      const c = connection(cmd);
      const given: Record<string, string> = {};
      for (const [flag, dim] of [
        ['category', 'category'],
        ['lineOfBusiness', 'lineOfBusiness'],
        ['appCode', 'appCode'],
      ] as const)
        if (typeof f[flag] === 'string') given[dim] = f[flag] as string;
      const labels: Record<string, string> = {};
      if (f.confirm) {
        const e = await callApi<ApiEntry>(c, 'GET', `/v1/inventory/${encodeURIComponent(id)}`);
        for (const [dim, l] of Object.entries(e.labels)) if (l.value !== 'unassigned') labels[dim] = l.value;
      }
      Object.assign(labels, given);
      if (Object.keys(labels).length === 0)
        throw new InvalidArgumentError(
          'give the labels (--category, --line-of-business, --app-code), or --confirm the predicted ones',
        );
      const e = await callApi<ApiEntry>(c, 'POST', `/v1/inventory/${encodeURIComponent(id)}/review`, {
        labels,
        ...(typeof f.comment === 'string' ? { comment: f.comment } : {}),
      });
      if (cmd.optsWithGlobals().json) return out(`${JSON.stringify(e, null, 2)}\n`);
      const shown = Object.entries(labels)
        .map(([dim, v]) => `${dim}=${v}`)
        .join(' ');
      out(`${e.id}  ${e.state}  ${shown}\n`);
    });
}
