import type { Command } from 'commander';
import type { Alert } from '../core/alert.js';
import type { ApiCallRecord } from '../core/record.js';
import { type AnalystConnection, callApi } from './analyst-client.js';
import { type AnalystCli, iso, notFound, oneLine, splitSkipped, table } from './analyst-cli.js';
import type { AlertNote } from '../alerts/alert-repository.js';

interface Triaged {
  items: Alert[];
  /** `assignee`: left because another analyst owns it */
  skipped: { id: string; reason: string; assignee?: string }[];
}

/** `meshward alerts …`: list, show, triage, assign and note alerts */
export function registerAlertCommands(program: Command, cli: AnalystCli): void {
  const { out, connection, json, asJson, answer } = cli;
  const alerts = cli.group(program, 'alerts', 'list, show and triage alerts');
  alerts
    .command('list')
    .description('alerts, newest first or --sort severity|count|first_seen (open ones unless --state)')
    .option('--state <state>', 'open, acknowledged, resolved or any', 'open')
    .option('--kind <kind>')
    .option('--service <name>')
    .option('--subject <value>', "the subject's value: an IP, a user, a token hash")
    .option('--endpoint <endpoint>', 'METHOD /route, exactly')
    .option('--min-severity <severity>', 'info, low, medium, high or critical')
    .option('--mine', 'only those assigned to me')
    .option('--unassigned', 'only those nobody owns')
    .option(
      '--untriaged',
      'only those no analyst has acted on (with --state resolved: those resolved once quiet, unseen)',
    )
    .option(
      '--sort <order>',
      'last_seen (default), or, for the open or acknowledged queue, severity (then newest), count or first_seen',
    )
    .option('--limit <n>', 'at most this many', '50')
    .action(async (f: Record<string, string | boolean | undefined>, cmd: Command) => {
      const c = connection(cmd);
      const me = f.mine ? (await callApi<{ id: string }>(c, 'GET', '/v1/me')).id : undefined;
      const q = new URLSearchParams();
      const set = (k: string, v: unknown) => typeof v === 'string' && v && q.set(k, v);
      if (f.state !== 'any') set('state', f.state);
      set('kind', f.kind);
      set('service', f.service);
      set('subject', f.subject);
      set('endpoint', f.endpoint);
      set('min_severity', f.minSeverity);
      set('assignee', me);
      if (f.unassigned) q.set('unassigned', 'true');
      if (f.untriaged) q.set('untriaged', 'true');
      set('sort', f.sort);
      set('limit', f.limit);
      const page = await callApi<{ items: Alert[]; next?: string }>(c, 'GET', `/v1/alerts?${q}`);
      if (json(cmd)) return out(asJson(page));
      const name = await analystNames(c);
      // the order a list is sorted by is shown: first seen gets its column
      const firstSeen = f.sort === 'first_seen';
      out(
        table(
          [
            'ID',
            'SEVERITY',
            'KIND',
            'SERVICE',
            'STATE',
            'OWNER',
            'COUNT',
            ...(firstSeen ? ['FIRST SEEN'] : []),
            'LAST SEEN',
            'SUMMARY',
          ],
          page.items.map((a) => [
            a.id,
            a.severity,
            a.kind,
            a.service,
            a.state,
            a.assignee ? name(a.assignee) : '-',
            a.count,
            ...(firstSeen ? [iso(a.firstSeen)] : []),
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
      const c = connection(cmd);
      const r = await callApi<{ alert: Alert; notes: AlertNote[]; records: ApiCallRecord[] }>(
        c,
        'GET',
        `/v1/alerts/${encodeURIComponent(id)}`,
      );
      if (json(cmd)) return out(asJson(r));
      const name = await analystNames(c);
      const a = r.alert;
      const lines: [string, string | undefined][] = [
        ['id', a.id],
        ['summary', a.summary],
        ['kind', a.kind],
        ['severity', a.severity],
        ['state', a.state],
        ['owner', a.assignee ? name(a.assignee) : '-'],
        ['service', a.service],
        ['endpoint', a.endpoint],
        ['subject', a.subject ? `${a.subject.type} ${a.subject.value}` : undefined],
        ['expected', a.expected],
        ['observed', a.observed],
        ['first seen', iso(a.firstSeen)],
        ['last seen', `${iso(a.lastSeen)} (fired ${a.count} time${a.count === 1 ? '' : 's'})`],
      ];
      for (const [k, v] of lines) if (v !== undefined) out(`${`${k}:`.padEnd(12)}${v}\n`);
      // the calls behind it, oldest first, as the console's evidence table shows them
      const records = [...(r.records ?? [])].sort((x, y) => x.ts - y.ts);
      out(records.length ? `\nevidence (${records.length} calls):\n` : '\nno evidence records kept\n');
      if (records.length)
        out(
          table(
            ['TIME', 'METHOD', 'PATH', 'STATUS', 'DURATION', 'SOURCE', 'USER'],
            records.map((x) => [
              iso(x.ts),
              x.method,
              oneLine(x.path, 60),
              x.status,
              `${x.durationMs >= 10 ? Math.round(x.durationMs) : Number(x.durationMs.toPrecision(3))} ms`,
              x.source?.ip ?? x.source?.service ?? '-',
              x.user?.sub ?? (x.user?.tokenHash ? 'token' : '-'),
            ]),
          ),
        );
      out(r.notes.length ? '\nnotes:\n' : '\nno notes\n');
      for (const n of r.notes) {
        const from = n.takenOverFrom ? name(n.takenOverFrom) : '';
        const what =
          n.action !== 'assign'
            ? n.action
            : n.assignee
              ? `assigned to ${name(n.assignee)}${from ? `, taking it over from ${from}` : ''}`
              : `unassigned${from ? `, removing ${from} as owner` : ''}`;
        out(`  ${iso(n.ts)}  ${name(n.actor)}  ${what}${n.comment ? `: ${n.comment}` : ''}\n`);
      }
    });

  /**
   * a triage action over one or more alerts, through the bulk route: what changed and what was left, and why; ids
   * that name no alert end it with MW_ERR_NOT_FOUND naming each of them
   */
  const triage = (name: string, action: string, description: string) =>
    alerts
      .command(name)
      .description(description)
      .argument('<ids...>')
      .option('-m, --comment <text>', 'a note kept in each alert’s history')
      .action(async (ids: string[], f: { comment?: string; to?: string; takeover?: boolean }, cmd: Command) => {
        const c = connection(cmd);
        const assignee =
          action === 'assign' ? (f.to ?? (await callApi<{ id: string }>(c, 'GET', '/v1/me')).id) : undefined;
        const r = await callApi<Triaged>(c, 'POST', '/v1/alerts/triage', {
          action,
          ids,
          ...(assignee ? { assignee } : {}),
          ...(f.takeover ? { takeover: true } : {}),
          ...(f.comment ? { comment: f.comment } : {}),
        });
        const { missing, left } = splitSkipped(r.skipped);
        if (json(cmd)) out(asJson(r));
        else {
          for (const a of r.items) out(`${a.id}  ${a.state}${a.assignee ? `  owner ${a.assignee}` : ''}\n`);
          const name = left.some((s) => s.assignee) ? await analystNames(c) : (id: string) => id;
          for (const s of left)
            out(
              s.assignee
                ? `${s.id}  left as it was: ${name(s.assignee)} owns it (--takeover ${action === 'assign' ? 'takes it over' : 'unassigns it all the same'})\n`
                : `${s.id}  left as it was: ${s.reason}\n`,
            );
        }
        // the others were handled; an id that names no alert is a mistake to see (stderr) and to script on (exit 2)
        if (missing.length) throw notFound(['alert', 'alerts'], missing);
      });
  triage('ack', 'acknowledge', 'acknowledge open alerts');
  triage('resolve', 'resolve', 'resolve alerts');
  triage('reopen', 'reopen', 'reopen alerts');
  triage('assign', 'assign', 'assign alerts to an analyst (--to), or to yourself')
    .option('--to <principal>', 'the owner: a principal id as GET /v1/me names it')
    .option('--takeover', 'also those another analyst owns (their history says whom they were taken from)');
  triage('unassign', 'unassign', 'take the owner of alerts away').option(
    '--takeover',
    'also from those another analyst owns (their history says whom they were taken from)',
  );

  alerts
    .command('note')
    .description("add a note to an alert's history; its state and owner stay")
    .argument('<id>')
    .requiredOption('-m, --comment <text>', 'the note')
    .action(async (id: string, f: { comment: string }, cmd: Command) => {
      const a = await callApi<Alert>(connection(cmd), 'POST', `/v1/alerts/${encodeURIComponent(id)}/notes`, {
        comment: f.comment,
      });
      answer(cmd, a, () => `${a.id}  noted\n`);
    });
}

/**
 * a principal id as people read it: the name its token gave (`GET /v1/analysts`), with the id when they differ
 * (an OIDC subject is opaque); the id alone when the directory cannot be read
 */
async function analystNames(c: AnalystConnection): Promise<(id: string) => string> {
  const names = new Map<string, string>();
  try {
    const r = await callApi<{ items: { id: string; name?: string }[] }>(c, 'GET', '/v1/analysts');
    for (const a of r.items) if (a.name) names.set(a.id, a.name);
  } catch {
    // ids, then
  }
  return (id) => {
    const n = names.get(id);
    return n ? `${n} (${id})` : id;
  };
}
