import { existsSync, readFileSync, statSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { configProblems } from '../../sensors/envoy-wasm/config.js';
import {
  type CliInvocation,
  cliCommands,
  hostPort,
  isRecord,
  isRole,
  listensOnAllInterfaces,
  loadRoleConfig,
  parseCli,
  parseTopicList,
  parseYamlDocuments,
  probeStatus,
  type Role,
  readRepoFile,
  receiverProblems,
  repoPath,
  roleFiles,
  roleListen,
  root,
  sensorTokensOf,
  shown,
  topicProblems,
} from './deploy-helpers.js';
import { copies, type Dockerfile, destinationOf, execForm, lastOf, parseDockerfile, stage } from './dockerfile.js';

/**
 * Cross-checks of docker-compose.yml against the code it runs: CLI subcommands and flags, configs through the real
 * loader, listen ports against published ports and health checks, health paths against the real servers, mounted
 * files against the repository, secrets against the readers, and the addresses each service uses to reach another.
 */

export type Compose = Record<string, unknown> & { services: Record<string, ComposeService> };

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, unknown> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  secrets?: (string | { source: string; target?: string })[];
  ports?: (string | number | { target?: number; published?: string | number; host_ip?: string; protocol?: string })[];
  healthcheck?: { test?: string | string[] };
  depends_on?: string[] | Record<string, { condition?: string }>;
  networks?: string[] | Record<string, { aliases?: string[] } | null>;
  [key: string]: unknown;
}

// --- reading -------------------------------------------------------------------------------------------------------

/** Compose variable interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, … */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$(\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, _all, braced, bare) => {
    if (whole === '$$') return '$';
    if (bare) return env[bare] ?? '';
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?|:\+|\+)(.*))?$/s.exec(braced as string);
    if (!m) throw new Error(`invalid interpolation ${whole}`);
    const [, name, op, arg = ''] = m;
    const v = env[name];
    switch (op) {
      case ':-':
        return v ? v : arg;
      case '-':
        return v ?? arg;
      case ':?':
      case '?':
        if (op === ':?' ? !v : v === undefined) throw new Error(`${name}: ${arg || 'required'}`);
        return v as string;
      case ':+':
        return v ? arg : '';
      case '+':
        return v !== undefined ? arg : '';
      default:
        return v ?? '';
    }
  });
}

function interpolateAll(v: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof v === 'string') return interpolate(v, env);
  if (Array.isArray(v)) return v.map((x) => interpolateAll(x, env));
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateAll(x, env)]));
  return v;
}

/** the compose document as Compose sees it: YAML with merge keys, then interpolation */
export function readCompose(text: string, env: Record<string, string | undefined> = {}): Compose {
  const [doc] = parseYamlDocuments(text, 'docker-compose.yml');
  if (!isRecord(doc) || !isRecord(doc.services)) throw new Error('docker-compose.yml: no services');
  return interpolateAll(doc, env) as Compose;
}

const asList = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : v.split(/\s+/).filter(Boolean);

export function environmentOf(s: ComposeService): Record<string, string> {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(
      s.environment.map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** the names a service is reachable by on the default network */
function namesOf(name: string, s: ComposeService): string[] {
  const names = [name];
  if (isRecord(s.networks)) {
    for (const n of Object.values(s.networks)) if (isRecord(n) && Array.isArray(n.aliases)) names.push(...n.aliases);
  }
  return names;
}

export function serviceByHost(compose: Compose, host: string): string | undefined {
  return Object.entries(compose.services).find(([n, s]) => namesOf(n, s).includes(host))?.[0];
}

/** host path (absolute) of a path inside the container, through bind mounts and secrets */
export function hostPathOf(compose: Compose, s: ComposeService, containerPath: string): string | undefined {
  for (const v of s.volumes ?? []) {
    let source: string | undefined;
    let target: string | undefined;
    if (typeof v === 'string') {
      const parts = v.split(':');
      if (parts.length < 2) continue;
      [source, target] = parts;
    } else if (v.type === 'bind') {
      source = v.source;
      target = v.target;
    }
    if (!source || !target || !/^[./~]/.test(source)) continue;
    const host = resolve(root, source);
    if (containerPath === target) return host;
    if (containerPath.startsWith(`${target.replace(/\/$/, '')}/`))
      return resolve(host, containerPath.slice(target.length + 1));
  }
  const top = isRecord(compose.secrets) ? compose.secrets : {};
  for (const ref of s.secrets ?? []) {
    const source = typeof ref === 'string' ? ref : ref.source;
    const target = typeof ref === 'string' ? ref : (ref.target ?? ref.source);
    const path = target.startsWith('/') ? target : `/run/secrets/${target}`;
    const def = top[source];
    if (path === containerPath && isRecord(def) && typeof def.file === 'string') return resolve(root, def.file);
  }
  return undefined;
}

/** first line of a single-value secret file that is not blank or a # comment */
export function singleSecret(file: string): string {
  return (
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('#')) ?? ''
  );
}

interface Published {
  hostIp?: string;
  published?: number;
  target: number;
  protocol: string;
}

function publishedPorts(s: ComposeService): Published[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'number') return { target: p, protocol: 'tcp' };
    if (typeof p === 'string') {
      const [spec, protocol = 'tcp'] = p.split('/');
      const parts = spec.split(':');
      const target = Number(parts.pop());
      const published = parts.length ? Number(parts.pop()) : undefined;
      return { hostIp: parts.pop(), published, target, protocol };
    }
    return {
      hostIp: p.host_ip,
      published: p.published === undefined ? undefined : Number(p.published),
      target: Number(p.target),
      protocol: p.protocol ?? 'tcp',
    };
  });
}

/** the URL a `fetch('http://…')`-style health check calls */
function healthcheckUrl(s: ComposeService): URL | undefined {
  const test = s.healthcheck?.test;
  const text = Array.isArray(test) ? test.join(' ') : (test ?? '');
  const m = /https?:\/\/[^\s'"`)]+/.exec(text);
  return m ? new URL(m[0]) : undefined;
}

// --- images -------------------------------------------------------------------------------------------------------

export const MESHWARD_DOCKERFILE = 'deploy/docker/Dockerfile';
export const CLI_ENTRYPOINT = ['node', 'dist/pipeline/cli/main.js'];

export function readDockerfile(): Dockerfile {
  return parseDockerfile(readRepoFile(MESHWARD_DOCKERFILE));
}

/** the Dockerfile stage a service is built from (undefined for pulled images) */
function builtStage(df: Dockerfile, s: ComposeService): string | undefined {
  if (!isRecord(s.build)) return undefined;
  const b = s.build as { dockerfile?: string; context?: string; target?: string };
  if (posix.normalize(b.dockerfile ?? 'Dockerfile') !== MESHWARD_DOCKERFILE) return undefined;
  return b.target ?? df.stages.at(-1)?.name;
}

/** files the image has, by absolute container path */
function imageFiles(df: Dockerfile, stageName: string): Set<string> {
  const st = stage(df, stageName);
  const out = new Set<string>();
  for (const c of copies(st)) for (const src of c.sources) out.add(destinationOf(st, c, src));
  return out;
}

interface Invocation {
  /** the meshward CLI invocation, when the container runs the CLI */
  cli?: CliInvocation;
  role?: Role;
  argv: string[];
}

async function invocationOf(
  df: Dockerfile,
  name: string,
  s: ComposeService,
  problems: string[],
  pending: string[],
  pendingServices: Map<string, string>,
): Promise<Invocation | undefined> {
  const stageName = builtStage(df, s);
  if (stageName !== 'runtime') return undefined;
  const st = stage(df, 'runtime');
  const imageEntrypoint = execForm(lastOf(st, 'ENTRYPOINT') ?? '[]') ?? [];
  const entrypoint = asList(s.entrypoint) ?? imageEntrypoint;
  const command = asList(s.command) ?? (s.entrypoint === undefined ? (execForm(lastOf(st, 'CMD') ?? '[]') ?? []) : []);
  const argv = [...entrypoint, ...command];
  if (entrypoint.join(' ') === CLI_ENTRYPOINT.join(' ')) {
    try {
      const cli = await parseCli(command);
      return { cli, role: isRole(cli.command) ? cli.command : undefined, argv };
    } catch (err) {
      // a subcommand still being written elsewhere: declared here, checked once it exists
      if (pending.includes(command[0]) && !cliCommands().includes(command[0])) {
        pendingServices.set(name, command[0]);
        return { argv };
      }
      problems.push(`${name}: ${(err as Error).message}`);
      return { argv };
    }
  }
  if (entrypoint[0] === 'node' && entrypoint[1]) {
    const inImage = posix.join(lastOf(st, 'WORKDIR') ?? '/', entrypoint[1]);
    if (!imageFiles(df, 'runtime').has(inImage)) {
      problems.push(`${name}: runs ${entrypoint[1]}, which the runtime image does not contain`);
    } else if (!existsSync(repoPath(entrypoint[1]))) {
      problems.push(`${name}: runs ${entrypoint[1]}, which does not exist in the repository`);
    }
    return { argv };
  }
  problems.push(
    `${name}: runs "${argv.join(' ')}", neither the meshward CLI (${CLI_ENTRYPOINT.join(' ')}) nor a script`,
  );
  return { argv };
}

// --- the checks -----------------------------------------------------------------------------------------------------

interface RoleService {
  name: string;
  service: ComposeService;
  role: Role;
  cli: CliInvocation;
  configFile: string;
  config: Awaited<ReturnType<typeof loadRoleConfig>>;
  listen?: { host: string; port: number };
}

export interface ComposeCheckOptions {
  /** the CLI subcommands still being written elsewhere: declared in compose, accepted while absent from the CLI */
  pendingCommands?: string[];
}

/** every problem found in the compose document; [] when it holds together */
export async function checkCompose(compose: Compose, opts: ComposeCheckOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  const df = readDockerfile();
  const services = compose.services;
  const roles: RoleService[] = [];
  /** services running a pending subcommand → that subcommand */
  const pendingServices = new Map<string, string>();

  // files: bind mounts and secrets exist
  for (const [name, s] of Object.entries(services)) {
    for (const v of s.volumes ?? []) {
      const source = typeof v === 'string' ? v.split(':')[0] : v.type === 'bind' ? v.source : undefined;
      if (source && /^[./~]/.test(source) && !existsSync(resolve(root, source))) {
        problems.push(`${name}: mounts ${shown(resolve(root, source))}, which does not exist`);
      }
    }
    for (const ref of s.secrets ?? []) {
      const source = typeof ref === 'string' ? ref : ref.source;
      if (!isRecord(compose.secrets) || !isRecord(compose.secrets[source])) {
        problems.push(`${name}: uses secret ${source}, which is not declared under secrets:`);
      }
    }
    for (const dep of Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {})) {
      if (!services[dep]) problems.push(`${name}: depends on ${dep}, which is not a service`);
      const condition = isRecord(s.depends_on)
        ? (s.depends_on as Record<string, { condition?: string }>)[dep]?.condition
        : undefined;
      if (condition === 'service_healthy' && services[dep] && !services[dep].healthcheck) {
        problems.push(`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
    }
    for (const p of publishedPorts(s)) {
      if (p.hostIp !== '127.0.0.1') {
        problems.push(
          `${name}: publishes ${p.target} on ${p.hostIp ?? 'every interface'}; bind it to 127.0.0.1 (demo secrets are public)`,
        );
      }
    }
    for (const [k, v] of Object.entries(environmentOf(s))) {
      if (/TOKEN|SECRET|PASSWORD|(^|_)KEY($|_)/.test(k) && !k.endsWith('_FILE') && v) {
        problems.push(`${name}: ${k} is set inline; pass secrets as files (compose secrets)`);
      }
    }
  }
  for (const [secret, def] of Object.entries(isRecord(compose.secrets) ? compose.secrets : {})) {
    const file = isRecord(def) && typeof def.file === 'string' ? resolve(root, def.file) : undefined;
    if (!file) problems.push(`secret ${secret}: only file secrets are used here`);
    else if (!existsSync(file)) problems.push(`secret ${secret}: ${shown(file)} does not exist`);
    else if (file.startsWith(repoPath('deploy'))) {
      // committed secrets must say they are demo values
      const text = readFileSync(file, 'utf8');
      if (!/DEMO/.test(text))
        problems.push(`secret ${secret}: ${shown(file)} is committed but not marked as a DEMO value`);
      for (const line of text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))) {
        if (!/demo/.test(line)) problems.push(`secret ${secret}: ${shown(file)} has a value not marked "demo"`);
      }
    }
  }

  // meshward containers: real subcommands, configs through the real loader, ports, health checks, files
  for (const [name, s] of Object.entries(services)) {
    const inv = await invocationOf(df, name, s, problems, opts.pendingCommands ?? [], pendingServices);
    if (!inv?.cli) continue;
    const { cli } = inv;
    if (!isRole(cli.command)) {
      problems.push(
        `${name}: runs "meshward ${cli.command}", which is not a service role (${['collector', 'correlator', 'api', 'actions'].join(', ')})`,
      );
      continue;
    }
    const role = cli.command;
    const configPath = cli.options.config;
    if (typeof configPath !== 'string') {
      problems.push(`${name}: meshward ${role} is given no -c <config>`);
      continue;
    }
    const configFile = hostPathOf(compose, s, configPath);
    if (!configFile || !existsSync(configFile)) {
      problems.push(`${name}: config ${configPath} is not mounted from a file of the repository`);
      continue;
    }
    let config: RoleService['config'];
    try {
      config = loadRoleConfig(configFile, environmentOf(s));
    } catch (err) {
      problems.push(`${name}: ${shown(configFile)}: ${(err as Error).message}`);
      continue;
    }
    if (config.collector.sensor_tokens.length > 0 || config.api.api_keys.length > 0) {
      problems.push(`${name}: ${shown(configFile)} holds sensor tokens or API keys inline; use the *_file keys`);
    }
    let listenAddr: string | undefined;
    try {
      listenAddr = await roleListen(role, config);
    } catch (err) {
      problems.push(`${name}: ${shown(configFile)}: ${(err as Error).message}`);
    }
    const listen = listenAddr ? hostPort(listenAddr) : undefined;
    roles.push({ name, service: s, role, cli, configFile, config, listen });
    if (role === 'collector')
      for (const p of await receiverProblems(config)) problems.push(`${name}: ${shown(configFile)}: ${p}`);

    for (const f of await roleFiles(role, config, cli).catch((err: Error) => {
      problems.push(`${name}: ${err.message}`);
      return [];
    })) {
      const host = hostPathOf(compose, s, f.path);
      if (!host || !existsSync(host)) {
        problems.push(`${name}: ${f.key} is ${f.path}, which is not mounted into the container`);
        continue;
      }
      try {
        await f.read(host);
      } catch (err) {
        problems.push(`${name}: ${f.key} ${shown(host)}: ${(err as Error).message}`);
      }
    }

    const published = publishedPorts(s);
    const health = healthcheckUrl(s);
    if (!listen) {
      if (published.length > 0) problems.push(`${name}: the ${role} role serves nothing, yet ports are published`);
      if (health) problems.push(`${name}: the ${role} role serves no HTTP, yet its healthcheck calls ${health.href}`);
      continue;
    }
    if (!listensOnAllInterfaces(listen.host)) {
      problems.push(`${name}: listens on ${listenAddr}, unreachable from other containers (use 0.0.0.0)`);
    }
    for (const p of published) {
      if (p.target !== listen.port)
        problems.push(`${name}: publishes container port ${p.target}, but ${role} listens on ${listen.port}`);
    }
    if (!health) {
      problems.push(`${name}: no HTTP healthcheck (the ${role} role serves /healthz on ${listen.port})`);
    } else {
      if (Number(health.port || 80) !== listen.port) {
        problems.push(`${name}: healthcheck calls port ${health.port}, but ${role} listens on ${listen.port}`);
      }
      const status = await probeStatus(role, health.pathname);
      if (status !== 200)
        problems.push(`${name}: healthcheck path ${health.pathname} answers ${status} on the ${role} server`);
    }
  }

  const byRole = (r: Role) => roles.filter((x) => x.role === r);
  for (const r of ['collector', 'api', 'actions'] as const) {
    if (byRole(r).length === 0 && !opts.pendingCommands?.includes(r)) problems.push(`no service runs meshward ${r}`);
  }
  const correlators = byRole('correlator');
  if (correlators.length < 2)
    problems.push(`${correlators.length} correlator services; the deployment runs 2 in one group`);
  const groups = new Set(correlators.map((c) => c.config.correlator.group_id));
  if (groups.size > 1) problems.push(`correlators are in different consumer groups: ${[...groups].join(', ')}`);
  const apiRunsEngine = byRole('api').some((a) => a.cli.options.actions !== false && a.config.actions);
  if (apiRunsEngine && byRole('actions').length > 0) {
    problems.push('the api service runs the policy engine as well as the actions service (pass --no-actions to api)');
  }

  // Kafka and Redis: the addresses in the configs reach the services that run them
  for (const r of roles) {
    if (r.config.bus.kind !== 'kafka' || !r.config.bus.kafka) {
      problems.push(`${r.name}: the bus is ${r.config.bus.kind}, not kafka`);
    } else {
      for (const broker of r.config.bus.kafka.brokers) {
        const hp = hostPort(broker);
        const svc = hp && serviceByHost(compose, hp.host);
        const s = svc ? services[svc] : undefined;
        if (!s || !String(s.image ?? '').startsWith('apache/kafka')) {
          problems.push(`${r.name}: Kafka broker ${broker} is not a Kafka service`);
          continue;
        }
        const env = environmentOf(s);
        if (!(env.KAFKA_ADVERTISED_LISTENERS ?? '').split(',').some((l) => l.endsWith(`//${broker}`))) {
          problems.push(`${r.name}: Kafka broker ${broker} is not among ${svc}'s advertised listeners`);
        }
        if (!(env.KAFKA_PROCESS_ROLES ?? '').includes('controller') || 'KAFKA_ZOOKEEPER_CONNECT' in env) {
          problems.push(`${svc}: not a KRaft node (KAFKA_PROCESS_ROLES must include controller; no ZooKeeper)`);
        }
      }
    }
    if (r.config.store.kind !== 'redis' || !r.config.store.url) {
      problems.push(`${r.name}: the store is ${r.config.store.kind}, not redis`);
    } else {
      const url = new URL(r.config.store.url);
      const svc = serviceByHost(compose, url.hostname);
      if (!svc || !String(services[svc].image ?? '').startsWith('redis:') || Number(url.port || 6379) !== 6379) {
        problems.push(`${r.name}: Redis ${r.config.store.url} is not the redis service`);
      }
    }
  }

  // topics: created up front with enough partitions for the correlators
  const topicsScript = Object.entries(services).find(([, s]) =>
    (asList(s.entrypoint) ?? []).some((a) => a.endsWith('kafka-topics.sh')),
  );
  if (!topicsScript) problems.push('no service creates the Kafka topics (deploy/compose/kafka-topics.sh)');
  else {
    const [name, s] = topicsScript;
    const script = hostPathOf(
      compose,
      s,
      (asList(s.entrypoint) ?? []).find((a) => a.endsWith('kafka-topics.sh')) ?? '',
    );
    const list =
      script && existsSync(script) ? /^TOPICS="([^"]*)"/m.exec(readFileSync(script, 'utf8'))?.[1] : undefined;
    if (!list) problems.push(`${name}: cannot read TOPICS from its script`);
    else problems.push(...topicProblems(parseTopicList(list), correlators.length, name));
    for (const r of roles) {
      const deps = r.service.depends_on;
      if (
        !isRecord(deps) ||
        (deps as Record<string, { condition?: string }>)[name]?.condition !== 'service_completed_successfully'
      ) {
        problems.push(`${r.name}: does not wait for ${name} to complete (topics would be auto-created)`);
      }
    }
  }

  const collector = byRole('collector')[0];
  let collectorTokens: string[] = [];
  try {
    const file = collector?.config.collector.sensor_tokens_file;
    if (collector)
      collectorTokens = sensorTokensOf(
        collector.config,
        file ? hostPathOf(compose, collector.service, file) : undefined,
      );
  } catch {
    // reported above as the collector's sensor_tokens_file problem
  }
  const reachesCollector = (who: string, host: string, port: number) => {
    const svc = serviceByHost(compose, host);
    if (!collector || svc !== collector.name)
      problems.push(`${who}: sends to ${host}, which is not the collector service`);
    else if (collector.listen?.port !== port)
      problems.push(`${who}: sends to port ${port}, but the collector listens on ${collector.listen?.port}`);
  };

  problems.push(...checkEnvoy(compose, df, reachesCollector, collectorTokens));
  problems.push(...checkNginx(compose, collector));
  problems.push(...checkTraffic(compose, reachesCollector, collectorTokens));
  problems.push(...checkConsoleEdge(compose, roles, pendingServices));
  return problems;
}

type ReachesCollector = (who: string, host: string, port: number) => void;

function findService(compose: Compose, pred: (s: ComposeService) => boolean): [string, ComposeService] | undefined {
  return Object.entries(compose.services).find(([, s]) => pred(s));
}

/** Envoy: the sensor's cluster reaches the collector, its token is one the collector accepts, the module is there */
function checkEnvoy(compose: Compose, df: Dockerfile, reaches: ReachesCollector, tokens: string[]): string[] {
  const problems: string[] = [];
  const found = findService(
    compose,
    (s) => builtStage(df, s) === 'envoy' || String(s.image).startsWith('envoyproxy/envoy'),
  );
  if (!found) return ['no Envoy service'];
  const [name, s] = found;
  const envoyStage = builtStage(df, s);
  if (envoyStage && !stage(df, envoyStage).from.startsWith('envoyproxy/envoy')) {
    problems.push(`${name}: stage ${envoyStage} is not built on the envoyproxy/envoy image`);
  }
  const env = environmentOf(s);
  const template = hostPathOf(compose, s, env.ENVOY_CONFIG_TEMPLATE ?? '/etc/meshward/envoy.yaml');
  if (!template || template !== repoPath('deploy/envoy/envoy.yaml')) {
    problems.push(`${name}: does not mount deploy/envoy/envoy.yaml as its config template`);
    return problems;
  }
  const entry = asList(s.entrypoint) ?? [];
  const script = entry.map((a) => hostPathOf(compose, s, a)).find((p) => p?.endsWith('envoy-entrypoint.sh'));
  if (!script)
    problems.push(`${name}: does not run deploy/compose/envoy-entrypoint.sh (the secrets would stay placeholders)`);
  const [bootstrap] = parseYamlDocuments(readFileSync(template, 'utf8'), 'envoy.yaml') as EnvoyBootstrap[];
  const clusters = new Map(
    (bootstrap.static_resources?.clusters ?? []).map((c) => [
      c.name,
      c.load_assignment?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address,
    ]),
  );
  const wasm = findWasmFilter(bootstrap);
  if (!wasm) return [...problems, `${name}: envoy.yaml has no meshward Wasm filter`];
  const plugin = JSON.parse(wasm.config.configuration.value) as Record<string, unknown>;
  const sensorCluster = clusters.get(String(plugin.collector_cluster ?? 'meshward_collector'));
  if (!sensorCluster)
    problems.push(`${name}: the sensor's collector_cluster ${String(plugin.collector_cluster)} is not a cluster`);
  else reaches(`${name} (sensor)`, sensorCluster.address, sensorCluster.port_value);
  for (const [cluster, addr] of clusters) {
    if (addr && !serviceByHost(compose, addr.address))
      problems.push(`${name}: cluster ${cluster} points at ${addr.address}, not a service`);
  }
  // the module file Envoy loads is in the image
  const module = wasm.config.vm_config.code.local.filename;
  if (!envoyStage || !imageFiles(df, envoyStage).has(module))
    problems.push(`${name}: ${module} is not in the Envoy image`);
  // the token rendered in is one the collector accepts
  const tokenFile = hostPathOf(compose, s, env.SENSOR_TOKEN_FILE ?? '/run/secrets/envoy_sensor_token');
  const keyFile = hostPathOf(compose, s, env.TOKEN_HASH_KEY_FILE ?? '/run/secrets/token_hash_key');
  if (!tokenFile || !existsSync(tokenFile)) problems.push(`${name}: the sensor token file is not mounted`);
  else if (!tokens.includes(singleSecret(tokenFile)))
    problems.push(`${name}: its sensor token is not in the collector's sensor tokens`);
  if (!keyFile || !existsSync(keyFile)) problems.push(`${name}: the token hash key file is not mounted`);
  else {
    const rendered = { ...plugin, sensor_token: 'x'.repeat(16), token_hash_key: singleSecret(keyFile) };
    for (const p of configProblems(rendered)) problems.push(`${name}: sensor config: ${p}`);
  }
  return problems;
}

interface SocketAddress {
  address: string;
  port_value: number;
}
interface EnvoyBootstrap {
  static_resources?: {
    listeners?: { filter_chains?: { filters?: { typed_config?: { http_filters?: WasmFilter[] } }[] }[] }[];
    clusters?: {
      name: string;
      load_assignment?: {
        endpoints?: { lb_endpoints?: { endpoint?: { address?: { socket_address?: SocketAddress } } }[] }[];
      };
    }[];
  };
}
interface WasmFilter {
  name: string;
  typed_config: { config: { vm_config: { code: { local: { filename: string } } }; configuration: { value: string } } };
}

function findWasmFilter(b: EnvoyBootstrap): WasmFilter['typed_config'] | undefined {
  for (const l of b.static_resources?.listeners ?? []) {
    for (const fc of l.filter_chains ?? []) {
      for (const f of fc.filters ?? []) {
        const w = f.typed_config?.http_filters?.find((h) => h.name === 'envoy.filters.http.wasm');
        if (w) return w.typed_config;
      }
    }
  }
  return undefined;
}

/** nginx: the template's variables are all given, syslog reaches the collector's syslog receiver */
function checkNginx(compose: Compose, collector: RoleService | undefined): string[] {
  const problems: string[] = [];
  const found = findService(compose, (s) => 'MESHWARD_SYSLOG' in environmentOf(s));
  if (!found) return ['no nginx service logging to the collector (MESHWARD_SYSLOG)'];
  const [name, s] = found;
  const env = environmentOf(s);
  const template = hostPathOf(
    compose,
    s,
    env.MESHWARD_NGINX_TEMPLATE ?? '/etc/meshward/nginx-logs/nginx.conf.template',
  );
  if (template !== repoPath('deploy/nginx-logs/nginx.conf.template')) {
    problems.push(`${name}: does not mount deploy/nginx-logs/nginx.conf.template`);
    return problems;
  }
  const confDir = hostPathOf(compose, s, env.MESHWARD_CONF_DIR ?? '');
  if (!confDir || !existsSync(resolve(confDir, 'meshward-njs.conf'))) {
    problems.push(`${name}: MESHWARD_CONF_DIR does not hold deploy/nginx-logs (meshward-njs.conf, meshward.js)`);
  }
  const script = (asList(s.entrypoint) ?? [])
    .map((a) => hostPathOf(compose, s, a))
    .find((p) => p?.endsWith('nginx-entrypoint.sh'));
  if (!script) return [...problems, `${name}: does not run deploy/compose/nginx-entrypoint.sh`];
  const allowed = /envsubst '([^']*)'/.exec(readFileSync(script, 'utf8'))?.[1] ?? '';
  for (const v of new Set([...readFileSync(template, 'utf8').matchAll(/\$\{(MESHWARD_\w+)\}/g)].map((m) => m[1]))) {
    if (!allowed.includes(`\${${v}}`))
      problems.push(`${name}: the entrypoint does not substitute \${${v}} of the template`);
    if (v !== 'MESHWARD_TOKEN_HASH_KEY' && !env[v]) problems.push(`${name}: \${${v}} of the template is not set`);
  }
  const keyFile = hostPathOf(compose, s, env.MESHWARD_TOKEN_HASH_KEY_FILE ?? '/run/secrets/token_hash_key');
  if (!keyFile || singleSecret(keyFile).length < 16)
    problems.push(`${name}: no token hash key of 16+ characters is mounted`);
  const upstream = hostPort(env.MESHWARD_UPSTREAM ?? '');
  if (!upstream || !serviceByHost(compose, upstream.host)) problems.push(`${name}: MESHWARD_UPSTREAM is not a service`);
  const syslog = hostPort(env.MESHWARD_SYSLOG ?? '');
  if (!syslog) problems.push(`${name}: MESHWARD_SYSLOG is not host:port`);
  else {
    if (!collector || serviceByHost(compose, syslog.host) !== collector.name) {
      problems.push(`${name}: MESHWARD_SYSLOG sends to ${syslog.host}, which is not the collector service`);
    }
    const receiver = collector?.config.receivers?.syslog as { listen_udp?: string } | undefined;
    const udp = receiver?.listen_udp ? hostPort(receiver.listen_udp) : undefined;
    if (!udp) problems.push(`${name}: the collector config has no receivers.syslog.listen_udp for nginx's syslog`);
    else if (udp.port !== syslog.port)
      problems.push(`${name}: syslog goes to port ${syslog.port}, the receiver listens on ${udp.port}`);
    else if (!listensOnAllInterfaces(udp.host))
      problems.push(`${name}: the syslog receiver listens on ${udp.host} only`);
  }
  return problems;
}

/** the traffic simulator posts to the collector with a token it accepts */
function checkTraffic(compose: Compose, reaches: ReachesCollector, tokens: string[]): string[] {
  const found = findService(compose, (s) => (asList(s.entrypoint) ?? []).some((a) => a.endsWith('live-traffic.mjs')));
  if (!found) return ['no traffic simulator service (deploy/docker/live-traffic.mjs)'];
  const [name, s] = found;
  const problems: string[] = [];
  const env = environmentOf(s);
  let url: URL | undefined;
  try {
    url = new URL(env.MESHWARD_COLLECTOR_URL ?? '');
  } catch {
    problems.push(`${name}: MESHWARD_COLLECTOR_URL is not a URL`);
  }
  if (url) reaches(name, url.hostname, Number(url.port || 80));
  const tokenFile = hostPathOf(compose, s, env.MESHWARD_SENSOR_TOKEN_FILE ?? '');
  if (!tokenFile || !existsSync(tokenFile)) problems.push(`${name}: MESHWARD_SENSOR_TOKEN_FILE is not mounted`);
  else if (!tokens.includes(singleSecret(tokenFile)))
    problems.push(`${name}: its sensor token is not in the collector's sensor tokens`);
  return problems;
}

/** the console edge routes the decisions API to actions and everything else to api, on their listen ports */
function checkConsoleEdge(compose: Compose, roles: RoleService[], pending: Map<string, string>): string[] {
  const found = Object.entries(compose.services).find(([, s]) =>
    (s.volumes ?? []).some((v) => typeof v === 'string' && v.includes('console-edge.conf')),
  );
  if (!found) return ['no console edge (deploy/compose/console-edge.conf) in front of api and actions'];
  const [name, s] = found;
  const conf = hostPathOf(compose, s, '/etc/nginx/conf.d/default.conf');
  if (!conf || !statSync(conf).isFile())
    return [`${name}: console-edge.conf is not mounted as /etc/nginx/conf.d/default.conf`];
  const problems: string[] = [];
  const locations = [...readFileSync(conf, 'utf8').matchAll(/location\s+(\S+)\s*\{([^}]*)\}/g)].map((m) => ({
    prefix: m[1],
    upstream: /proxy_pass\s+http:\/\/([^;/\s]+)/.exec(m[2])?.[1] ?? '',
  }));
  const roleAt = (upstream: string) => {
    const hp = hostPort(upstream);
    const svc = hp && serviceByHost(compose, hp.host);
    if (svc && pending.has(svc)) return pending.get(svc);
    const r = roles.find((x) => x.name === svc);
    if (!hp || !r) problems.push(`${name}: proxies to ${upstream}, not a meshward API service`);
    else if (r.listen?.port !== hp.port)
      problems.push(`${name}: proxies to ${upstream}, but ${r.name} listens on ${r.listen?.port}`);
    return r?.role;
  };
  const routed = locations.map((l) => ({ ...l, role: roleAt(l.upstream) }));
  const target = (path: string) =>
    routed.filter((l) => path.startsWith(l.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0]?.role;
  for (const route of actionsRoutes()) {
    if (target(route) !== 'actions')
      problems.push(`${name}: ${route} (decisions API) is not routed to the actions service`);
  }
  for (const route of ['/', '/v1/alerts', '/v1/me', '/docs']) {
    if (target(route) !== 'api') problems.push(`${name}: ${route} is not routed to the api service`);
  }
  return problems;
}

/** the paths of the decisions API (policy-actions/engine/routes.ts), parameters cut off */
export function actionsRoutes(): string[] {
  const src = readRepoFile('policy-actions/engine/routes.ts');
  return [...new Set([...src.matchAll(/'(\/v1\/[^']*)'/g)].map((m) => m[1].replace(/\/:.*$/, '')))];
}
