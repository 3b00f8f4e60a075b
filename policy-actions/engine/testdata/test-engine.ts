import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../../pipeline/store/memory-store.js';
import { createPolicyEngine, type DecisionChange, type PolicyEngine, type PolicyEngineOptions } from '../engine.js';
import { type CompiledPolicy, parsePolicy } from '../policy.js';
import { RecordingAdapter } from './recording-adapter.js';

/** testdata/policy.yaml: the rules the engine tests act by */
export const TEST_POLICY_TEXT = readFileSync(join(import.meta.dirname, 'policy.yaml'), 'utf8');

export interface EngineTestParts {
  /** the store's data dir: a new MemoryStore over it is the store after a restart */
  dir: string;
  store: MemoryStore;
  policy: CompiledPolicy;
  /** the adapters the test policy's rules name, recording their calls */
  idp: RecordingAdapter;
  gateway: RecordingAdapter;
}

/** what an engine test starts from: a store in a fresh temp dir on the test's clock, the test policy, its adapters */
export function engineTestParts(dirPrefix: string, clock: () => number): EngineTestParts {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  return {
    dir,
    store: new MemoryStore({ dataDir: dir, clock }),
    policy: parsePolicy(TEST_POLICY_TEXT),
    idp: new RecordingAdapter('idp/test', ['revoke_token', 'revoke_session', 'step_up']),
    gateway: new RecordingAdapter('gateways/test', ['deny', 'rate_limit']),
  };
}

/**
 * an engine over those parts as the engine tests run it: no expiry timer (a test calls expireDue), retries within
 * milliseconds, every decision change handed to `onChange`
 */
export function startTestEngine(
  parts: Omit<EngineTestParts, 'dir'> & {
    clock: () => number;
    onChange: (c: DecisionChange) => void;
    onAlert?: PolicyEngineOptions['onAlert'];
  },
): PolicyEngine {
  const e = createPolicyEngine({
    store: parts.store,
    policy: parts.policy,
    adapters: { 'idp/test': parts.idp, 'gateways/test': parts.gateway },
    clock: parts.clock,
    onAlert: parts.onAlert,
    config: { expiry_interval_ms: 0, retry_base_delay_ms: 1, retry_max_delay_ms: 2, retry_max_attempts: 3 },
  });
  e.subscribe(parts.onChange);
  return e;
}
