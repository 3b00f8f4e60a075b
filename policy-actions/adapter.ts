import type { TSchema } from '@sinclair/typebox';
import type { Decision, EnforcedDecision } from '../pipeline/core/decision.js';
import type { Logger } from '../pipeline/core/logger.js';

export interface AdapterResult {
  ok: boolean;
  /** what the adapter did, for the audit log (no secrets) */
  detail: string;
  /** the enforcement point's own reference, e.g. a map entry key or a resource name */
  ref?: string;
}

/**
 * An enforcement adapter at an existing door: an IdP (policy-actions/idp/*) or a gateway (policy-actions/gateways/*).
 * apply/revert are idempotent: applying twice or reverting something absent is not an error.
 * Errors are MeshwardError ADAPTER_FAILED (retryable) or a non-retryable catalogue error.
 */
export interface ActionAdapter {
  readonly type: string;
  supports(decision: Decision): boolean;
  /** enforce an active decision (the engine applies nothing else): it carries when its enforcement ends */
  apply(decision: EnforcedDecision): Promise<AdapterResult>;
  revert(decision: Decision): Promise<AdapterResult>;
  /** reachable and configured? */
  check(): Promise<{ ok: boolean; detail?: string }>;
  close?(): Promise<void>;
}

export interface AdapterFactory<C = unknown> {
  /** e.g. idp/oauth_revocation, gateways/haproxy */
  readonly type: string;
  readonly configSchema: TSchema;
  readonly defaultConfig: C;
  create(config: C, deps: { logger: Logger }): ActionAdapter;
}
