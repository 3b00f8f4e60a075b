import type { Alert } from '../../core/alert.js';
import type { DeliveredAlerts } from './delivered-alerts.js';
import { type DeliveredVersion, deliveryClaim, deliveryReason } from './delivery-reason.js';

/** whether a sink in `deliver: changes` sends an alert change: with the claim it holds, or why not */
export type Admission = { deliver: true; claim: string } | { deliver: false; reason: 'unchanged' | 'claimed' };

export interface ChangesGate {
  /** a change is news (deliveryReason) and this replica claimed it, or it is skipped */
  admit(alert: Alert): Promise<Admission>;
  /** the change was delivered: written down, and the batch's next changes are weighed against it */
  delivered(alert: Alert): Promise<void>;
  /** the delivery failed (dead-lettered): the claim is released so a later read can deliver it */
  failed(alert: Alert, claim: string): Promise<void>;
}

/**
 * `deliver: changes` for one batch of alert changes: what the sink delivered of them is read once (one look-up for
 * the batch), and the claims are made against what the store said before this batch's own deliveries and how many
 * changes of the alert this batch held news before, so replicas reading the same batch make the same claims, change
 * after change, and each change of the batch (open, acknowledged, open again) is claimed, and delivered, once
 */
export async function changesGate(
  record: DeliveredAlerts,
  alerts: readonly Alert[],
  now: () => number,
  repeatMs: number,
  claimTtlMs: number,
): Promise<ChangesGate> {
  const last = await record.lookup(alerts.map((a) => a.id));
  const stored = new Map(last);
  /** per alert: how many of its changes in this batch were news (delivered here, or by another replica) */
  const newsBefore = new Map<string, number>();
  const versionOf = (a: Alert): DeliveredVersion => ({ state: a.state, severity: a.severity, at: now() });
  return {
    async admit(a) {
      const reason = deliveryReason(last.get(a.id), a, now(), repeatMs);
      if (!reason) return { deliver: false, reason: 'unchanged' };
      const nth = newsBefore.get(a.id) ?? 0;
      newsBefore.set(a.id, nth + 1);
      const claim = deliveryClaim(stored.get(a.id), nth, a, reason);
      if (await record.claim(a.id, claim, claimTtlMs)) return { deliver: true, claim };
      // another replica delivers it: the batch's next changes are weighed against it
      last.set(a.id, versionOf(a));
      return { deliver: false, reason: 'claimed' };
    },
    async delivered(a) {
      const version = versionOf(a);
      last.set(a.id, version);
      await record.remember(a.id, version);
    },
    failed: (a, claim) => record.release(a.id, claim),
  };
}
