import type { Alert } from '../../../pipeline/core/alert.js';

let n = 0;
/** an alert with sensible defaults; ids are unique unless given */
export function makeAlert(over: Partial<Alert> = {}): Alert {
  n++;
  const now = over.lastSeen ?? 1_760_000_000_000;
  return {
    v: 1,
    id: `alert_${n}`,
    kind: 'token_mismatch',
    severity: 'high',
    state: 'open',
    service: 'orders',
    subject: { type: 'token', value: 'tok-1' },
    firstSeen: now,
    lastSeen: now,
    count: 1,
    summary: 'test alert',
    evidence: { recordIds: [], metrics: {} },
    updatedAt: now,
    ...over,
  };
}
