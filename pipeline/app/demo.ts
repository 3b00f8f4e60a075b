import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MeshwardConfig } from '../config/schema.js';
import type { RoleDeps, RunningRole } from './roles.js';

interface DemoCredentials {
  sensorToken: string;
  adminKey: string;
  viewerKey: string;
  /** the token hash key of receivers the config gives none (a data dir of an older demo has none yet) */
  tokenHashKey: string;
}

/** receiver types that hash callers' tokens, and so need a token hash key */
const HASHING_RECEIVERS = new Set(['kong_http_log', 'idp']);

/**
 * First-run defaults for `meshward start --demo`: when the config names no sensor tokens, API keys or token hash key
 * of a receiver, generate them once into `<data_dir>/demo-credentials.json` (mode 0600) so restarts keep working
 * with the same keys.
 */
export function prepareDemo(config: MeshwardConfig): MeshwardConfig {
  mkdirSync(config.data_dir, { recursive: true });
  const file = join(config.data_dir, 'demo-credentials.json');
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoCredentials>) : undefined;
  const secret = () => randomBytes(24).toString('base64url');
  const creds: DemoCredentials = {
    sensorToken: stored?.sensorToken ?? secret(),
    adminKey: stored?.adminKey ?? secret(),
    viewerKey: stored?.viewerKey ?? secret(),
    tokenHashKey: stored?.tokenHashKey ?? secret(),
  };
  if (!stored?.tokenHashKey) writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  const next = structuredClone(config);
  // the banner says what matters; info logs would bury it (MESHWARD_LOG_LEVEL=info brings them back)
  if (next.log_level === 'info' && !process.env.MESHWARD_LOG_LEVEL) next.log_level = 'warn';
  if (next.collector.sensor_tokens.length === 0 && !next.collector.sensor_tokens_file) {
    next.collector.sensor_tokens = [{ id: 'demo-sensor', token: creds.sensorToken }];
  }
  if (next.api.api_keys.length === 0 && !next.api.api_keys_file && !next.api.oidc) {
    next.api.api_keys = [
      { name: 'demo-admin', role: 'admin', key: creds.adminKey },
      { name: 'demo-viewer', role: 'viewer', key: creds.viewerKey },
    ];
  }
  for (const [key, receiver] of Object.entries(next.receivers ?? {})) {
    const r = receiver as { token_hash_key?: string; token_hash_key_file?: string } | null;
    if (!HASHING_RECEIVERS.has(key.split('/')[0]) || typeof r !== 'object' || r === null) continue;
    if (!r.token_hash_key && !r.token_hash_key_file) {
      r.token_hash_key = creds.tokenHashKey;
    }
  }
  if (!next.actions) next.actions = { policy_file: demoFile('policy.yaml') };
  // every detector runs with its defaults; API discovery gets the demo shop's catalogue, custom_rules one rule
  if (!next.detectors)
    next.detectors = {
      api_discovery: { catalog_files: [demoFile('catalog.jsonl')] },
      custom_rules: { rules: [DEMO_RULE] },
    };
  return next;
}

/**
 * the demo's custom rule (detectors.custom_rules, CEL): what a rule of the operators' own raises, on the simulated
 * debug, admin and export routes a misrouted ingress leaves reachable
 */
const DEMO_RULE = {
  name: 'internal-route-answered',
  description: 'a debug, admin or export route answered: such routes should not be reachable in production',
  severity: 'high',
  when: '(path.contains("/debug/") || path.contains("/admin/") || path.endsWith("/export")) && status < 400',
  group_by: ['source.ip'],
};

/** a file of deploy/demo/ in this checkout, from the sources or from dist/ */
function demoFile(name: string): string {
  const here = import.meta.dirname;
  const candidates = [join(here, '../../deploy/demo', name), join(here, '../../../deploy/demo', name)];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

export interface DemoTraffic extends RunningRole {
  banner(apiUrl: string): string;
}

export function demoCredentialsFile(config: MeshwardConfig): string {
  return join(config.data_dir, 'demo-credentials.json');
}

export async function startDemoTraffic(deps: RoleDeps, collectorUrl: string): Promise<DemoTraffic> {
  const { startLiveTraffic } = await import('./live-traffic.js');
  const token = deps.config.collector.sensor_tokens[0]?.token ?? '';
  const traffic = startLiveTraffic({
    collectorUrl,
    token,
    logger: deps.logger,
    progressFile: join(deps.config.data_dir, 'demo-traffic.json'),
  });
  const credsFile = demoCredentialsFile(deps.config);
  return {
    name: 'demo-traffic',
    close: () => traffic.stop(),
    banner: (apiUrl) =>
      [
        'meshward is running (embedded, demo traffic on)',
        `  analyst API and console: ${apiUrl}/`,
        `  API docs:                ${apiUrl}/docs`,
        `  collector:               ${collectorUrl}/v1/records`,
        `  credentials:             ${credsFile} (adminKey for the console; sensorToken for sensors)`,
        '  Ctrl-C stops; alerts and state are kept in the data directory.',
        '',
      ].join('\n'),
  };
}
