import { type Static, Type } from '@sinclair/typebox';

/** Settings of the policy-action engine (the `actions:` section of the meshward config, less the adapters). */
export const EngineConfigSchema = Type.Object(
  {
    /** path of the policy YAML file (rules + guardrails) */
    policy_file: Type.Optional(Type.String({ minLength: 1 })),
    /** how often due decisions are expired and reverted, ms (0 = only when expireDue is called) */
    expiry_interval_ms: Type.Integer({ minimum: 0, default: 1000 }),
    /** adapter calls: total attempts including the first */
    retry_max_attempts: Type.Integer({ minimum: 1, maximum: 20, default: 4 }),
    /** adapter calls: first backoff ceiling, ms (full jitter, doubling per attempt) */
    retry_base_delay_ms: Type.Integer({ minimum: 0, default: 200 }),
    /** adapter calls: backoff ceiling, ms */
    retry_max_delay_ms: Type.Integer({ minimum: 0, default: 5000 }),
    /** a replayed alert resumes an interrupted apply (engine crashed mid-way) once it is this old, ms */
    resume_after_ms: Type.Integer({ minimum: 0, default: 60_000 }),
    /** how long finished decisions (expired, lifted, failed) are kept for idempotency and history, ms */
    retention_ms: Type.Integer({ minimum: 60_000, default: 30 * 86_400_000 }),
  },
  { additionalProperties: false },
);
export type EngineConfig = Static<typeof EngineConfigSchema>;

export const defaultEngineConfig: EngineConfig = {
  expiry_interval_ms: 1000,
  retry_max_attempts: 4,
  retry_base_delay_ms: 200,
  retry_max_delay_ms: 5000,
  resume_after_ms: 60_000,
  retention_ms: 30 * 86_400_000,
};
