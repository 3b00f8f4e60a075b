import { readFileSync } from 'node:fs';
import { mwError } from '../core/errors.js';
import { parseYamlBounded } from '../core/yaml.js';
import { riskModelOf } from '../inventory/endpoint-risk-config.js';
import { MeshwardConfig } from './schema.js';
import { expectedObject } from './schema-problems.js';
import { withDefaults } from './with-defaults.js';

export interface ConfigOverrides {
  kafka?: string;
  redis?: string;
  dataDir?: string;
  apiListen?: string;
  collectorListen?: string;
}

/** env vars that override the file (and are overridden by CLI flags) */
export function envOverrides(env: NodeJS.ProcessEnv = process.env): ConfigOverrides {
  return {
    kafka: env.MESHWARD_KAFKA_BROKERS || undefined,
    redis: env.MESHWARD_REDIS_URL || undefined,
    dataDir: env.MESHWARD_DATA_DIR || undefined,
    apiListen: env.MESHWARD_API_LISTEN || undefined,
    collectorListen: env.MESHWARD_COLLECTOR_LISTEN || undefined,
  };
}

function readDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw mwError('CONFIG_INVALID', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseYamlBounded(text, { maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw mwError('CONFIG_INVALID', `${path} is not valid YAML: ${(err as Error).message}`);
  }
}

/**
 * Loads the config: YAML file (optional) → env → CLI overrides → defaults → validation. Fails fast with every bad
 * key named (`collector.listen: …`), before anything starts.
 */
export function loadConfig(path?: string, overrides: ConfigOverrides = {}): MeshwardConfig {
  const doc = path ? readDocument(path) : {};
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw mwError('CONFIG_INVALID', `${path}: the top level must be a mapping`);
  }
  return resolveConfig(doc as Record<string, unknown>, overrides, path ?? '<defaults>');
}

export function resolveConfig(
  doc: Record<string, unknown>,
  overrides: ConfigOverrides = {},
  source = '<config>',
): MeshwardConfig {
  const cfg = structuredClone(doc) as Record<string, Record<string, unknown> | unknown>;
  // an override sets a key inside a section: a section that is not a mapping (`api: 5`) is the file's error to name
  const section = (name: 'bus' | 'store' | 'api' | 'collector') => {
    const v = cfg[name];
    if (v === undefined || v === null) cfg[name] = {};
    else if (typeof v !== 'object' || Array.isArray(v)) {
      const problem = `${name}: ${expectedObject(MeshwardConfig.properties[name], v)}`;
      throw mwError('CONFIG_INVALID', `${source}: ${problem}`, { problems: [problem] });
    }
    return cfg[name] as Record<string, unknown>;
  };
  if (overrides.kafka) {
    const bus = section('bus');
    const kafka = (bus.kafka ?? {}) as Record<string, unknown>;
    Object.assign(bus, {
      kind: 'kafka',
      kafka: { ...kafka, brokers: overrides.kafka.split(',').map((s) => s.trim()) },
    });
  }
  if (overrides.redis) Object.assign(section('store'), { kind: 'redis', url: overrides.redis });
  if (overrides.dataDir) cfg.data_dir = overrides.dataDir;
  if (overrides.apiListen) section('api').listen = overrides.apiListen;
  if (overrides.collectorListen) section('collector').listen = overrides.collectorListen;
  const { value, problems } = withDefaults(MeshwardConfig, cfg, '', 10);
  if (problems.length > 0) throw mwError('CONFIG_INVALID', `${source}: ${problems.join('; ')}`, { problems });
  const config = value as MeshwardConfig;
  if (config.bus.kind === 'kafka' && !config.bus.kafka) {
    throw mwError(
      'CONFIG_INVALID',
      `${source}: bus.kafka.brokers: kafka needs at least one broker (or --kafka / MESHWARD_KAFKA_BROKERS)`,
    );
  }
  if (config.store.kind === 'redis' && !config.store.url) {
    throw mwError('CONFIG_INVALID', `${source}: store.url: redis needs a url (or --redis / MESHWARD_REDIS_URL)`);
  }
  riskModelOf(config.api.inventory_risk, `${source}: api.inventory_risk`);
  return config;
}
