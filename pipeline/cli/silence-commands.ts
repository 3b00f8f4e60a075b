import type { Command } from 'commander';
import { callApi } from './analyst-client.js';
import { type AnalystCli, iso, minutes, oneLine, table } from './analyst-cli.js';
import type { ShownSilence as Silence } from '../alerts/silences.js';

/** `meshward silences …`: list, add and end silences */
export function registerSilenceCommands(program: Command, cli: AnalystCli): void {
  const { out, connection, json, asJson, answer } = cli;
  const silences = cli.group(program, 'silences', 'list, add and end silences');
  silences
    .command('list')
    .description('silences, active ones first, with how many alert changes each suppressed and when it last did')
    .action(async (_f: unknown, cmd: Command) => {
      const r = await callApi<{ items: Silence[] }>(connection(cmd), 'GET', '/v1/silences');
      if (json(cmd)) return out(asJson(r));
      out(
        table(
          ['ID', 'ACTIVE', 'MATCHES', 'ENDS', 'SUPPRESSED', 'LAST SUPPRESSED', 'BY', 'COMMENT'],
          r.items.map((s) => [
            s.id,
            s.active ? 'yes' : 'no',
            Object.entries(s.matchers)
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
            iso(s.endsAt),
            s.suppressed,
            s.lastSuppressedAt === undefined ? '-' : iso(s.lastSuppressedAt),
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
      answer(cmd, s, () => `${s.id}  until ${iso(s.endsAt)}; ${s.resolved} resolved now\n`);
    });
  silences
    .command('end')
    .description('end a silence now')
    .argument('<id>')
    .action(async (id: string, _f: unknown, cmd: Command) => {
      const s = await callApi<Silence>(connection(cmd), 'POST', `/v1/silences/${encodeURIComponent(id)}/expire`);
      answer(cmd, s, () => `${s.id}  ended\n`);
    });
}
