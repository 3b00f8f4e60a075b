import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { configProblems } from '../../sensors/envoy-wasm/config.js';
import { actionsRoutes, CLI_ENTRYPOINT, readDockerfile } from './compose-checks.js';
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
  receiverProblems,
  repoPath,
  roleFiles,
  roleListen,
  tempDir,
  topicProblems,
} from './deploy-helpers.js';
import { execForm, lastOf, stage } from './dockerfile.js';

/**
 * Cross-checks of deploy/k8s against the code the pods run: container args through the real CLI, the ConfigMap's
 * config through the real loader, probes against the listen ports and the real servers' routes, Services, PDBs and
 * the Ingress against the pods they select, secret keys against the readers, the Istio WasmPlugin against the
 * collector Service.
 */

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface Manifest {
  file: string;
  objects: K8sObject[];
}

interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface Probe {
  httpGet?: { path: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: unknown;
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  emptyDir?: unknown;
}
interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'Job', 'DaemonSet']);

/** the manifests a kustomization lists (directories recurse), in order */
export function readKustomization(dir: string): Manifest[] {
  const file = join(dir, 'kustomization.yaml');
  const [k] = parseYamlDocuments(readFileSync(file, 'utf8'), file) as {
    resources?: string[];
    patches?: { path?: string }[];
  }[];
  const out: Manifest[] = [];
  for (const r of k.resources ?? []) {
    const p = resolve(dir, r);
    if (existsSync(join(p, 'kustomization.yaml'))) out.push(...readKustomization(p));
    else
      out.push({
        file: p,
        objects: existsSync(p) ? (parseYamlDocuments(readFileSync(p, 'utf8'), p) as K8sObject[]) : [],
      });
  }
  return out;
}

/** strategic-merge patches of a kustomization applied the way they matter here (Secret and ConfigMap data) */
export function applyPatches(dir: string, manifests: Manifest[]): K8sObject[] {
  const objects = manifests.flatMap((m) => m.objects).map((o) => structuredClone(o));
  const [k] = parseYamlDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'), dir) as {
    patches?: { path?: string }[];
  }[];
  for (const patch of k.patches ?? []) {
    if (!patch.path) continue;
    for (const p of parseYamlDocuments(readFileSync(resolve(dir, patch.path), 'utf8'), patch.path) as K8sObject[]) {
      const target = objects.find((o) => o.kind === p.kind && o.metadata.name === p.metadata.name);
      if (!target) throw new Error(`${patch.path}: patches ${p.kind}/${p.metadata.name}, which the base does not have`);
      for (const field of ['data', 'stringData']) {
        if (isRecord(p[field])) target[field] = { ...(isRecord(target[field]) ? target[field] : {}), ...p[field] };
      }
    }
  }
  return objects;
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** file content behind a path inside a container, through configMap and secret volumes */
function mountedContent(
  objects: K8sObject[],
  pod: PodSpec,
  c: Container,
  path: string,
): { text: string; from: 'ConfigMap' | 'Secret' } | undefined {
  for (const m of c.volumeMounts ?? []) {
    const prefix = `${m.mountPath.replace(/\/$/, '')}/`;
    if (!path.startsWith(prefix)) continue;
    const rel = path.slice(prefix.length);
    const v = pod.volumes?.find((x) => x.name === m.name);
    const ref = v?.configMap ?? v?.secret;
    if (!v || !ref) continue;
    const key = ref.items ? ref.items.find((i) => i.path === rel)?.key : rel;
    const kind = v.configMap ? 'ConfigMap' : 'Secret';
    const name = v.configMap?.name ?? v.secret?.secretName;
    const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!obj || !key) return undefined;
    const data = { ...(obj.data as Record<string, string> | undefined) };
    if (kind === 'Secret')
      for (const [k, b64] of Object.entries(data)) data[k] = Buffer.from(b64, 'base64').toString('utf8');
    Object.assign(data, obj.stringData as Record<string, string> | undefined);
    return key in data ? { text: data[key], from: kind } : undefined;
  }
  return undefined;
}

function writeTemp(name: string, text: string): string {
  const file = join(tempDir('mw-k8s-'), posix.basename(name));
  writeFileSync(file, text);
  return file;
}

const memoryMi = (q: string | undefined): number | undefined => {
  const m = q ? /^(\d+(?:\.\d+)?)(Mi|Gi)$/.exec(q) : null;
  return m ? Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1) : undefined;
};

export interface K8sCheckOptions {
  /** base manifests carry placeholders that the readers must refuse; an overlay with real values must be accepted */
  secrets: 'placeholders' | 'real';
  pendingCommands?: string[];
}

interface RolePod {
  workload: Workload;
  container: Container;
  role: Role;
  cli: CliInvocation;
  groupId: string;
  listenPort?: number;
}

export async function checkK8s(objects: K8sObject[], opts: K8sCheckOptions): Promise<string[]> {
  const problems: string[] = [];
  const df = readDockerfile();
  const runtime = stage(df, 'runtime');
  const imageEntrypoint = execForm(lastOf(runtime, 'ENTRYPOINT') ?? '[]') ?? [];
  const imageUid = lastOf(runtime, 'USER') === 'node' ? 1000 : undefined;
  const rolePods: RolePod[] = [];
  const id = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

  for (const o of objects) {
    if (o.kind !== 'Namespace' && o.metadata.namespace !== undefined && o.metadata.namespace !== 'meshward') {
      problems.push(`${id(o)}: namespace ${o.metadata.namespace}, not meshward`);
    }
  }

  for (const w of objects.filter((o) => WORKLOADS.has(o.kind)) as Workload[]) {
    const pod = w.spec.template.spec;
    if (w.kind !== 'Job' && !selects(w.spec.selector?.matchLabels, w.spec.template.metadata?.labels)) {
      problems.push(`${id(w)}: its selector does not match its pod labels`);
    }
    for (const c of pod.containers) {
      const where = `${id(w)} ${c.name}`;
      if (
        !c.resources?.requests?.cpu ||
        !c.resources.requests.memory ||
        !c.resources.limits?.cpu ||
        !c.resources.limits.memory
      ) {
        problems.push(`${where}: needs cpu and memory requests and limits`);
      }
      if (!c.image?.startsWith('meshward:')) continue;

      // runs the meshward CLI through the image's entrypoint
      if (c.command && c.command.join(' ') !== imageEntrypoint.join(' ')) {
        problems.push(`${where}: command replaces the image entrypoint (${CLI_ENTRYPOINT.join(' ')}); use args`);
        continue;
      }
      const argv = c.args ?? [];
      let cli: CliInvocation;
      try {
        cli = await parseCli(argv);
      } catch (err) {
        if (!(opts.pendingCommands?.includes(argv[0]) && !cliCommands().includes(argv[0]))) {
          problems.push(`${where}: ${(err as Error).message}`);
        }
        continue;
      }
      if (!isRole(cli.command)) {
        problems.push(`${where}: runs meshward ${cli.command}, not a service role`);
        continue;
      }
      const role = cli.command;
      const configPath = cli.options.config;
      const configText = typeof configPath === 'string' ? mountedContent(objects, pod, c, configPath) : undefined;
      if (!configText) {
        problems.push(`${where}: config ${String(configPath)} is not a mounted ConfigMap key`);
        continue;
      }
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
      let config: ReturnType<typeof loadRoleConfig>;
      try {
        config = loadRoleConfig(writeTemp(String(configPath), configText.text), env);
      } catch (err) {
        problems.push(`${where}: ${String(configPath)}: ${(err as Error).message}`);
        continue;
      }
      if (config.collector.sensor_tokens.length > 0 || config.api.api_keys.length > 0) {
        problems.push(`${where}: the ConfigMap holds sensor tokens or API keys inline; use the Secret`);
      }

      // the files the role reads: mounted, and read as the role reads them
      for (const f of await roleFiles(role, config, cli)) {
        const content = mountedContent(objects, pod, c, f.path);
        if (!content) {
          problems.push(`${where}: ${f.key} is ${f.path}, which no ConfigMap or Secret volume provides`);
          continue;
        }
        let error: string | undefined;
        try {
          await f.read(writeTemp(f.path, content.text));
        } catch (err) {
          error = (err as Error).message;
        }
        if (content.from === 'Secret' && opts.secrets === 'placeholders') {
          if (!error)
            problems.push(`${where}: ${f.key} holds values the role accepts; the base must only carry placeholders`);
        } else if (error) problems.push(`${where}: ${f.key}: ${error}`);
      }

      // listen address, container port, probes on real routes
      const listenAddr = await roleListen(role, config).catch((err: Error) => {
        problems.push(`${where}: ${err.message}`);
        return undefined;
      });
      const listen = listenAddr ? hostPort(listenAddr) : undefined;
      const portOf = (p: number | string) =>
        typeof p === 'number' ? p : c.ports?.find((x) => x.name === p)?.containerPort;
      const probes = { readinessProbe: c.readinessProbe, livenessProbe: c.livenessProbe, startupProbe: c.startupProbe };
      if (!listen) {
        if (Object.values(probes).some((p) => p?.httpGet))
          problems.push(`${where}: the ${role} role serves no HTTP, yet has HTTP probes`);
      } else {
        if (!listensOnAllInterfaces(listen.host))
          problems.push(`${where}: listens on ${listenAddr}, unreachable from the kubelet and Services`);
        if (!c.ports?.some((p) => p.containerPort === listen.port && (p.protocol ?? 'TCP') === 'TCP')) {
          problems.push(`${where}: no containerPort ${listen.port} (the ${role} role listens there)`);
        }
        if (!c.readinessProbe?.httpGet || !c.livenessProbe)
          problems.push(`${where}: needs an HTTP readiness probe and a liveness probe`);
        if (c.readinessProbe?.httpGet && c.readinessProbe.httpGet.path !== '/healthz') {
          problems.push(
            `${where}: readiness should be /healthz (it reports Kafka and Redis), not ${c.readinessProbe.httpGet.path}`,
          );
        }
        for (const [kind, p] of Object.entries(probes)) {
          if (!p?.httpGet) continue;
          const port = portOf(p.httpGet.port);
          if (port !== listen.port)
            problems.push(
              `${where}: ${kind} targets port ${String(p.httpGet.port)}, the ${role} role listens on ${listen.port}`,
            );
          const status = await probeStatus(role, p.httpGet.path);
          if (status !== 200)
            problems.push(`${where}: ${kind} path ${p.httpGet.path} answers ${status} on the ${role} server`);
        }
      }
      // the receivers the config enables are valid and have their ports
      if (role === 'collector') for (const p of await receiverProblems(config)) problems.push(`${where}: ${p}`);
      const syslog = isRecord(config.receivers?.syslog)
        ? (config.receivers.syslog as { listen_udp?: string })
        : undefined;
      const udp = role === 'collector' && syslog?.listen_udp ? hostPort(syslog.listen_udp) : undefined;
      if (udp && !c.ports?.some((p) => p.containerPort === udp.port && p.protocol === 'UDP')) {
        problems.push(`${where}: no UDP containerPort ${udp.port} for receivers.syslog`);
      }

      // hardening that the image allows: non-root as the image's user, read-only root with a writable /tmp
      if (
        !pod.securityContext?.runAsNonRoot ||
        (imageUid !== undefined && pod.securityContext.runAsUser !== imageUid)
      ) {
        problems.push(`${where}: should run as non-root uid ${imageUid} (the image's node user)`);
      }
      if (c.securityContext?.readOnlyRootFilesystem && !(c.volumeMounts ?? []).some((m) => m.mountPath === '/tmp')) {
        problems.push(`${where}: read-only root filesystem without a writable /tmp`);
      }
      const heap = /--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1];
      const limit = memoryMi(c.resources?.limits?.memory);
      if (heap && limit && Number(heap) >= limit * 0.9)
        problems.push(`${where}: heap ${heap} MiB leaves no room under the ${limit} MiB limit`);

      rolePods.push({
        workload: w,
        container: c,
        role,
        cli,
        groupId: config.correlator.group_id,
        listenPort: listen?.port,
      });
    }
  }

  const byRole = (r: Role) => rolePods.filter((p) => p.role === r);
  for (const r of ['collector', 'api', 'actions'] as const) {
    if (byRole(r).length === 0 && !opts.pendingCommands?.includes(r)) problems.push(`no workload runs meshward ${r}`);
  }
  const correlators = byRole('correlator');
  const correlatorReplicas = correlators.reduce((n, p) => n + (p.workload.spec.replicas ?? 1), 0);
  if (correlatorReplicas !== 2)
    problems.push(`${correlatorReplicas} correlator replicas; the deployment runs 2 in one group`);
  if (new Set(correlators.map((c) => c.groupId)).size > 1)
    problems.push('correlators are in different consumer groups');
  for (const a of byRole('api')) {
    if (a.cli.options.actions !== false && byRole('actions').length > 0) {
      problems.push(`${id(a.workload)}: runs the policy engine as well as meshward-actions (pass --no-actions)`);
    }
  }

  // Services select pods and name ports they have
  const workloads = objects.filter((o) => WORKLOADS.has(o.kind) && o.kind !== 'Job') as Workload[];
  const selected = (selector: Record<string, string> | undefined) =>
    workloads.filter((w) => selects(selector, w.spec.template.metadata?.labels));
  const services = objects.filter((o) => o.kind === 'Service') as (K8sObject & {
    spec: {
      selector?: Record<string, string>;
      ports: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
    };
  })[];
  for (const s of services) {
    const targets = selected(s.spec.selector);
    if (targets.length === 0) {
      problems.push(`${id(s)}: selects no pods`);
      continue;
    }
    for (const p of s.spec.ports) {
      const target = p.targetPort ?? p.port;
      const ok = targets.every((w) =>
        w.spec.template.spec.containers.some((c) =>
          (c.ports ?? []).some(
            (cp) =>
              (typeof target === 'number' ? cp.containerPort === target : cp.name === target) &&
              (cp.protocol ?? 'TCP') === (p.protocol ?? 'TCP'),
          ),
        ),
      );
      if (!ok)
        problems.push(
          `${id(s)}: port ${p.name ?? p.port} targets ${String(target)}/${p.protocol ?? 'TCP'}, which its pods do not expose`,
        );
    }
  }
  const serviceOfRole = (r: Role) =>
    services.find((s) => byRole(r).some((p) => selects(s.spec.selector, p.workload.spec.template.metadata?.labels)));

  // PDBs: every scaled-out role has one, none blocks a drain
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget') as (K8sObject & {
    spec: {
      minAvailable?: number | string;
      maxUnavailable?: number | string;
      selector?: { matchLabels?: Record<string, string> };
    };
  })[];
  for (const pdb of pdbs) {
    const targets = selected(pdb.spec.selector?.matchLabels);
    if (targets.length === 0) problems.push(`${id(pdb)}: selects no pods`);
    for (const w of targets) {
      const replicas = w.spec.replicas ?? 1;
      if (typeof pdb.spec.minAvailable === 'number' && pdb.spec.minAvailable >= replicas) {
        problems.push(
          `${id(pdb)}: minAvailable ${pdb.spec.minAvailable} with ${replicas} replicas of ${id(w)} blocks every drain`,
        );
      }
    }
  }
  for (const p of rolePods) {
    if (
      (p.workload.spec.replicas ?? 1) >= 2 &&
      !pdbs.some((b) => selects(b.spec.selector?.matchLabels, p.workload.spec.template.metadata?.labels))
    ) {
      problems.push(`${id(p.workload)}: ${p.workload.spec.replicas} replicas without a PodDisruptionBudget`);
    }
  }

  // the Ingress: the console's origin, decisions API to actions, the rest to api
  const ingress = objects.find((o) => o.kind === 'Ingress') as
    | (K8sObject & {
        spec: {
          rules: {
            http: {
              paths: {
                path: string;
                backend: { service: { name: string; port: { name?: string; number?: number } } };
              }[];
            };
          }[];
        };
      })
    | undefined;
  if (!ingress) problems.push('no Ingress for the console');
  else {
    const paths = ingress.spec.rules.flatMap((r) => r.http.paths);
    for (const p of paths) {
      const s = services.find((x) => x.metadata.name === p.backend.service.name);
      const port = p.backend.service.port;
      if (!s?.spec.ports.some((sp) => (port.name ? sp.name === port.name : sp.port === port.number))) {
        problems.push(
          `${id(ingress)}: ${p.path} goes to ${p.backend.service.name}:${port.name ?? port.number}, which does not exist`,
        );
      }
    }
    const target = (path: string) =>
      paths.filter((p) => path.startsWith(p.path)).sort((a, b) => b.path.length - a.path.length)[0]?.backend.service
        .name;
    const actionsSvc = serviceOfRole('actions')?.metadata.name;
    const apiSvc = serviceOfRole('api')?.metadata.name;
    if (actionsSvc) {
      for (const route of actionsRoutes()) {
        if (target(route) !== actionsSvc)
          problems.push(`${id(ingress)}: ${route} (decisions API) does not go to ${actionsSvc}`);
      }
    }
    for (const route of ['/', '/v1/alerts', '/v1/me', '/docs']) {
      if (!apiSvc || target(route) !== apiSvc) problems.push(`${id(ingress)}: ${route} does not go to the api Service`);
    }
  }

  // topics: created with enough partitions
  const job = objects.find((o) => o.kind === 'Job' && JSON.stringify(o).includes('kafka-topics.sh')) as
    | Workload
    | undefined;
  const topics = job?.spec.template.spec.containers[0].env?.find((e) => e.name === 'TOPICS')?.value;
  if (!job || !topics) problems.push('no Job creates the Kafka topics (env TOPICS)');
  else problems.push(...topicProblems(parseTopicList(topics), correlatorReplicas, id(job)));

  // the base Secret carries placeholders only
  for (const s of objects.filter((o) => o.kind === 'Secret')) {
    const values = Object.values({ ...(s.stringData as object), ...(s.data as object) }) as string[];
    if (opts.secrets === 'placeholders' && values.some((v) => !/REPLACE/.test(v)))
      problems.push(`${id(s)}: a value is not a REPLACE placeholder`);
  }
  return problems;
}

/** deploy/istio/wasm-plugin.yaml: its sensor reaches the collector Service through the sidecar's outbound cluster */
export function checkWasmPlugin(plugin: K8sObject, objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const cfg = (plugin.spec as { pluginConfig: Record<string, unknown> }).pluginConfig;
  for (const p of configProblems(cfg)) problems.push(`WasmPlugin pluginConfig: ${p}`);
  const m = /^outbound\|(\d+)\|\|([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(String(cfg.collector_cluster));
  if (!m)
    return [
      ...problems,
      `WasmPlugin: collector_cluster ${String(cfg.collector_cluster)} is not an outbound service cluster`,
    ];
  const [, port, name, namespace] = m;
  const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === name) as
    | (K8sObject & {
        spec: { ports: { name?: string; port: number; appProtocol?: string }[]; selector?: Record<string, string> };
      })
    | undefined;
  if (!svc || (svc.metadata.namespace ?? 'meshward') !== namespace) {
    problems.push(`WasmPlugin: collector_cluster names Service ${name}.${namespace}, which deploy/k8s does not define`);
    return problems;
  }
  const sp = svc.spec.ports.find((p) => p.port === Number(port));
  if (!sp) problems.push(`WasmPlugin: Service ${name} has no port ${port}`);
  else if (!(sp.name?.startsWith('http') || sp.appProtocol === 'http'))
    problems.push(`WasmPlugin: Service ${name} port ${port} is not declared HTTP for Istio`);
  if (String(cfg.collector_authority).split(':')[0] !== `${name}.${namespace}.svc.cluster.local`) {
    problems.push(`WasmPlugin: collector_authority ${String(cfg.collector_authority)} is not the Service's host`);
  }
  if (svc.spec.selector?.['app.kubernetes.io/component'] !== 'collector')
    problems.push(`WasmPlugin: Service ${name} does not select the collector`);
  return problems;
}

/** every YAML file of a kustomization directory is listed in it (nothing is silently left out) */
export function unlistedFiles(dir: string): string[] {
  const [k] = parseYamlDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'), dir) as {
    resources?: string[];
    patches?: { path?: string }[];
  }[];
  const listed = new Set(
    [...(k.resources ?? []), ...(k.patches ?? []).map((p) => p.path ?? '')].map((r) => resolve(dir, r)),
  );
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .map((f) => resolve(dir, f))
    .filter((f) => !listed.has(f))
    .concat([...listed].filter((f) => !existsSync(f)));
}

export const K8S_DIR = repoPath('deploy/k8s');
export const K8S_DEV_DIR = repoPath('deploy/k8s/dev');
