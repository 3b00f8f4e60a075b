import { describe, expect, it } from 'vitest';
import { parseYamlDocuments, readRepoFile } from './deploy-helpers.js';
import {
  applyPatches,
  checkK8s,
  checkWasmPlugin,
  K8S_DEV_DIR,
  K8S_DIR,
  type K8sObject,
  readKustomization,
  unlistedFiles,
} from './k8s-checks.js';

/**
 * deploy/k8s (base) and deploy/k8s/dev (overlay), checked without a cluster: against the Kubernetes API schemas that
 * the kubernetes-models package compiles (when installed) and against the code the pods run (k8s-checks.ts).
 */

const PENDING = ['actions'];
const base = () => applyPatches(K8S_DIR, readKustomization(K8S_DIR));
const dev = () => applyPatches(K8S_DEV_DIR, readKustomization(K8S_DEV_DIR));
const named = <T = K8sObject>(objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name) as T & K8sObject;
type Pod = { spec: { replicas?: number; template: { spec: { containers: Record<string, unknown>[] } } } };
const container = (objects: K8sObject[], name: string) =>
  named<Pod>(objects, 'Deployment', name).spec.template.spec.containers[0];

/** group/version → the kubernetes-models module folder */
function modelPath(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion === 'v1' ? 'v1' : apiVersion}/${kind}`;
}

async function schemaErrors(objects: K8sObject[]): Promise<string[]> {
  const errors: string[] = [];
  for (const o of objects) {
    const mod = (await import(modelPath(o.apiVersion, o.kind))) as Record<
      string,
      new (
        d: unknown,
      ) => { validate(): void }
    >;
    const Model = mod[o.kind];
    if (!Model) {
      errors.push(`${o.kind}/${o.metadata.name}: no model for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      errors.push(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
    }
  }
  return errors;
}

describe('deploy/k8s against the Kubernetes API schemas', () => {
  it('every object of the base and the dev overlay validates', async () => {
    expect(await schemaErrors(base())).toEqual([]);
    expect(await schemaErrors(dev())).toEqual([]);
  });

  it('a wrongly typed or missing field is caught', async () => {
    const objects = base();
    named<Pod>(objects, 'Deployment', 'meshward-correlator').spec.replicas = 'two' as unknown as number;
    delete (named(objects, 'Deployment', 'meshward-api').spec as { selector?: unknown }).selector;
    (container(objects, 'meshward-collector').readinessProbe as { httpGet: { path: unknown } }).httpGet.path = 5;
    const errors = (await schemaErrors(objects)).join('\n');
    expect(errors).toMatch(/meshward-correlator: .*replicas must be integer/);
    expect(errors).toMatch(/meshward-collector: .*httpGet\/path must be string/);
    expect(errors).toMatch(/meshward-api: .*must have required property selector/);
  });
});

describe('deploy/k8s against the code it runs', () => {
  it('lists every manifest in its kustomization, and nothing that is missing', () => {
    expect(unlistedFiles(K8S_DIR)).toEqual([]);
    expect(unlistedFiles(K8S_DEV_DIR)).toEqual([]);
  });

  it('the base holds together, and its Secret placeholders are refused by the roles (fail fast until replaced)', async () => {
    expect(await checkK8s(base(), { secrets: 'placeholders', pendingCommands: PENDING })).toEqual([]);
  });

  it('the dev overlay holds together with its demo secrets accepted', async () => {
    expect(await checkK8s(dev(), { secrets: 'real', pendingCommands: PENDING })).toEqual([]);
  });

  it('reuses deploy/istio/wasm-plugin.yaml: its sensor reaches the collector Service', () => {
    const [plugin] = parseYamlDocuments(
      readRepoFile('deploy/istio/wasm-plugin.yaml'),
      'wasm-plugin.yaml',
    ) as K8sObject[];
    expect(checkWasmPlugin(plugin, base())).toEqual([]);
    const objects = base();
    named(objects, 'Service', 'meshward-collector').metadata.name = 'collector';
    expect(checkWasmPlugin(plugin, objects).join('\n')).toMatch(/names Service meshward-collector\.meshward/);
    const svc = named<{ spec: { ports: { port: number }[] } }>(base(), 'Service', 'meshward-collector');
    svc.spec.ports[0].port = 8080;
    expect(checkWasmPlugin(plugin, [svc]).join('\n')).toMatch(/has no port 7071/);
  });

  it('catches args the CLI does not have and configs the loader refuses', async () => {
    const objects = base();
    container(objects, 'meshward-correlator').args = ['correlate', '-c', '/etc/meshward/config/meshward.yaml'];
    container(objects, 'meshward-api').args = ['api', '--config', '/etc/meshward/meshward.yaml', '--no-actions'];
    const cm = named<{ data: Record<string, string> }>(objects, 'ConfigMap', 'meshward-config');
    cm.data['meshward.yaml'] = cm.data['meshward.yaml'].replace('listen: 0.0.0.0:7071', 'listen: 7071');
    const problems = (await checkK8s(objects, { secrets: 'placeholders', pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/meshward-correlator correlator: meshward correlate .*unknown command/);
    expect(problems).toMatch(/meshward-api api: config \/etc\/meshward\/meshward\.yaml is not a mounted ConfigMap key/);
    expect(problems).toMatch(/meshward-collector collector: .*collector\.listen: /);
    expect(problems).toMatch(/0 correlator replicas/);
  });

  it('catches probes on the wrong port or on a path the server does not have', async () => {
    const objects = base();
    const c = container(objects, 'meshward-collector') as {
      readinessProbe: { httpGet: { path: string } };
      livenessProbe: { httpGet: { port: number } };
    };
    c.readinessProbe.httpGet.path = '/ready';
    c.livenessProbe.httpGet.port = 7070;
    const problems = (await checkK8s(objects, { secrets: 'placeholders', pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/collector: readinessProbe path \/ready answers 404 on the collector server/);
    expect(problems).toMatch(/collector: livenessProbe targets port 7070, the collector role listens on 7071/);
  });

  it('catches Services, PDBs and the Ingress pointing at nothing, and a PDB that blocks drains', async () => {
    const objects = base();
    (named(objects, 'Service', 'meshward-api').spec as { selector: Record<string, string> }).selector[
      'app.kubernetes.io/component'
    ] = 'ui';
    (named(objects, 'PodDisruptionBudget', 'meshward-collector').spec as { minAvailable: number }).minAvailable = 2;
    const ingress = named<{
      spec: { rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] };
    }>(objects, 'Ingress', 'meshward-console');
    ingress.spec.rules[0].http.paths = ingress.spec.rules[0].http.paths.filter((p) => p.path !== '/v1/audit');
    const problems = (await checkK8s(objects, { secrets: 'placeholders', pendingCommands: PENDING })).join('\n');
    expect(problems).toMatch(/Service\/meshward-api: selects no pods/);
    expect(problems).toMatch(/minAvailable 2 with 2 replicas of Deployment\/meshward-collector blocks every drain/);
    expect(problems).toMatch(/\/v1\/audit \(decisions API\) does not go to meshward-actions/);
  });

  it('catches a committed Secret with usable values, and an overlay whose secrets the roles refuse', async () => {
    const objects = base();
    const secret = named<{ stringData: Record<string, string> }>(objects, 'Secret', 'meshward-secrets');
    secret.stringData['sensor-tokens'] = 'istio-sidecars a-real-looking-token-0123456789\n';
    expect((await checkK8s(objects, { secrets: 'placeholders', pendingCommands: PENDING })).join('\n')).toMatch(
      /sensor_tokens_file holds values the role accepts|is not a REPLACE placeholder/,
    );
    expect((await checkK8s(base(), { secrets: 'real', pendingCommands: PENDING })).join('\n')).toMatch(
      /collector: \/collector\/sensor_tokens_file: .*sensor-tokens:1: the token must be at least 16 characters/,
    );
  });

  it('catches a topic Job that creates fewer partitions than correlators', async () => {
    const objects = base();
    const job = named<{ spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } } }>(
      objects,
      'Job',
      'meshward-kafka-topics',
    );
    const env = job.spec.template.spec.containers[0].env.find((e) => e.name === 'TOPICS');
    if (env) env.value = 'meshward.calls:1 meshward.calls.dlq:1 meshward.alerts:1 meshward.decisions:1';
    expect((await checkK8s(objects, { secrets: 'placeholders', pendingCommands: PENDING })).join('\n')).toMatch(
      /meshward\.calls has 1 partitions, fewer than the 2 correlators/,
    );
  });
});
