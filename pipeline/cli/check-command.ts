import { type Command, InvalidArgumentError, Option } from 'commander';
import { CHECK_ROLES, type CheckRole, checkConfig, formatConfigCheck } from '../app/config-check.js';
import { checkConnections } from '../app/connect-check.js';

const milliseconds = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('--timeout must be a whole number of milliseconds');
  return n;
};

interface CheckFlags {
  config?: string;
  role: CheckRole;
  kafka?: string;
  redis?: string;
  dataDir?: string;
  connect?: boolean;
  timeout: number;
}

/**
 * `meshward check`: a config checked as a process of the role would check it before starting, without starting
 * anything (as `nginx -t` or `otelcol validate`); with --connect the Kafka brokers and Redis are reached too. Prints
 * what the config makes of each part and exits 0, or the first problem in one line with its code and exits 2.
 */
export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description(
      'check a config without starting anything: schema, sections, policy and catalogue files, the credentials and secret files a role reads; --connect reaches Kafka and Redis',
    )
    .option('-c, --config <file>', 'YAML config file (env: MESHWARD_CONFIG)', process.env.MESHWARD_CONFIG)
    .addOption(
      new Option('--role <role>', 'the process the config is for (start: the embedded one, every part)')
        .choices(CHECK_ROLES)
        .default('start'),
    )
    .option(
      '--kafka <brokers>',
      'Kafka bootstrap brokers, as the process would be given them (env: MESHWARD_KAFKA_BROKERS)',
    )
    .option('--redis <url>', 'Redis URL, as the process would be given it (env: MESHWARD_REDIS_URL)')
    .option('--data-dir <dir>', 'embedded data directory (env: MESHWARD_DATA_DIR)')
    .option('--connect', 'also reach the Kafka brokers and the Redis server the config names')
    .option('--timeout <ms>', 'with --connect: how long to wait for each', milliseconds, 10_000)
    .action(async (f: CheckFlags) => {
      const check = await checkConfig({
        config: f.config,
        role: f.role,
        overrides: { kafka: f.kafka, redis: f.redis, dataDir: f.dataDir },
      });
      const remote =
        check.config.bus.kind === 'kafka' ||
        check.config.store.kind === 'redis' ||
        check.receivers.some((r) => r.type === 'bus');
      const extra = f.connect
        ? await checkConnections(check, f.timeout)
        : remote
          ? [{ part: 'connect', detail: 'not tried (--connect reaches Kafka and Redis)' }]
          : [];
      process.stdout.write(`${formatConfigCheck(check, extra)}\n`);
    });
}
