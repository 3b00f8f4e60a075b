import rateLimit from '@fastify/rate-limit';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { readSensorActivity, readTokensSeen } from '../collector/sensor-activity-store.js';
import { quietThresholdOf } from '../collector/sensor-quiet-threshold.js';
import { SENSOR_QUIET_AFTER_MINUTES_DEFAULT } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { PolicyEngine } from '../../policy-actions/engine/engine.js';
import { loadPolicyFile } from '../../policy-actions/engine/policy.js';

export interface AdminRoutesOptions {
  /** ids of the sensors allowed to send records (never their tokens) */
  sensorIds: () => string[];
  /** the store the collectors flush sensor activity to; absent: `seen` is empty */
  store?: Store;
  clock?: () => number;
  /**
   * a sensor whose last record is older than this is `quiet` (api.sensor_quiet_after_minutes; default: its default; 0:
   * no sensor_quiet alert, and quiet after the default)
   */
  quietAfterMs?: number;
  /**
   * the threshold of the sensors of a kind, overriding `quietAfterMs` (api.sensor_quiet_by_kind); 0 (no alert for the
   * kind): `quietAfterMs`
   */
  quietAfterMsByKind?: Readonly<Record<string, number>>;
  /** the policy engine of this process and its policy file, when it runs here */
  policy?: { engine: PolicyEngine; file: string; adapterKeys?: string[] };
  /** admin changes per address and minute (default 10) */
  maxChangesPerMinute?: number;
}

/** a sensor whose last record a collector took longer ago than this is `quiet`, unless the config says */
export const QUIET_AFTER_MS = SENSOR_QUIET_AFTER_MINUTES_DEFAULT * 60_000;

const SensorsAnswer = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          lastSeen: Type.Optional(
            Type.Number({
              description:
                'when a batch posted with this token last had a record accepted (epoch ms); absent: never (or not for 30 days)',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      { description: 'the sensor token ids allowed to send records (never their tokens)' },
    ),
    seen: Type.Array(
      Type.Object(
        {
          kind: Type.String({ description: "the sensor's kind, as its records give it" }),
          id: Type.String({ description: "the sensor's id, as its records give it (_other: those past the bound)" }),
          lastSeen: Type.Number({ description: 'when a collector last accepted a record of it (epoch ms, as alerts)' }),
          records: Type.Integer({ description: 'records the collectors accepted from it' }),
          quiet: Type.Boolean({
            description: 'no record for longer than its quietAfterMinutes (a sensor_quiet alert is raised, unless off)',
          }),
          quietAfterMinutes: Type.Number({
            description:
              "this sensor's threshold: its kind's (api.sensor_quiet_by_kind), else the default quietAfterMinutes; a kind whose alert is off (0) has the default",
          }),
          alert: Type.Boolean({
            description:
              'whether a sensor_quiet alert is raised when it is quiet (false: its threshold is 0, alert off)',
          }),
        },
        { additionalProperties: false },
      ),
      { description: 'every sensor whose records a collector accepted, by kind then id' },
    ),
    quietAfterMinutes: Type.Number({
      description:
        'a sensor with no record for longer than this is quiet (api.sensor_quiet_after_minutes), unless its kind has its own threshold',
    }),
  },
  { additionalProperties: false },
);
/** what GET /v1/admin/sensors answers (the CLI's `meshward sensors` reads it) */
export type SensorsAnswer = Static<typeof SensorsAnswer>;

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
  const configured = opts.quietAfterMs ?? QUIET_AFTER_MS;
  const quietAfterMs = configured || QUIET_AFTER_MS;
  const quietAfterOf = quietThresholdOf(configured, opts.quietAfterMsByKind);
  return async (app: FastifyInstance) => {
    await app.register(async (scoped) => {
      await scoped.register(rateLimit, { global: false });
      scoped.get(
        '/v1/admin/sensors',
        {
          config: { role: 'admin' },
          schema: {
            tags: ['admin'],
            summary:
              "Sensors allowed to send records (ids only), and every sensor seen sending, quiet after api.sensor_quiet_after_minutes (or its kind's api.sensor_quiet_by_kind) without a record",
            response: { 200: SensorsAnswer },
          },
        },
        async () => {
          const [seen, tokens] = opts.store
            ? await Promise.all([readSensorActivity(opts.store), readTokensSeen(opts.store)])
            : [[], new Map<string, number>()];
          const now = (opts.clock ?? Date.now)();
          return {
            items: opts.sensorIds().map((id) => {
              const lastSeen = tokens.get(id);
              return lastSeen === undefined ? { id } : { id, lastSeen };
            }),
            seen: seen.map((s) => {
              const own = quietAfterOf(s.kind);
              const sensorQuietAfterMs = own || quietAfterMs;
              return {
                kind: s.kind,
                id: s.id,
                lastSeen: s.lastSeen,
                records: s.records,
                quiet: now - s.lastSeen > sensorQuietAfterMs,
                quietAfterMinutes: sensorQuietAfterMs / 60_000,
                alert: own > 0,
              };
            }),
            quietAfterMinutes: quietAfterMs / 60_000,
          };
        },
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
