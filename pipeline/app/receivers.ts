import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { startBusReceiver } from '../../sensors/bus/bus-receiver.js';
import type { BusSensorConfig } from '../../sensors/bus/config.js';
import { busSensorFactory } from '../../sensors/bus/factory.js';
import { compileMapping, loadMappingFile } from '../../sensors/bus/mapping.js';
import { idpSensorFactory } from '../../sensors/idp/factory.js';
import type { RecordIngest } from '../collector/ingest.js';
import { checkSection } from '../config/section.js';
import { mwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { kongHttpLogFactory } from '../receivers/kong-http-log/factory.js';
import { syslogReceiverFactory } from '../receivers/syslog/factory.js';

/** a receiver type's config: schema, defaults and the cross-field check of a schema-valid config */
interface ReceiverSpec {
  schema: TSchema;
  defaults: object;
  problem?: (config: never) => string | undefined;
}

const SCHEMAS: Record<string, ReceiverSpec> = {
  syslog: { schema: syslogReceiverFactory.configSchema, defaults: syslogReceiverFactory.defaultConfig },
  kong_http_log: {
    schema: kongHttpLogFactory.configSchema,
    defaults: kongHttpLogFactory.defaultConfig,
    problem: kongHttpLogFactory.configProblem,
  },
  idp: {
    schema: idpSensorFactory.configSchema,
    defaults: idpSensorFactory.defaultConfig,
    problem: idpSensorFactory.configProblem,
  },
  bus: {
    schema: busSensorFactory.configSchema,
    defaults: busSensorFactory.defaultConfig,
    problem: busSensorFactory.configProblem,
  },
};

/** `syslog`, `syslog/edge`, `kong_http_log`, `idp/keycloak`, `bus/orders` → the receiver type */
const typeOf = (key: string) => key.split('/')[0];

function configOf<T>(key: string, raw: unknown): T {
  const spec = SCHEMAS[typeOf(key)];
  if (!spec)
    throw mwError(
      'CONFIG_INVALID',
      `receivers.${key}: unknown receiver type (known: ${Object.keys(SCHEMAS).join(', ')})`,
    );
  const config = checkSection(spec.schema, raw, `receivers.${key}`, spec.defaults);
  const problem = spec.problem?.(config as never);
  if (problem) throw mwError('CONFIG_INVALID', `receivers.${key}: ${problem}`);
  return config as T;
}

/** the collector's own routes, which no receiver may take */
const COLLECTOR_PATHS = ['/v1/records', '/healthz'];

/**
 * the HTTP receivers (Kong http-log, IdP webhooks) share the collector's server: two on one path would only fail when
 * the server starts (a duplicated route), so the config is refused, naming both keys
 */
function checkPaths(entries: readonly { key: string; type: string; config: unknown }[]): void {
  const taken = new Map<string, string>(COLLECTOR_PATHS.map((p) => [p, 'the collector']));
  for (const { key, config } of entries) {
    const path = (config as { path?: unknown }).path;
    if (typeof path !== 'string') continue;
    const owner = taken.get(path);
    if (owner)
      throw mwError(
        'CONFIG_INVALID',
        `receivers.${key}.path: ${path} is taken by ${owner === 'the collector' ? owner : `receivers.${owner}`} (give each HTTP receiver a path of its own)`,
      );
    taken.set(path, key);
  }
}

/** the `receivers:` section validated, each entry with its defaults filled in (fail fast, naming the key) */
export function receiverConfigs(
  section: Record<string, unknown> | undefined,
): { key: string; type: string; config: unknown }[] {
  const entries = Object.entries(section ?? {}).map(([key, raw]) => ({
    key,
    type: typeOf(key),
    config: configOf<unknown>(key, raw),
  }));
  checkPaths(entries);
  return entries;
}

export interface RunningReceivers {
  /** what listens where, for the start-up log */
  describe: string[];
  close(): Promise<void>;
}

/**
 * The receivers of the `receivers:` section, feeding the collector's ingest: syslog listeners (UDP/TCP) of their
 * own, HTTP routes on the collector's server (Kong http-log, IdP webhooks) and Kafka consumers tapping topics (bus;
 * started in the background, retried while the brokers are unreachable). Validates everything before opening
 * anything (fail fast); call before the collector's server listens.
 */
export async function startReceivers(
  section: Record<string, unknown> | undefined,
  deps: { app: FastifyInstance; ingest: RecordIngest; logger: Logger },
): Promise<RunningReceivers> {
  const entries = receiverConfigs(section) as unknown as { key: string; config: never }[];
  const closers: (() => Promise<void>)[] = [];
  const describe: string[] = [];
  try {
    for (const { key, config } of entries) {
      const logger = deps.logger.child({ receiver: key });
      const type = typeOf(key);
      if (type === 'syslog') {
        const r = syslogReceiverFactory.create(config, { ingest: deps.ingest, logger });
        await r.start();
        closers.push(() => r.shutdown());
        describe.push(
          `${key}: syslog udp=${(config as { listen_udp?: string }).listen_udp ?? '-'} tcp=${(config as { listen_tcp?: string }).listen_tcp ?? '-'}`,
        );
      } else if (type === 'kong_http_log') {
        await kongHttpLogFactory.create(config, { ingest: deps.ingest, logger, key })(deps.app);
        describe.push(`${key}: Kong http-log at POST ${(config as { path: string }).path} on the collector`);
      } else if (type === 'bus') {
        const bus = config as BusSensorConfig;
        // the file is read once here (checked with the config): the sensor gets the mapping inline
        const mapping = bus.mapping ?? loadMappingFile(bus.mapping_file);
        const topics = compileMapping(mapping).topics;
        const r = startBusReceiver({ ...bus, mapping }, { ingest: deps.ingest, logger });
        closers.push(() => r.close());
        describe.push(
          `${key}: Kafka brokers ${bus.brokers.join(',')} group ${bus.group_id} tapping ${topics.join(', ')}`,
        );
      } else {
        await idpSensorFactory.create(config, { app: deps.app, ingest: deps.ingest, logger, key });
        describe.push(`${key}: IdP webhook ${(config as { path: string }).path} on the collector`);
      }
    }
  } catch (err) {
    for (const c of closers) await c();
    throw err;
  }
  return {
    describe,
    close: async () => {
      for (const c of closers) await c();
    },
  };
}
