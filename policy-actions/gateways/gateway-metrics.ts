import { counter } from '../../pipeline/core/metrics.js';

/** Metrics shared by every gateway adapter, labelled by gateway type. */
export const gatewayMetrics = {
  /** apply/revert/sweep/resync calls by outcome (ok | error | rejected) */
  actions: counter('meshward_gateway_actions_total', 'gateway enforcement operations', ['gateway', 'op', 'outcome']),
  /** entries added or removed at the gateway */
  entries: counter('meshward_gateway_entries_changed_total', 'deny entries added or removed at a gateway', [
    'gateway',
    'change',
  ]),
};

/** count the outcome of one adapter operation and pass its result or error through */
export async function counted<T>(gateway: string, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    const out = await fn();
    gatewayMetrics.actions.inc({ gateway, op, outcome: 'ok' });
    return out;
  } catch (err) {
    const retryable = (err as { retryable?: boolean }).retryable === true;
    gatewayMetrics.actions.inc({ gateway, op, outcome: retryable ? 'error' : 'rejected' });
    throw err;
  }
}
