import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { closeAdapters, createAdapters } from '../../policy-actions/engine/adapter-registry.js';
import { readTokenHashKey } from '../../sensors/common/token-hash-key.js';
import { keyedStreamsOf } from '../bus/keyed-streams.js';
import { kafkaBusOptionsFromConfig } from '../bus/kafka-config.js';
import type { ConfigOverrides } from '../config/load.js';
import type { MeshwardConfig } from '../config/schema.js';
import { readSecretFile } from '../config/secret-file.js';
import { checkSharedSecret } from '../config/shared-secret.js';
import { mwError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { systemProblem } from '../core/failure-line.js';
import { compileDetectors } from '../detectors/registry.js';
import { loadCatalogFilesSync } from '../inventory/catalog/load.js';
import { compileSinks } from '../sinks/sink-runner.js';
import { loadActionsPolicy } from './actions.js';
import { loadCheckedConfig } from './process-runner.js';
import type { ReceiverEntry } from './receivers.js';
import { authenticatorOf, collectorSensorTokens } from './roles.js';

/** what a process of this role starts: `start` is the embedded process (collector, correlator, API and actions) */
export const CHECK_ROLES = ['start', 'collector', 'correlator', 'api', 'actions'] as const;
export type CheckRole = (typeof CHECK_ROLES)[number];

/** one line of the report: a part of the deployment and what the config makes of it */
export interface CheckedPart {
  part: string;
  detail: string;
}

export interface ConfigCheck {
  source: string;
  role: CheckRole;
  config: MeshwardConfig;
  /** the `receivers:` entries as checked, with what their check compiled (a bus receiver's mapping) */
  receivers: readonly ReceiverEntry[];
  parts: CheckedPart[];
}

/** the `*_file` options that hold a secret (a key, a token, a password), read as the process reads them */
const SECRET_FILE_KEYS = new Set([
  'token_hash_key_file',
  'webhook_token_file',
  'secret_file',
  'bearer_token_file',
  'client_secret_file',
  'password_file',
  'token_file',
  'key_file',
]);
/**
 * of those, the secrets meshward's own parts share (a token hash key, the IdP webhook's token, a webhook sink's
 * signing secret): at least 16 characters, as the receiver or sink checks when created
 */
const SHARED_SECRET_FILE_KEYS = new Set(['token_hash_key_file', 'webhook_token_file', 'secret_file']);
/** the `*_file` options that name a certificate bundle: not secret, but the process must be able to read it */
const CERTIFICATE_FILE_KEYS = new Set(['ca_file', 'ssl_ca_file']);

export const runs = (role: CheckRole, part: 'collector' | 'correlator' | 'api') => role === 'start' || role === part;

/**
 * Everything a meshward process of `role` checks before it opens a port or a connection, without starting it: the
 * config's schema and sections (as `start` checks them), the policy file, the catalogue files, the sensor tokens and
 * API keys the role needs, every secret file the config names (read, never shown) and certificate bundle, and that
 * the embedded data directory is writable. Throws the first problem as start would (a catalogue error naming the
 * file and key); returns what the config makes of each part otherwise.
 */
export async function checkConfig(opts: {
  config?: string;
  overrides?: ConfigOverrides;
  role?: CheckRole;
}): Promise<ConfigCheck> {
  const source = opts.config ?? '<defaults>';
  const role = opts.role ?? 'start';
  try {
    const runsDetectors = runs(role, 'correlator');
    const { config, checked } = loadCheckedConfig(opts.config, opts.overrides, undefined, { runsDetectors });
    const { receivers } = checked;
    const parts: CheckedPart[] = [busPart(config), storePart(config)];
    if (runs(role, 'collector')) parts.push(...collectorParts(config, receivers));
    if (runsDetectors) parts.push(correlatorPart(config, checked.detectors));
    if (runs(role, 'api')) parts.push(...apiParts(config));
    if (role === 'actions') {
      if (!config.actions) throw mwError('CONFIG_INVALID', '/actions: the actions role needs an actions section');
      authenticatorOf(config);
    }
    // the API role runs the policy engine too when the config has an actions section, as start does
    if (config.actions && (runs(role, 'api') || role === 'actions')) parts.push(await actionsPart(config.actions));
    parts.push(filesPart(config, role));
    return { source, role, config, receivers, parts };
  } catch (err) {
    throw systemProblem(err, 'CONFIG_INVALID') ?? err;
  }
}

/**
 * the policy file and adapters of the actions section, as a process that runs the policy engine loads and creates
 * them (an adapter reads its secret files when created; none calls its IdP or gateway before a decision)
 */
async function actionsPart(section: Record<string, unknown>): Promise<CheckedPart> {
  const policy = await loadActionsPolicy(section);
  const created = createAdapters(section, { logger: silentLogger });
  await closeAdapters(created);
  const adapters = Object.keys(created);
  return {
    part: 'actions',
    detail: `policy ${section.policy_file}: ${policy.rules.length} rule(s); adapters ${adapters.join(', ') || 'none'}`,
  };
}

function busPart(config: MeshwardConfig): CheckedPart {
  const kafka = config.bus.kind === 'kafka' ? config.bus.kafka : undefined;
  if (!kafka) return { part: 'bus', detail: `in-process, ${config.bus.partitions} partition(s) per topic` };
  // reads the SASL password and the CA bundle, as opening the bus does
  const options = kafkaBusOptionsFromConfig(kafka);
  const extras = [options.ssl ? 'TLS' : '', options.sasl ? `SASL ${options.sasl.mechanism}` : ''].filter(Boolean);
  return { part: 'bus', detail: `kafka ${kafka.brokers.join(', ')}${extras.length ? ` (${extras.join(', ')})` : ''}` };
}

function storePart(config: MeshwardConfig): CheckedPart {
  if (config.store.kind === 'redis' && config.store.url)
    return { part: 'store', detail: `redis ${redactedUrl(config.store.url)}` };
  const dir = resolve(config.data_dir);
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory())
    throw mwError('CONFIG_INVALID', `data_dir: ${dir} cannot be created (${existing} is not a directory)`);
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw mwError('CONFIG_INVALID', `data_dir: ${dir} cannot be written (${existing} is not writable)`);
  }
  return { part: 'store', detail: `embedded, data directory ${dir}` };
}

function collectorParts(config: MeshwardConfig, checked: readonly ReceiverEntry[]): CheckedPart[] {
  const tokens = collectorSensorTokens(config);
  const receivers = checked.map((r) => r.key);
  return [
    { part: 'collector', detail: `${config.collector.listen}, ${tokens.length} sensor token(s)` },
    { part: 'receivers', detail: receivers.join(', ') || 'none' },
  ];
}

function correlatorPart(config: MeshwardConfig, detectors = compileDetectors(config.detectors)): CheckedPart {
  const { types } = detectors;
  const files = (config.detectors?.api_discovery as { catalog_files?: string[] } | undefined)?.catalog_files ?? [];
  const catalogue = files.length
    ? `; catalogue ${files.length} file(s), ${loadCatalogFilesSync(files).length} entries`
    : '';
  const streams = keyedStreamsOf(config).map((s) => s.detector);
  const keyed = streams.length ? `; ${streams.join(', ')} on keyed streams` : '';
  return { part: 'correlator', detail: `${types.length} detectors: ${types.join(', ')}${catalogue}${keyed}` };
}

function apiParts(config: MeshwardConfig): CheckedPart[] {
  const keys = authenticatorOf(config).keyPrincipals().length;
  const oidc = config.api.oidc ? `, OIDC ${config.api.oidc.issuer}` : '';
  // which sinks skip refreshes of an ongoing alert (deliver: changes), how often they repeat one, and which leave out
  // alerts below a severity (min_severity)
  const sinks = compileSinks(config.sinks).map(({ name, delivery: d }) => {
    const notes = [
      ...(d.deliver === 'all' ? [] : ['changes', d.repeatMs ? `repeat ${d.repeatMs / 60_000} min` : 'no repeat']),
      ...(d.minSeverity === 'info' ? [] : [`${d.minSeverity} and above`]),
    ];
    return notes.length ? `${name} (${notes.join(', ')})` : name;
  });
  return [
    { part: 'api', detail: `${config.api.listen}, ${keys} API key(s)${oidc}` },
    { part: 'sinks', detail: sinks.join(', ') || 'none' },
  ];
}

/** the config sections whose files a process of the role reads (a pod mounts the secrets of its own role only) */
const SECTIONS_READ: Record<CheckRole, readonly (keyof MeshwardConfig)[]> = {
  start: ['bus', 'collector', 'receivers', 'detectors', 'correlator', 'api', 'sinks', 'actions'],
  collector: ['bus', 'collector', 'receivers'],
  correlator: ['bus', 'detectors', 'correlator'],
  api: ['bus', 'api', 'sinks', 'actions'],
  actions: ['bus', 'api', 'actions'],
};

/**
 * every secret file and certificate bundle named in the sections the role reads, read as the process would (the
 * sensor tokens and API keys files were read and parsed already; they are counted here)
 */
function filesPart(config: MeshwardConfig, role: CheckRole): CheckedPart {
  const secrets = new Set<string>();
  const certificates = new Set<string>();
  for (const section of SECTIONS_READ[role])
    for (const [where, key, path] of fileOptions(config[section], section)) {
      if (key === 'sensor_tokens_file' || key === 'api_keys_file') secrets.add(path);
      else if (SECRET_FILE_KEYS.has(key)) {
        readSecretAsCreated(where, key, path);
        secrets.add(path);
      } else if (CERTIFICATE_FILE_KEYS.has(key)) {
        try {
          accessSync(path, constants.R_OK);
        } catch (err) {
          throw mwError('CONFIG_INVALID', `${where}: cannot read ${path}: ${(err as Error).message}`);
        }
        certificates.add(path);
      }
    }
  return {
    part: 'files',
    detail: `${secrets.size} secret file(s) read (never shown), ${certificates.size} certificate bundle(s) readable`,
  };
}

/** a secret file read as the part naming it reads it: a shared secret's length checked, a token hash key's line found */
function readSecretAsCreated(where: string, key: string, path: string): void {
  if (key === 'token_hash_key_file')
    readTokenHashKey({ token_hash_key_file: path }, where.slice(0, -'.token_hash_key_file'.length));
  else if (SHARED_SECRET_FILE_KEYS.has(key)) checkSharedSecret(readSecretFile(path, where), where, path);
  else readSecretFile(path, where);
}

/** [option path, key, file] of every string option whose key ends in `_file` */
function* fileOptions(node: unknown, where = ''): Generator<[string, string, string]> {
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) yield* fileOptions(v, `${where}[${i}]`);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    const path = where ? `${where}.${key}` : key;
    if (key.endsWith('_file') && typeof value === 'string') yield [path, key, value];
    else yield* fileOptions(value, path);
  }
}

/** a Redis URL with its credentials masked: the report is printed, a password in the URL must not be */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username) u.username = '***';
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** the report as `meshward check` prints it */
export function formatConfigCheck(check: ConfigCheck, extra: readonly CheckedPart[] = []): string {
  const parts = [...check.parts, ...extra];
  const width = Math.max(...parts.map((p) => p.part.length));
  return [
    `${check.source}: valid for ${check.role}`,
    ...parts.map((p) => `  ${p.part.padEnd(width)}  ${p.detail}`),
  ].join('\n');
}
