import { type Command, InvalidArgumentError } from 'commander';
import { policyTestTable, runPolicyTest } from '../../policy-actions/engine/backtest.js';
import { runAssociate } from '../association/associate-command.js';
import { runReplayFile } from '../correlator/replay-file.js';
import { runSimulate } from '../simulate/run-simulate.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};
const num = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};

export function registerOfflineCommands(program: Command): void {
  program
    .command('replay')
    .description('correlate a JSONL file of records offline (record timestamps are the clock: same input, same alerts)')
    .argument('<records.jsonl>', 'records, one JSON object per line')
    .requiredOption('-o, --out <alerts.jsonl>', 'where to write the alerts, one per line')
    .option('-c, --config <file>', 'YAML config (its detectors and correlator sections are used)')
    .action(async (input: string, flags: { out: string; config?: string }) => {
      const r = await runReplayFile({ input, out: flags.out, config: flags.config });
      process.stderr.write(
        `replayed ${r.records} records (${r.rejected} rejected lines) → ${r.alerts} alerts in ${flags.out}\n`,
      );
      if (r.firstRejection) process.stderr.write(`first rejected line: ${r.firstRejection}\n`);
    });

  program
    .command('simulate')
    .description('write realistic mesh traffic as JSONL, with labelled injected anomalies (deterministic per seed)')
    .requiredOption('-o, --out <records.jsonl>', 'records, sorted by timestamp')
    .option(
      '--labels <labels.jsonl>',
      'the injected anomalies: kind, service, endpoint, subject, start, end',
      'labels.jsonl',
    )
    .option('--seed <n>', 'random seed', int('--seed'), 1)
    .option('--minutes <n>', 'simulated duration', int('--minutes'), 180)
    .option('--rps <n>', 'front-end requests per second at the daily mean', num('--rps'), 10)
    .option(
      '--anomalies <kinds>',
      'comma-separated kinds, or "all" (error_burst, latency_spike, traffic_drop, enumeration, …)',
      'error_burst,latency_spike,traffic_drop',
    )
    .option('--start <iso>', 'timestamp of the first record (default 2024-06-03T09:00Z)')
    .action(
      async (f: {
        out: string;
        labels: string;
        seed: number;
        minutes: number;
        rps: number;
        anomalies: string;
        start?: string;
      }) => {
        const start = f.start ? Date.parse(f.start) : undefined;
        if (f.start && !Number.isFinite(start)) throw new InvalidArgumentError('--start must be an ISO timestamp');
        const anomalies = f.anomalies
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const r = await runSimulate({
          out: f.out,
          labelsOut: f.labels,
          seed: f.seed,
          minutes: f.minutes,
          rps: f.rps,
          anomalies,
          start,
        });
        process.stderr.write(`wrote ${r.records} records to ${f.out} and ${r.labels} labels to ${f.labels}\n`);
      },
    );

  program
    .command('associate')
    .description("associate APIs with the catalogue's clusters (line of business, app code, category) by smart kNN")
    .requiredOption(
      '--catalog <files...>',
      'labelled catalogue: JSONL, or OpenAPI 3 / Swagger 2 documents (JSON or YAML)',
    )
    .requiredOption(
      '--apis <files...>',
      'APIs to associate: JSONL (catalogue-style or inventory entries) or OpenAPI 3 / Swagger 2 documents',
    )
    .option(
      '-o, --out <predictions.jsonl>',
      'where to write {id, labels: {dim: {value, probability, neighbours}}}',
      'associations.jsonl',
    )
    .option('-k <n>', 'neighbours', int('-k'))
    .option('--smoothing <s>', 'Laplace smoothing of class probabilities', num('--smoothing'))
    .option(
      '--min-confidence <p>',
      'below this probability a label is "unassigned — needs review"',
      num('--min-confidence'),
    )
    .action(
      async (f: {
        catalog: string[];
        apis: string[];
        out: string;
        k?: number;
        smoothing?: number;
        minConfidence?: number;
      }) => {
        const r = await runAssociate({
          catalogPath: f.catalog,
          apisPath: f.apis,
          outPath: f.out,
          k: f.k,
          smoothing: f.smoothing,
          minConfidence: f.minConfidence,
        });
        process.stderr.write(
          `wrote ${r.written} prediction${r.written === 1 ? '' : 's'} to ${f.out} (${r.unassigned} need review)\n`,
        );
      },
    );

  const policy = program.command('policy').description('work with a policy file offline');
  policy
    .command('test')
    .description(
      'what a policy would decide on past alerts (from meshward replay or GET /v1/alerts), with its guardrails, enforcing nothing',
    )
    .requiredOption('--policy <file>', 'the policy YAML')
    .requiredOption('--alerts <file>', 'alerts: JSONL (as meshward replay writes) or a saved page of GET /v1/alerts')
    .option('-o, --out <decisions.jsonl>', 'where to write the decisions it would make')
    .action(async (f: { policy: string; alerts: string; out?: string }) => {
      const r = await runPolicyTest(f);
      process.stdout.write(policyTestTable(r));
      if (f.out) process.stderr.write(`wrote ${r.decisions.length} decisions to ${f.out}\n`);
    });
}
