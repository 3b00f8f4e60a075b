import { checkInstanceName, checkSection } from '../../pipeline/config/section.js';
import { mwError } from '../../pipeline/core/errors.js';
import type { Logger } from '../../pipeline/core/logger.js';
import type { ActionAdapter, AdapterFactory } from '../adapter.js';
import { consulFactory } from '../gateways/consul/factory.js';
import { haproxyFactory } from '../gateways/haproxy/factory.js';
import { istioFactory } from '../gateways/istio/factory.js';
import { kongFactory } from '../gateways/kong/factory.js';
import { nginxFactory } from '../gateways/nginx/factory.js';
import { caepSetFactory } from '../idp/caep-set/factory.js';
import { keycloakFactory } from '../idp/keycloak/factory.js';
import { oauthRevocationFactory } from '../idp/oauth-revocation/factory.js';
import { oktaFactory } from '../idp/okta/factory.js';

/**
 * Adapter factories by type id. Config keys name a type and optionally an instance after a second slash:
 * `idp/oauth_revocation`, `gateways/haproxy`, `gateways/haproxy/edge-eu`.
 */
const factories = new Map<string, AdapterFactory<never>>();

export function registerAdapterFactory(factory: AdapterFactory<never>): void {
  if (factories.has(factory.type)) throw mwError('CONFIG_INVALID', `adapter type ${factory.type} registered twice`);
  factories.set(factory.type, factory);
}

export function adapterFactory(type: string): AdapterFactory<never> | undefined {
  return factories.get(type);
}

export function adapterTypes(): string[] {
  return [...factories.keys()].sort();
}

/** `gateways/haproxy/edge-eu` → `gateways/haproxy` */
export function typeOfKey(key: string): string {
  const parts = key.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : key;
}

/**
 * The adapter settings of the `actions:` config section: each key naming a registered adapter type gets its config
 * (defaults filled in, then validated: errors name the key). Other keys (policy_file, ...) are left out. Checked
 * before any role starts, and again when the adapters are created.
 */
export function adapterConfigs(section: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(section)) {
    if (!key.includes('/')) continue;
    const factory = factories.get(typeOfKey(key));
    if (!factory)
      throw mwError('CONFIG_INVALID', `actions.${key}: unknown adapter type (known: ${adapterTypes().join(', ')})`);
    checkInstanceName('actions', key, typeOfKey(key));
    // the first problem only: an adapter's config errors are read one at a time
    out[key] = checkSection(factory.configSchema, raw, `actions.${key}`, factory.defaultConfig as object, 1);
  }
  return out;
}

/** Create adapters from the `actions:` config section (adapterConfigs: errors name the key). */
export function createAdapters(
  section: Record<string, unknown>,
  deps: { logger: Logger },
): Record<string, ActionAdapter> {
  const out: Record<string, ActionAdapter> = {};
  for (const [key, config] of Object.entries(adapterConfigs(section))) {
    const factory = factories.get(typeOfKey(key)) as AdapterFactory<never>;
    out[key] = factory.create(config as never, { logger: deps.logger.child({ adapter: key }) });
  }
  return out;
}

export async function closeAdapters(adapters: Record<string, ActionAdapter>): Promise<void> {
  await Promise.all(Object.values(adapters).map((a) => a.close?.()));
}

for (const f of [
  oauthRevocationFactory,
  keycloakFactory,
  oktaFactory,
  caepSetFactory,
  haproxyFactory,
  nginxFactory,
  istioFactory,
  consulFactory,
  kongFactory,
]) {
  registerAdapterFactory(f as unknown as AdapterFactory<never>);
}
