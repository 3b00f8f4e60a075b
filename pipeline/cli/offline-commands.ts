import type { Command } from 'commander';
import { runReplayFile } from '../correlator/replay-file.js';

export function registerOfflineCommands(program: Command): void {
  program
    .command('replay')
    .description('correlate a JSONL file of records offline (record timestamps are the clock: same input, same alerts)')
    .argument('<records.jsonl>', 'records, one JSON object per line')
    .requiredOption('-o, --out <alerts.jsonl>', 'where to write the alerts, one per line')
    .option('-c, --config <file>', 'YAML config (its detectors and correlator sections are used)')
    .action(async (input: string, flags: { out: string; config?: string }) => {
      const r = await runReplayFile({ input, out: flags.out, config: flags.config });
      process.stderr.write(`replayed ${r.records} records (${r.rejected} rejected lines) → ${r.alerts} alerts in ${flags.out}\n`);
      if (r.firstRejection) process.stderr.write(`first rejected line: ${r.firstRejection}\n`);
    });
}
