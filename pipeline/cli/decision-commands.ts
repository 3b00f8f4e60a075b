import type { Command } from 'commander';
import { callApi } from './analyst-client.js';
import { type AnalystCli, iso, oneLine, table } from './analyst-cli.js';
import type { Decision } from '../core/decision.js';
import { durationText } from '../core/duration-text.js';

/**
 * When a decision ends, for the UNTIL column: an active (or ended) one's enforcement end; one held for approval has
 * none yet, so its approval deadline and how long it would be enforced once approved.
 */
export function untilText(d: Decision): string {
  // an API server older than the approval deadline answers a pending decision's deadline as its until
  const deadline = d.approvalDeadline ?? (d.state === 'pending_approval' ? d.until : undefined);
  if (d.state === 'pending_approval')
    return `approve by ${deadline === undefined ? '?' : iso(deadline)}${d.ttlMs ? `; then enforced ${durationText(d.ttlMs)}` : ''}`;
  if (d.until !== undefined) return iso(d.until);
  if (d.state === 'expired' && deadline !== undefined) return `not approved by ${iso(deadline)}`;
  return 'never enforced';
}

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
            untilText(d),
            d.alertId ?? '-',
            oneLine(d.reason, 50),
          ]),
        ),
      );
    });
  decisions
    .command('approve')
    .description('approve a pending decision: it is applied now, and enforced for its TTL from now')
    .argument('<id>')
    .action(async (id: string, _f: unknown, cmd: Command) => {
      const d = await callApi<Decision>(connection(cmd), 'POST', `/v1/decisions/${encodeURIComponent(id)}/approve`);
      answer(cmd, d, () => `${d.id}  ${d.state}${d.until !== undefined ? ` until ${iso(d.until)}` : ''}\n`);
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
