import type { Bus } from '../bus/bus.js';
import type { ConfigOverrides } from '../config/load.js';
import { envOverrides, loadConfig } from '../config/load.js';
import type { MeshwardConfig } from '../config/schema.js';
import { failureLine } from '../core/failure-line.js';
import { createLogger, type Logger } from '../core/logger.js';
import { enableDefaultMetrics } from '../core/metrics.js';
import type { Store } from '../store/store.js';
import { loadActionsPolicy } from './actions.js';
import { type CheckedSections, checkSections } from './check-sections.js';
import { openBus, openStore } from './engines.js';
import type { RoleDeps, RunningRole } from './roles.js';

export interface ProcessOptions {
  config?: string;
  overrides?: ConfigOverrides;
  /** adjust the loaded config before anything starts (e.g. demo defaults) */
  prepare?: (config: MeshwardConfig) => MeshwardConfig;
  /** this process runs the policy engine (when the config has `actions:`): its policy file is checked first too */
  actions?: boolean;
  /** this process runs the detectors (a correlator): the files their config names are read at the check too */
  detectors?: boolean;
}

/**
 * The config a process starts with: the file (or the defaults), the environment's overrides and the flags' (a flag
 * not given leaves the rest alone), adjusted by `prepare`, its sections checked (what the check compiled goes to the
 * roles). `meshward check` loads a config the same way.
 */
export function loadCheckedConfig(
  path: string | undefined,
  overrides: ConfigOverrides = {},
  prepare?: (config: MeshwardConfig) => MeshwardConfig,
  options: { runsDetectors?: boolean } = {},
): { config: MeshwardConfig; checked: CheckedSections } {
  const loaded = loadConfig(path, { ...envOverrides(), ...stripUndefined(overrides) });
  const config = prepare ? prepare(loaded) : loaded;
  return { config, checked: checkSections(config, path ?? '<defaults>', options) };
}

/**
 * Runs one meshward process: config and policy file (fail fast) → engines → roles, then waits for SIGINT/SIGTERM and shuts down in
 * reverse order (roles, bus, store), flushing state. Errors after start are logged, never fatal.
 */
export async function runProcess(
  name: string,
  opts: ProcessOptions,
  start: (deps: RoleDeps) => Promise<RunningRole[]>,
): Promise<{ roles: RunningRole[]; deps: RoleDeps; shutdown: () => Promise<void> }> {
  let config: MeshwardConfig;
  let checked: CheckedSections;
  try {
    ({ config, checked } = loadCheckedConfig(opts.config, opts.overrides, opts.prepare, {
      runsDetectors: opts.detectors,
    }));
    if (opts.actions && config.actions) await loadActionsPolicy(config.actions);
  } catch (err) {
    failStartup(err);
  }
  const logger: Logger = createLogger({
    level: process.env.MESHWARD_LOG_LEVEL ?? config.log_level,
    name: `meshward-${name}`,
  });
  enableDefaultMetrics();
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception (kept running)'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection (kept running)'));

  let bus: Bus | undefined;
  let store: Store | undefined;
  let roles: RunningRole[] = [];
  try {
    bus = openBus(config, logger);
    store = openStore(config);
    roles = await start({ config, bus, store, logger, receivers: checked.receivers, detectors: checked.detectors });
  } catch (err) {
    logger.error({ err }, 'startup failed');
    await Promise.allSettled(roles.map((r) => r.close()));
    await bus?.close().catch(() => {});
    await store?.close().catch(() => {});
    failStartup(err);
  }
  const deps: RoleDeps = { config, bus, store, logger, receivers: checked.receivers };
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info('shutting down');
      for (const r of [...roles].reverse()) {
        await r.close().catch((err) => logger.error({ err, role: r.name }, 'close failed'));
      }
      await deps.bus.close().catch((err) => logger.error({ err }, 'bus close failed'));
      await deps.store.close().catch((err) => logger.error({ err }, 'store close failed'));
    })();
    return stopping;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void shutdown().then(() => process.exit(0));
    });
  }
  return { roles, deps, shutdown };
}

/**
 * Ends a process that could not start, in one line with its code: a system error as the config's address or file to
 * fix (a listener that could not take its address, a file the config names that cannot be read: sensor tokens, API
 * keys, secrets), worded as every meshward command words its failure
 */
function failStartup(err: unknown): never {
  process.stderr.write(`${failureLine(err, 'CONFIG_INVALID')}\n`);
  process.exit(2);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
