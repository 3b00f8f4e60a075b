import type { Command } from 'commander';
import type { SensorsAnswer } from '../api/admin-routes.js';
import { callApi } from './analyst-client.js';
import { type AnalystCli, agoIso, table } from './analyst-cli.js';

/** `--quiet`'s exit code when a sensor is quiet: apart from commander's usage mistakes (1) and failures (2) */
export const QUIET_EXIT_CODE = 3;

/**
 * `meshward sensors [--quiet]`: the sensors seen sending, quiet ones first, then the allowed sensor token ids never
 * seen (admins). With --quiet only the quiet sensors, and exit code 3 when there is one, for cron and monitoring (1
 * is a usage mistake, 2 a failure: neither reads as a quiet sensor).
 */
export function registerSensorCommands(program: Command, cli: AnalystCli): void {
  const { out, connection, json, asJson } = cli;
  cli
    .group(program, 'sensors', 'the sensors seen sending, quiet ones first, and the allowed tokens never seen (admins)')
    .option('--quiet', 'only the quiet sensors; exit code 3 when there is at least one, 0 when none')
    .action(async (f: { quiet?: boolean }, cmd: Command) => {
      const r = await callApi<SensorsAnswer>(connection(cmd), 'GET', '/v1/admin/sensors');
      // a stable sort: the API's order (kind, then id) within the quiet ones and within the others
      const seen = [...r.seen].sort((a, b) => Number(b.quiet) - Number(a.quiet));
      const shown = f.quiet ? seen.filter((s) => s.quiet) : seen;
      if (f.quiet && shown.length) cli.exitCode(QUIET_EXIT_CODE);
      if (json(cmd)) return out(asJson(f.quiet ? { ...r, seen: shown } : r));
      const now = Date.now();
      out(
        table(
          ['KIND', 'SENSOR', 'LAST SEEN', 'RECORDS', 'STATE'],
          shown.map((s) => [
            s.kind,
            s.id,
            agoIso(s.lastSeen, now),
            s.records,
            `${s.quiet ? 'quiet' : 'ok'}${s.alert ? '' : ' (no alert)'}`,
          ]),
        ),
      );
      const neverSeen = r.items.filter((t) => t.lastSeen === undefined).map((t) => t.id);
      if (!f.quiet && neverSeen.length) out(`\nsensor tokens allowed but never seen: ${neverSeen.join(', ')}\n`);
    });
}
