import type { Command } from 'commander';
import { mwError } from '../core/errors.js';
import { runRulesTest } from './rules-test.js';
import { ruleOutcomeLines, rulesTestTable } from './rules-test-output.js';

interface RulesTestFlags {
  config?: string;
  records?: string;
  record?: string;
  rule: string[];
  json?: boolean;
  failOnError?: boolean;
}

const collect = (v: string, previous: string[]) => [...previous, v];

/**
 * `meshward rules test`: a config's custom rules tried on records before they are deployed (as Falco's `--validate`
 * or CrowdSec's `cscli explain`): what each rule matches, where its condition fails, its groups and the alerts the
 * detector would raise. Exit 0 when it ran; 1 with --fail-on-error when a condition could not be evaluated on a
 * record; 2 (main.ts) when the config is refused or a file cannot be read.
 */
export function registerRulesCommands(program: Command): void {
  const rules = program.command('rules').description('work with the custom rules (detectors.custom_rules) offline');
  rules
    .command('test')
    .description(
      "try a config's custom rules on records: matches, evaluation errors, groups, sample ids and the alerts they would raise",
    )
    .option(
      '-c, --config <file>',
      'YAML config whose detectors.custom_rules to test (env: MESHWARD_CONFIG)',
      process.env.MESHWARD_CONFIG,
    )
    .option('--records <file.jsonl>', 'records, one JSON object per line (as meshward replay reads them)')
    .option('--record <json>', 'one record, given inline: each rule matched, not matched or its error')
    .option('--rule <name>', 'test only this rule (repeat for several)', collect, [])
    .option('--json', 'one JSON object on stdout instead of the table')
    .option('--fail-on-error', 'exit 1 when a condition could not be evaluated on some record')
    .action(async (f: RulesTestFlags) => {
      if ((f.records === undefined) === (f.record === undefined))
        throw mwError('BAD_REQUEST', 'give the records to test on: either --records <file.jsonl> or --record <json>');
      const r = await runRulesTest({ config: f.config, records: f.records, record: f.record, rules: f.rule });
      if (f.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(f.record !== undefined ? ruleOutcomeLines(r) : rulesTestTable(r));
      if (f.failOnError && r.rules.some((o) => o.errors > 0)) process.exitCode = 1;
    });
}
