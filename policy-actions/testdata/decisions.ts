import type { Decision, EnforcedDecision } from '../../pipeline/core/decision.js';

/** an active, enforced decision for tests: 60 s to live unless `until` is given */
export function testDecision(fields: Pick<Decision, 'id' | 'type' | 'scope'> & Partial<Decision>): EnforcedDecision {
  const now = Date.now();
  return {
    v: 1,
    value: '',
    until: now + 60_000,
    reason: 'test',
    simulated: false,
    state: 'active',
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}
