import type { Command } from 'commander';
import { prepareDemo, startDemoTraffic } from '../app/demo.js';
import { runProcess } from '../app/process-runner.js';
import { type RunningRole, runActions, runApi, runCollector, runCorrelator } from '../app/roles.js';

interface ServiceFlags {
  config?: string;
  kafka?: string;
  redis?: string;
  dataDir?: string;
  apiListen?: string;
  collectorListen?: string;
}

const withCommonFlags = (cmd: Command) =>
  cmd
    .option('-c, --config <file>', 'YAML config file (env: MESHWARD_CONFIG)', process.env.MESHWARD_CONFIG)
    .option(
      '--kafka <brokers>',
      'Kafka bootstrap brokers, comma-separated (env: MESHWARD_KAFKA_BROKERS); switches the bus to Kafka',
    )
    .option('--redis <url>', 'Redis URL (env: MESHWARD_REDIS_URL); switches the state store to Redis')
    .option('--data-dir <dir>', 'embedded data directory (env: MESHWARD_DATA_DIR)');

const overridesOf = (f: ServiceFlags) => ({
  kafka: f.kafka,
  redis: f.redis,
  dataDir: f.dataDir,
  apiListen: f.apiListen,
  collectorListen: f.collectorListen,
});

export function registerServiceCommands(program: Command): void {
  withCommonFlags(program.command('start'))
    .description('run everything embedded in one process: collector, correlator, analyst API and console')
    .option('--demo', 'first-run defaults (generated credentials in the data directory) and live demo traffic')
    .option('--api-listen <host:port>', 'analyst API address (env: MESHWARD_API_LISTEN)')
    .option('--collector-listen <host:port>', 'collector address (env: MESHWARD_COLLECTOR_LISTEN)')
    .action(async (flags: ServiceFlags & { demo?: boolean }) => {
      const { roles, deps } = await runProcess(
        'embedded',
        {
          config: flags.config,
          overrides: overridesOf(flags),
          prepare: flags.demo ? prepareDemo : undefined,
          actions: true,
          detectors: true,
        },
        async (d) => {
          const started: RunningRole[] = [];
          started.push(await runCorrelator(d));
          started.push(await runApi(d, { collectorHere: true }));
          started.push(await runCollector(d));
          return started;
        },
      );
      const api = roles.find((r) => r.name === 'api');
      const collector = roles.find((r) => r.name === 'collector');
      if (flags.demo) {
        const demo = await startDemoTraffic(deps, collector?.url ?? '');
        roles.push(demo);
        process.stdout.write(demo.banner(api?.url ?? ''));
      } else {
        process.stdout.write(
          `meshward is running\n  analyst API: ${api?.url}\n  collector:   ${collector?.url}/v1/records\n`,
        );
      }
    });

  withCommonFlags(program.command('collector'))
    .description('run a collector: HTTP ingest (and configured receivers) publishing to the bus')
    .option('--collector-listen <host:port>', 'collector address (env: MESHWARD_COLLECTOR_LISTEN)')
    .action(async (flags: ServiceFlags) => {
      const { roles } = await runProcess(
        'collector',
        { config: flags.config, overrides: overridesOf(flags) },
        async (d) => [await runCollector(d)],
      );
      process.stdout.write(`collector listening on ${roles[0].url}\n`);
    });

  withCommonFlags(program.command('correlator'))
    .description('run a correlator: one member of the correlator consumer group')
    .action(async (flags: ServiceFlags) => {
      await runProcess(
        'correlator',
        { config: flags.config, overrides: overridesOf(flags), detectors: true },
        async (d) => [await runCorrelator(d)],
      );
      process.stdout.write('correlator started\n');
    });

  withCommonFlags(program.command('api'))
    .description('run the analyst API and console, fed by the alerts topic (and the policy engine, when configured)')
    .option('--api-listen <host:port>', 'analyst API address (env: MESHWARD_API_LISTEN)')
    .option('--no-actions', 'do not run the policy engine here (run `meshward actions` instead)')
    .action(async (flags: ServiceFlags & { actions: boolean }) => {
      const opts = { config: flags.config, overrides: overridesOf(flags), actions: flags.actions };
      const { roles } = await runProcess('api', opts, async (d) => [await runApi(d, { actions: flags.actions })]);
      process.stdout.write(`analyst API listening on ${roles[0].url}\n`);
    });

  withCommonFlags(program.command('actions'))
    .description('run the policy engine on its own: alerts in, decisions to the IdP and gateways, decisions API')
    .action(async (flags: ServiceFlags) => {
      const { roles } = await runProcess(
        'actions',
        { config: flags.config, overrides: overridesOf(flags), actions: true },
        async (d) => [await runActions(d)],
      );
      process.stdout.write(`decisions API listening on ${roles[0].url}\n`);
    });
}
