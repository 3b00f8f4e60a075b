import type { TObject, TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { startBusReceiver } from '../../sensors/bus/bus-receiver.js';
import type { BusSensorConfig } from '../../sensors/bus/config.js';
import { busSensorFactory } from '../../sensors/bus/factory.js';
import type { CompiledMapping } from '../../sensors/bus/mapping.js';
import { idpSensorFactory } from '../../sensors/idp/factory.js';
import type { RecordIngest } from '../collector/ingest.js';
import { schemaProblems } from '../config/schema-problems.js';
import { checkInstanceName, checkSection } from '../config/section.js';
import { mwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { kongHttpLogFactory } from '../receivers/kong-http-log/factory.js';
import { otlpTracesFactory } from '../receivers/otlp-traces/factory.js';
import { syslogReceiverFactory } from '../receivers/syslog/factory.js';

/** a receiver type's config: schema, defaults and the cross-field check of a schema-valid config */
interface ReceiverSpec {
  schema: TSchema;
  /** the type's defaults: their `sensor_id` is the id of a receiver declared under the bare type key */
  defaults: { sensor_id: string };
  /**
   * what a receiver named after a slash takes from its name besides its sensor id, when its config does not give it
   * (an IdP receiver's idp_name: `idp/okta` → `okta`)
   */
  fromName?: (name: string) => Record<string, string>;
  /**
   * the cross-field check of a schema-valid config, with what it compiled on the way (the bus mapping, read from its
   * file): the compiled form goes to the receiver at start, so nothing is read or compiled twice
   */
  compile?: (config: never) => { compiled: unknown } | { problem: string };
}

/** a cross-field check that compiles nothing (a key the config needs), as a ReceiverSpec's compile */
const checkOnly =
  <C>(problemOf: (config: C) => string | undefined) =>
  (config: C): { compiled: unknown } | { problem: string } => {
    const problem = problemOf(config);
    return problem ? { problem } : { compiled: undefined };
  };

const SCHEMAS: Record<string, ReceiverSpec> = {
  syslog: { schema: syslogReceiverFactory.configSchema, defaults: syslogReceiverFactory.defaultConfig },
  kong_http_log: {
    schema: kongHttpLogFactory.configSchema,
    defaults: kongHttpLogFactory.defaultConfig,
    compile: checkOnly(kongHttpLogFactory.configProblem),
  },
  otlp_traces: {
    schema: otlpTracesFactory.configSchema,
    defaults: otlpTracesFactory.defaultConfig,
    compile: checkOnly(otlpTracesFactory.configProblem),
  },
  idp: {
    schema: idpSensorFactory.configSchema,
    defaults: idpSensorFactory.defaultConfig,
    fromName: (name) => ({ idp_name: name }),
    compile: checkOnly(idpSensorFactory.configProblem),
  },
  bus: {
    schema: busSensorFactory.configSchema,
    defaults: busSensorFactory.defaultConfig,
    compile: busSensorFactory.compile,
  },
};

/** `syslog`, `syslog/edge`, `kong_http_log`, `idp/keycloak`, `bus/orders` → the receiver type */
const typeOf = (key: string) => key.split('/')[0];

/** `idp/okta` → `okta`, `syslog/edge` → `edge`: what a receiver is named after the slash */
const nameOf = (key: string) => key.slice(key.indexOf('/') + 1);

/**
 * the defaults of the receiver declared as `key`: one named after a slash (`syslog/edge`, `idp/okta`) has its key as
 * its sensor id, and an IdP receiver its name as its idp_name (`okta`), so two receivers of one type left without a
 * `sensor_id` (or `idp_name`) keep their records and metrics apart; one declared under the bare type key keeps the
 * type's (`syslog`, `kong`, `idp-webhook`, `bus`; idp_name `idp`), the id and name it always had
 */
const defaultsOf = (spec: ReceiverSpec, key: string): object =>
  key.includes('/') ? { ...spec.defaults, sensor_id: key, ...spec.fromName?.(nameOf(key)) } : spec.defaults;

/**
 * a value taken from the key's (non-empty) name that the type's schema refuses (`idp/` and 257 characters: too long
 * an idp_name), named as coming from
 * the key, which is what to change; a value the config gives itself is checked with the rest of the config
 */
function nameProblem(spec: ReceiverSpec, key: string, raw: unknown): string | undefined {
  if (!spec.fromName || !key.includes('/')) return undefined;
  const given = raw && typeof raw === 'object' ? raw : {};
  for (const [field, value] of Object.entries(spec.fromName(nameOf(key)))) {
    if (Object.hasOwn(given, field)) continue;
    const [problem] = schemaProblems((spec.schema as TObject).properties[field], value, `receivers.${key}.${field}`);
    if (problem) return `${problem} (taken from the name after the slash: rename the receiver or give its ${field})`;
  }
  return undefined;
}

/** a receiver's checked config, and what its check compiled (the bus mapping), if anything */
export interface ReceiverEntry {
  key: string;
  type: string;
  config: unknown;
  compiled?: unknown;
}

function configOf(key: string, raw: unknown): ReceiverEntry {
  const spec = SCHEMAS[typeOf(key)];
  if (!spec)
    throw mwError(
      'CONFIG_INVALID',
      `receivers.${key}: unknown receiver type (known: ${Object.keys(SCHEMAS).join(', ')})`,
    );
  checkInstanceName('receivers', key, typeOf(key));
  const fromKey = nameProblem(spec, key, raw);
  if (fromKey) throw mwError('CONFIG_INVALID', fromKey);
  const config = checkSection(spec.schema, raw, `receivers.${key}`, defaultsOf(spec, key));
  const compiled = spec.compile?.(config as never);
  const problem = compiled && 'problem' in compiled ? compiled.problem : undefined;
  if (problem) throw mwError('CONFIG_INVALID', `receivers.${key}: ${problem}`);
  return {
    key,
    type: typeOf(key),
    config,
    compiled: compiled && 'compiled' in compiled ? compiled.compiled : undefined,
  };
}

/** the collector's own routes, which no receiver may take */
const COLLECTOR_PATHS = ['/v1/records', '/healthz'];

/**
 * the HTTP receivers (Kong http-log, OTLP traces, IdP webhooks) share the collector's server: two on one path would only fail when
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

/**
 * the `receivers:` section validated, each entry with its defaults filled in (fail fast, naming the key) and what
 * its check compiled
 */
export function receiverConfigs(section: Record<string, unknown> | undefined): ReceiverEntry[] {
  const entries = Object.entries(section ?? {}).map(([key, raw]) => configOf(key, raw));
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
 * own, HTTP routes on the collector's server (Kong http-log, OTLP traces, IdP webhooks) and Kafka consumers tapping topics (bus;
 * started in the background, retried while the brokers are unreachable). Validates everything before opening
 * anything (fail fast), unless given the entries receiverConfigs already checked (what the process checked at start:
 * a bus mapping file is then not read again); call before the collector's server listens.
 */
export async function startReceivers(
  section: Record<string, unknown> | undefined | readonly ReceiverEntry[],
  deps: { app: FastifyInstance; ingest: RecordIngest; logger: Logger },
): Promise<RunningReceivers> {
  const checked = Array.isArray(section) ? section : receiverConfigs(section as Record<string, unknown> | undefined);
  const entries = checked as readonly (ReceiverEntry & { config: never })[];
  const closers: (() => Promise<void>)[] = [];
  const describe: string[] = [];
  try {
    for (const { key, config, compiled } of entries) {
      const logger = deps.logger.child({ receiver: key });
      const type = typeOf(key);
      if (type === 'syslog') {
        const r = syslogReceiverFactory.create(config, { ingest: deps.ingest, logger, key });
        await r.start();
        closers.push(() => r.shutdown());
        describe.push(
          `${key}: syslog udp=${(config as { listen_udp?: string }).listen_udp ?? '-'} tcp=${(config as { listen_tcp?: string }).listen_tcp ?? '-'}`,
        );
      } else if (type === 'kong_http_log') {
        await kongHttpLogFactory.create(config, { ingest: deps.ingest, logger, key })(deps.app);
        describe.push(`${key}: Kong http-log at POST ${(config as { path: string }).path} on the collector`);
      } else if (type === 'otlp_traces') {
        await otlpTracesFactory.create(config, { ingest: deps.ingest, logger, key })(deps.app);
        describe.push(`${key}: OTLP/HTTP traces at POST ${(config as { path: string }).path} on the collector`);
      } else if (type === 'bus') {
        const bus = config as BusSensorConfig;
        // the mapping the config check read and compiled: the log and the sensor show and tap what was checked
        const mapping = compiled as CompiledMapping;
        const r = startBusReceiver(bus, { ingest: deps.ingest, logger, mapping, key });
        closers.push(() => r.close());
        describe.push(
          `${key}: Kafka brokers ${bus.brokers.join(',')} group ${bus.group_id} tapping ${mapping.topics.join(', ')}`,
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
