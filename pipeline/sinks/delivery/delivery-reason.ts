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

/**
 * What a replica claims before it delivers a change (delivered-alerts.ts): the record it read from the store at the
 * start of the batch (`stored`, the same for every replica that read the batch before either wrote it down), how many
 * earlier changes of the alert in the batch were news (`nth`, the same too: `+n` after the record from the second on),
 * and the state and severity it delivers, or the repeat. Two replicas reading one batch compute the same claims,
 * change after change; a change back to a state and severity already delivered, in this batch (a later `nth`) or a
 * later one (another record), is claimed anew.
 */
export function deliveryClaim(
  stored: DeliveredVersion | undefined,
  nth: number,
  alert: Alert,
  reason: DeliveryReason,
): string {
  const after = `${stored ? stored.at : 'none'}${nth > 0 ? `+${nth}` : ''}`;
  return reason === 'repeat' ? `${after}:repeat` : `${after}:${alert.state}:${alert.severity}`;
}
