import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { Command, CommanderError } from 'commander';
import { parseAllDocuments } from 'yaml';
import { createApiServer } from '../../pipeline/api/api-server.js';
import { ApiAuthenticator, readApiKeysFile } from '../../pipeline/api/auth.js';
import { TOPICS } from '../../pipeline/bus/bus.js';
import { registerAnalystCommands } from '../../pipeline/cli/analyst-commands.js';
import { registerOfflineCommands } from '../../pipeline/cli/offline-commands.js';
import { registerRulesCommands } from '../../pipeline/cli/rules-commands.js';
import { registerServiceCommands } from '../../pipeline/cli/service-commands.js';
import { createCollectorServer } from '../../pipeline/collector/collector-server.js';
import type { RecordIngest } from '../../pipeline/collector/ingest.js';
import { readSensorTokensFile, SensorAuth } from '../../pipeline/collector/sensor-auth.js';
import { envOverrides, loadConfig } from '../../pipeline/config/load.js';
import type { MeshwardConfig } from '../../pipeline/config/schema.js';
import { readSecretFile } from '../../pipeline/config/secret-file.js';
import { checkSharedSecret } from '../../pipeline/config/shared-secret.js';
import { defaultSyslogReceiverConfig, SyslogReceiverConfigSchema } from '../../pipeline/receivers/syslog/config.js';
import { silentLogger } from '../../pipeline/core/logger.js';
import { loadPolicyFile } from '../../policy-actions/engine/policy.js';
import { readTokenHashKey } from '../../sensors/common/token-hash-key.js';
import { repoRoot } from '../harness/paths.js';

/**
 * Shared by the deployment tests: the real CLI, config loader, secret-file readers and HTTP servers that the
 * compose file and the Kubernetes manifests are checked against. Every check returns a list of problems, so a test
 * can show both that the committed files pass and that a mutated copy is caught.
 */

export const root = repoRoot();
export const repoPath = (...parts: string[]) => join(root, ...parts);
export const readRepoFile = (path: string) => readFileSync(repoPath(path), 'utf8');

/** YAML documents of a file (merge keys on, as Compose reads them); throws on a YAML error */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text, { merge: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    if (d.errors.length > 0) throw new Error(`${source}: ${d.errors[0].message}`);
  }
  return list.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown).filter((d) => d !== null && d !== undefined);
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** a temp dir for mutated copies */
export function tempDir(prefix = 'mw-deploy-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** writes text to a fresh temp file and returns its path */
export function tempFile(name: string, text: string): string {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

/** `host:port` → parts (IPv6 in brackets allowed) */
export function hostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(addr.trim());
  return m ? { host: m[1], port: Number(m[2]) } : undefined;
}

/** a listen address other containers can reach (not loopback) */
export const listensOnAllInterfaces = (host: string) => ['0.0.0.0', '::', ''].includes(host);

// --- the CLI --------------------------------------------------------------------------------------------------

export interface CliInvocation {
  command: string;
  options: Record<string, unknown>;
  args: string[];
}

/** the registration calls the entry point's program (pipeline/cli/program.ts) makes */
export function registeredCommandGroups(): string[] {
  return [...readRepoFile('pipeline/cli/program.ts').matchAll(/\b(register\w+Commands)\(program\)/g)].map((m) => m[1]);
}

function cliProgram(): Command {
  const program = new Command();
  registerServiceCommands(program);
  registerOfflineCommands(program);
  registerRulesCommands(program);
  registerAnalystCommands(program, () => undefined);
  return program;
}

/** the subcommands of the real CLI */
export function cliCommands(): string[] {
  return cliProgram().commands.map((c) => c.name());
}

/**
 * Parses argv (what follows `node dist/pipeline/cli/main.js`) with the real CLI definition, without running
 * anything: throws with commander's message for an unknown subcommand or option.
 */
export async function parseCli(argv: string[]): Promise<CliInvocation> {
  const program = cliProgram();
  const silent = { writeOut: () => {}, writeErr: () => {} };
  let captured: CliInvocation | undefined;
  for (const cmd of [program, ...program.commands]) cmd.exitOverride().configureOutput(silent);
  for (const cmd of program.commands) {
    cmd.action((...actionArgs: unknown[]) => {
      const c = actionArgs[actionArgs.length - 1] as Command;
      captured = { command: c.name(), options: c.opts(), args: c.args };
    });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new Error(`meshward ${argv.join(' ')}: ${err.message}`);
    throw err;
  }
  if (!captured) throw new Error(`meshward ${argv.join(' ')}: runs no subcommand`);
  return captured;
}

// --- the roles --------------------------------------------------------------------------------------------------

export type Role = 'collector' | 'correlator' | 'api' | 'actions';
export const ROLES: readonly Role[] = ['collector', 'correlator', 'api', 'actions'];
export const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

/** the config with the container's env overrides applied, as the process runner loads it */
export function loadRoleConfig(file: string, env: Record<string, string> = {}): MeshwardConfig {
  return loadConfig(file, envOverrides(env));
}

interface ActionsModule {
  actionSettings(section: Record<string, unknown>): { policy_file: string; listen: string; group_id: string };
}

/**
 * The `actions:` settings through the actions role's own validation (pipeline/app/actions.ts), or undefined while
 * that module does not exist.
 */
export async function actionsSettings(
  config: MeshwardConfig,
): Promise<{ policy_file: string; listen: string; group_id: string } | undefined> {
  const file = repoPath('pipeline/app/actions.ts');
  if (!existsSync(file) || !config.actions) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as ActionsModule;
  return mod.actionSettings(config.actions);
}

interface ReceiversModule {
  receiverConfigs(section: Record<string, unknown> | undefined): unknown[];
}

/**
 * Problems of the `receivers:` section: through the collector's own validation (pipeline/app/receivers.ts) when
 * that module exists, else the syslog receiver's schema for `syslog` keys.
 */
export async function receiverProblems(config: MeshwardConfig): Promise<string[]> {
  const file = repoPath('pipeline/app/receivers.ts');
  if (existsSync(file)) {
    const mod = (await import(pathToFileURL(file).href)) as ReceiversModule;
    try {
      mod.receiverConfigs(config.receivers);
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  }
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(config.receivers ?? {})) {
    if (key.split('/')[0] !== 'syslog') continue;
    const candidate = Value.Default(
      SyslogReceiverConfigSchema,
      structuredClone({ ...defaultSyslogReceiverConfig, ...(raw as object) }),
    );
    for (const e of Value.Errors(SyslogReceiverConfigSchema, candidate))
      problems.push(`/receivers/${key}${e.path}: ${e.message}`);
  }
  return problems;
}

/** where a role listens (HTTP), or undefined for roles without a server */
export async function roleListen(role: Role, config: MeshwardConfig): Promise<string | undefined> {
  if (role === 'collector') return config.collector.listen;
  if (role === 'api') return config.api.listen;
  if (role === 'actions') return (await actionsSettings(config))?.listen;
  return undefined;
}

export interface RoleFile {
  /** config key naming the file */
  key: string;
  path: string;
  /** parses the file with the reader the role uses; throws what the role would */
  read: (file: string) => Promise<unknown>;
}

/**
 * the files a role reads at start, from its config (tokens, keys, policy, Kafka CA and password, the collector's
 * receivers' secret files)
 */
export async function roleFiles(role: Role, config: MeshwardConfig, cli: CliInvocation): Promise<RoleFile[]> {
  const files: RoleFile[] = [];
  const kafka = config.bus.kind === 'kafka' ? config.bus.kafka : undefined;
  if (kafka?.ssl && kafka.ssl_ca_file) {
    files.push({ key: '/bus/kafka/ssl_ca_file', path: kafka.ssl_ca_file, read: async (f) => readFileSync(f) });
  }
  if (kafka?.sasl) {
    files.push({
      key: '/bus/kafka/sasl/password_file',
      path: kafka.sasl.password_file,
      // as pipeline/bus/kafka-config.ts reads it: a secret file (an empty one refused)
      read: async (f) => readSecretFile(f, 'bus.kafka.sasl.password_file'),
    });
  }
  if (role === 'collector') {
    // the receivers' secret files, as they read them at start: the token hash key (Kong http-log, IdP) and the IdP
    // webhook's token (sensors/idp/factory.ts), each a shared secret of 16 characters at least
    for (const [key, raw] of Object.entries(config.receivers ?? {})) {
      const r = (isRecord(raw) ? raw : {}) as { token_hash_key_file?: unknown; webhook_token_file?: unknown };
      const where = `receivers.${key}`;
      if (typeof r.token_hash_key_file === 'string')
        files.push({
          key: `/receivers/${key}/token_hash_key_file`,
          path: r.token_hash_key_file,
          read: async (f) => readTokenHashKey({ token_hash_key_file: f }, where),
        });
      if (typeof r.webhook_token_file === 'string')
        files.push({
          key: `/receivers/${key}/webhook_token_file`,
          path: r.webhook_token_file,
          read: async (f) =>
            checkSharedSecret(readSecretFile(f, `${where}.webhook_token_file`), `${where}.webhook_token_file`, f),
        });
    }
  }
  if (role === 'collector' && config.collector.sensor_tokens_file) {
    files.push({
      key: '/collector/sensor_tokens_file',
      path: config.collector.sensor_tokens_file,
      read: async (f) => readSensorTokensFile(f),
    });
  }
  const runsEngine = role === 'actions' || (role === 'api' && cli.options.actions !== false && !!config.actions);
  if ((role === 'api' || role === 'actions') && config.api.api_keys_file) {
    files.push({ key: '/api/api_keys_file', path: config.api.api_keys_file, read: async (f) => readApiKeysFile(f) });
  }
  if (runsEngine) {
    const settings = await actionsSettings(config);
    const policy = settings?.policy_file ?? (config.actions?.policy_file as string | undefined);
    if (policy) files.push({ key: '/actions/policy_file', path: policy, read: (f) => loadPolicyFile(f) });
  }
  return files;
}

/** the sensor tokens a role accepts: inline ones plus those of the file (already mapped to the repo) */
export function sensorTokensOf(config: MeshwardConfig, tokensFile?: string): string[] {
  return [...config.collector.sensor_tokens, ...(tokensFile ? readSensorTokensFile(tokensFile) : [])].map(
    (t) => t.token,
  );
}

// --- health endpoints ------------------------------------------------------------------------------------------

const stubIngest: RecordIngest = {
  ingest: async () => ({ accepted: 0, ids: [], rejected: [] }),
} as unknown as RecordIngest;

/**
 * The HTTP status a probe without credentials gets from the server a role runs (collector: createCollectorServer;
 * api and actions: createApiServer), with its dependencies healthy.
 */
export async function probeStatus(role: Role, path: string): Promise<number> {
  if (role === 'collector') {
    const app = createCollectorServer({
      ingest: stubIngest,
      auth: new SensorAuth([{ id: 'probe', token: 'probe-token-0123456789' }]),
      logger: silentLogger,
      busHealthy: () => true,
    });
    try {
      return (await app.inject({ method: 'GET', url: path })).statusCode;
    } finally {
      await app.close();
    }
  }
  if (role === 'api' || role === 'actions') {
    const app = await createApiServer({
      auth: new ApiAuthenticator([]),
      logger: silentLogger,
      health: () => ({ bus: true, store: true }),
      plugins: [],
    });
    try {
      return (await app.inject({ method: 'GET', url: path })).statusCode;
    } finally {
      await app.close();
    }
  }
  throw new Error(`the ${role} role serves no HTTP`);
}

// --- Kafka topics -----------------------------------------------------------------------------------------------

export const busTopics = (): string[] => Object.values(TOPICS);

/** `topic:partitions` pairs of a whitespace-separated list */
export function parseTopicList(list: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const spec of list.trim().split(/\s+/)) {
    const [topic, partitions] = spec.split(':');
    out.set(topic, Number(partitions));
  }
  return out;
}

/** problems of a topic list against pipeline/bus/bus.ts TOPICS and the correlator count */
export function topicProblems(topics: Map<string, number>, correlators: number, where: string): string[] {
  const problems: string[] = [];
  for (const t of busTopics())
    if (!topics.has(t)) problems.push(`${where}: topic ${t} (pipeline/bus/bus.ts) is not created`);
  for (const t of topics.keys())
    if (!busTopics().includes(t)) problems.push(`${where}: topic ${t} is not one meshward uses`);
  for (const [t, n] of topics)
    if (!Number.isInteger(n) || n < 1) problems.push(`${where}: topic ${t} has ${n} partitions`);
  const calls = topics.get(TOPICS.calls) ?? 0;
  if (calls < correlators) {
    problems.push(
      `${where}: ${TOPICS.calls} has ${calls} partitions, fewer than the ${correlators} correlators sharing it`,
    );
  }
  return problems;
}

// --- optional schema packages -----------------------------------------------------------------------------------

const requireHere = createRequire(import.meta.url);

/** the package's directory, or undefined when it is not installed */
export function packageDir(name: string): string | undefined {
  try {
    return resolve(requireHere.resolve(`${name}/package.json`), '..');
  } catch {
    return undefined;
  }
}

/** true when the module can be resolved (packages whose exports hide package.json) */
export function canResolve(specifier: string): boolean {
  try {
    requireHere.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

/** a path relative to the repository, for messages */
export const shown = (p: string) => (isAbsolute(p) && p.startsWith(root) ? relative(root, p) : p);
