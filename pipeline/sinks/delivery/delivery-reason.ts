import { type Alert, type AlertState, SEVERITY_RANK, type Severity } from '../../core/alert.js';

/** what a sink last delivered of an alert (the store keeps one per alert and sink) */
export interface DeliveredVersion {
  state: AlertState;
  severity: Severity;
  /** when it was delivered (ms) */
  at: number;
}

export type DeliveryReason = 'new' | 'state' | 'severity' | 'repeat';

/**
 * Why a sink in `deliver: changes` delivers this alert change, or undefined when it is a mere refresh (count,
 * lastSeen) to skip. A severity that falls is not news (nor is one that comes back to what was delivered); an alert
 * still open is repeated once `repeatMs` (0: never) passed since it was last delivered.
 */
export function deliveryReason(
  last: DeliveredVersion | undefined,
  alert: Alert,
  now: number,
  repeatMs: number,
): DeliveryReason | undefined {
  if (!last) return 'new';
  if (last.state !== alert.state) return 'state';
  if (SEVERITY_RANK[alert.severity] > SEVERITY_RANK[last.severity]) return 'severity';
  if (alert.state === 'open' && repeatMs > 0 && now - last.at >= repeatMs) return 'repeat';
  return undefined;
}
