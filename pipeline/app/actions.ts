import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { closeAdapters, createAdapters } from '../../policy-actions/engine/adapter-registry.js';
import { alertBatchHandler, publishDecisionChanges } from '../../policy-actions/engine/alert-consumer.js';
import { AlertRepository } from '../alerts/alert-repository.js';
import { meshFolderOf } from '../alerts/mesh-folder.js';
import { EngineConfigSchema } from '../../policy-actions/engine/config.js';
import { createPolicyEngine, type PolicyEngine } from '../../policy-actions/engine/engine.js';
import { type CompiledPolicy, loadPolicyFile } from '../../policy-actions/engine/policy.js';
import { decisionRoutes } from '../../policy-actions/engine/routes.js';
import { principalOf } from '../api/api-server.js';
import { alertMessage, TOPICS, type Subscription } from '../bus/bus.js';
import { checkSection } from '../config/section.js';
import { mwError } from '../core/errors.js';
import { announceDecisionChanges } from '../api/decision-changes.js';
import type { RoleDeps } from './roles.js';

/** the `actions:` keys that are not adapters (adapters are `idp/…` and `gateways/…`) */
export const ActionsSettingsSchema = Type.Composite(
  [
    EngineConfigSchema,
    Type.Object({
      /** the standalone `actions` role serves the decisions API here */
      listen: Type.String({ default: '127.0.0.1:7072', pattern: '^[^\\s]+:\\d{1,5}$' }),
      /** consumer group on the alerts topic */
      group_id: Type.String({ default: 'meshward-actions', minLength: 1 }),
    }),
  ],
  // a misspelt key is an error, not a silently ignored setting
  { additionalProperties: false },
);

export interface RunningActions {
  engine: PolicyEngine;
  policyFile: string;
  /** the adapter keys configured, which a rule's `action.adapters` may name */
  adapterKeys: string[];
  listen: string;
  /** the decisions API: GET routes for viewers (enforcement points use a viewer key), changes for responders */
  routes: (app: FastifyInstance) => Promise<void>;
  close(): Promise<void>;
}

/**
 * The decisions API behind the analysts' roles: reads for viewers (enforcement points follow the feed with a viewer
 * key), changes (approve, lift) for responders; the caller is the audit log's actor.
 */
export function decisionRoutesBehindRoles(engine: PolicyEngine) {
  return async (app: FastifyInstance) => {
    await app.register(async (scoped) => {
      scoped.addHook('onRoute', (route) => {
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        const readOnly = methods.every((m) => m === 'GET' || m === 'HEAD');
        route.config = { ...(route.config as object), role: readOnly ? 'viewer' : 'responder' };
      });
      await scoped.register(decisionRoutes, { engine, getActor: (req) => principalOf(req).id });
    });
  };
}

/** validates the `actions:` section (fail fast, naming the key) */
export function actionSettings(section: Record<string, unknown>) {
  const settings = checkSection(
    ActionsSettingsSchema,
    Object.fromEntries(Object.entries(section).filter(([k]) => !k.includes('/'))),
    'actions',
  ) as Record<string, unknown>;
  if (!settings.policy_file) throw mwError('CONFIG_INVALID', 'actions.policy_file: a policy file is required');
  return settings as { policy_file: string; listen: string; group_id: string } & Record<string, unknown>;
}

/** the adapter keys of the `actions:` section (`idp/…`, `gateways/…`) */
const adapterKeysOf = (section: Record<string, unknown>) => Object.keys(section).filter((k) => k.includes('/'));

/**
 * The policy file of the `actions:` section, read and compiled (MW_ERR_POLICY_INVALID naming the file): a process
 * that runs the policy engine checks it before any role starts.
 */
export function loadActionsPolicy(section: Record<string, unknown>): Promise<CompiledPolicy> {
  return loadPolicyFile(actionSettings(section).policy_file, adapterKeysOf(section));
}

/**
 * The policy engine of this process: the policy file and the adapters from the `actions:` section, a consumer of
 * the alerts topic, decision changes published to the decisions topic, engine alerts (guardrail tripped, action
 * failed) published to the alerts topic.
 */
export async function startActions({ config, bus, store, logger }: RoleDeps): Promise<RunningActions | undefined> {
  const section = config.actions;
  if (!section) return undefined;
  const { policy_file, listen, group_id, ...engineConfig } = actionSettings(section);
  const policy = await loadActionsPolicy(section);
  const log = logger.child({ role: 'actions' });
  const adapters = createAdapters(section, { logger: log });
  const engine = createPolicyEngine({
    store,
    policy,
    adapters,
    logger: log,
    config: engineConfig,
    onAlert: (alert) => {
      bus.publish(TOPICS.alerts, [alertMessage(alert)]).catch((err) => {
        log.error({ err, alertId: alert.id }, 'could not publish an engine alert');
      });
    },
  });
  const unpublish = publishDecisionChanges(engine, bus, log);
  // and on the store, for the analysts' live streams on every API process
  const unannounce = announceDecisionChanges(engine, store);
  // what the API folds across partitions is left out, as one shard would not have raised it
  const folder = meshFolderOf(config, store, new AlertRepository(store));
  const handle = alertBatchHandler(engine, log, folder ? { folded: (a) => folder.isFolded(a) } : {});
  let sub: Subscription | undefined;
  try {
    sub = await bus.subscribe({
      groupId: group_id,
      topics: [TOPICS.alerts],
      fromBeginning: true,
      onBatch: async (batch) => handle(batch),
    });
  } catch (err) {
    unpublish();
    unannounce();
    await engine.close();
    await closeAdapters(adapters);
    throw err;
  }
  log.info({ adapters: Object.keys(adapters), rules: policy.rules.length }, 'policy engine started');
  return {
    engine,
    policyFile: policy_file,
    adapterKeys: adapterKeysOf(section),
    listen,
    routes: decisionRoutesBehindRoles(engine),
    close: async () => {
      await sub?.close();
      unpublish();
      unannounce();
      await engine.close();
      await closeAdapters(adapters);
    },
  };
}
