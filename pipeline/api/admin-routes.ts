import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { PolicyEngine } from '../../policy-actions/engine/engine.js';
import { loadPolicyFile } from '../../policy-actions/engine/policy.js';

export interface AdminRoutesOptions {
  /** ids of the sensors allowed to send records (never their tokens) */
  sensorIds: () => string[];
  /** the policy engine of this process and its policy file, when it runs here */
  policy?: { engine: PolicyEngine; file: string; adapterKeys?: string[] };
  /** admin changes per address and minute (default 10) */
  maxChangesPerMinute?: number;
}

const summary = (engine: PolicyEngine, file: string) => ({
  file,
  maxActionsPerMinute: engine.policy.maxActionsPerMinute,
  rules: engine.policy.rules.map((r) => ({
    name: r.name,
    type: r.type,
    scope: r.scope ?? null,
    ttlMs: r.ttlMs,
    dryRun: r.dryRun,
    requiresApproval: r.requiresApproval,
    escalationSteps: r.escalate.length,
  })),
});

/**
 * Admin operations: the sensors allowed to send, the policy in force, and a reload of the policy file (a bad file
 * is refused and the policy in force stays). Every change is rate limited and, like every change made through the
 * API, written to the access log.
 */
export function adminRoutes(opts: AdminRoutesOptions) {
  return async (app: FastifyInstance) => {
    await app.register(async (scoped) => {
      await scoped.register(rateLimit, { global: false });
      scoped.get(
        '/v1/admin/sensors',
        {
          config: { role: 'admin' },
          schema: { tags: ['admin'], summary: 'Sensors allowed to send records (ids only)' },
        },
        async () => ({ items: opts.sensorIds().map((id) => ({ id })) }),
      );
      const policy = opts.policy;
      if (!policy) return;
      scoped.get(
        '/v1/admin/policy',
        { config: { role: 'admin' }, schema: { tags: ['admin'], summary: 'The policy in force' } },
        async () => summary(policy.engine, policy.file),
      );
      scoped.post(
        '/v1/admin/policy/reload',
        {
          config: {
            role: 'admin',
            rateLimit: { max: opts.maxChangesPerMinute ?? 10, timeWindow: 60_000 },
          },
          schema: {
            tags: ['admin'],
            summary: 'Reload the policy file; a bad file is refused (400) and nothing changes',
          },
        },
        async () => {
          policy.engine.setPolicy(await loadPolicyFile(policy.file, policy.adapterKeys));
          return summary(policy.engine, policy.file);
        },
      );
    });
  };
}
