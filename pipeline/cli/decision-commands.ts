import type { Command } from 'commander';
import { callApi } from './analyst-client.js';
import { type AnalystCli, iso, oneLine, table } from './analyst-cli.js';
import type { Decision } from '../core/decision.js';

/** `meshward decisions …`: list, approve and lift decisions */
export function registerDecisionCommands(program: Command, cli: AnalystCli): void {
  const { out, connection, json, asJson, answer } = cli;
  const decisions = cli.group(program, 'decisions', 'list, approve and lift decisions');
  decisions
    .command('list')
    .description('decisions, newest first')
    .option('--state <state>', 'pending_approval, active, expired, lifted or failed')
    .option('--alert <id>', 'taken on this alert')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (f: { state?: string; alert?: string; limit: string }, cmd: Command) => {
      const q = new URLSearchParams({
        limit: f.limit,
        ...(f.state ? { state: f.state } : {}),
        ...(f.alert ? { alert_id: f.alert } : {}),
      });
      const r = await callApi<{ decisions: Decision[] }>(connection(cmd), 'GET', `/v1/decisions?${q}`);
      if (json(cmd)) return out(asJson(r));
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
      answer(cmd, d, () => `${d.id}  ${d.state}\n`);
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
      answer(cmd, d, () => `${d.id}  ${d.state}\n`);
    });
}
