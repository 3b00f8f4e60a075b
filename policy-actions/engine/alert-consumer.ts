import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type Bus, type BusBatch, TOPICS } from '../../pipeline/bus/bus.js';
import { type Alert, AlertSchema } from '../../pipeline/core/alert.js';
import { MeshwardError } from '../../pipeline/core/errors.js';
import { type Logger, silentLogger } from '../../pipeline/core/logger.js';
import { counter } from '../../pipeline/core/metrics.js';
import type { PolicyEngine } from './engine.js';

const checkAlert = TypeCompiler.Compile(AlertSchema);
const badAlerts = counter(
  'meshward_policy_alerts_invalid_total',
  'Messages on the alerts topic that are not valid alerts',
  ['reason'],
);
const foldedSkipped = counter(
  'meshward_policy_alerts_folded_total',
  'alerts the engine left out because they are folded into another alert across partitions (root-cause or subject folding by the API)',
);
const published = counter('meshward_policy_decisions_published_total', 'Decision changes published to the bus', [
  'outcome',
]);

export interface AlertBatchOptions {
  /**
   * whether an alert is folded into another across partitions (MeshFolder.isFolded): left out, as one shard would not
   * have raised it, and counted
   */
  folded?: (alert: Alert) => Promise<boolean>;
}

/**
 * The bus side of the engine: an `onBatch` handler for the alerts topic. Invalid messages are counted and skipped
 * (never fatal); a store or bus outage rethrows so the batch is retried (offsets are committed only after the
 * decisions are durable). Alerts of one batch are handled in order: the engine's idempotency makes replays harmless.
 */
export function alertBatchHandler(engine: PolicyEngine, logger: Logger = silentLogger, opts: AlertBatchOptions = {}) {
  return async (batch: BusBatch): Promise<void> => {
    for (const m of batch.messages) {
      let alert: unknown;
      try {
        alert = JSON.parse(m.value.toString('utf8'));
      } catch {
        badAlerts.inc({ reason: 'not_json' });
        logger.warn({ topic: m.topic, offset: m.offset }, 'alerts topic: message is not JSON, skipped');
        continue;
      }
      if (!checkAlert.Check(alert)) {
        const first = checkAlert.Errors(alert).First();
        badAlerts.inc({ reason: 'schema' });
        logger.warn(
          { offset: m.offset, path: first?.path, msg: first?.message },
          'alerts topic: invalid alert, skipped',
        );
        continue;
      }
      if (opts.folded && (await opts.folded(alert).catch(() => false))) {
        foldedSkipped.inc();
        continue;
      }
      try {
        await engine.handleAlert(alert);
      } catch (err) {
        if (err instanceof MeshwardError && err.retryable) throw err;
        logger.error({ err, alertId: alert.id }, 'policy engine could not handle an alert');
      }
    }
  };
}

/**
 * Publish every decision change to the decisions topic (key: decision id), for other processes and the archive.
 * Returns the unsubscribe function. Publishing is best effort: failures are counted and logged, never thrown.
 */
export function publishDecisionChanges(engine: PolicyEngine, bus: Bus, logger: Logger = silentLogger): () => void {
  return engine.subscribe(({ decision, previousState }) => {
    bus
      .publish(TOPICS.decisions, [{ key: decision.id, value: JSON.stringify({ decision, previousState }) }])
      .then(() => published.inc({ outcome: 'ok' }))
      .catch((err) => {
        published.inc({ outcome: 'error' });
        logger.warn({ err, decisionId: decision.id }, 'could not publish a decision change');
      });
  });
}
