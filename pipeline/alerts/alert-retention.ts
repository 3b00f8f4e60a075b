import { startPeriodic } from '../core/periodic.js';
import type { Logger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import type { AlertRepository, AlertRetention } from './alert-repository.js';

const failures = counter('meshward_alert_retention_failures_total', 'retention passes over the alerts that failed');

const DAY_MS = 86_400_000;
/** how often the API deletes the alerts retention no longer keeps */
export const RETENTION_INTERVAL_MS = 10 * 60_000;

/** `api.retention` as the repository takes it */
export function alertRetentionOf(c: { resolved_alert_days: number; alert_days: number; max_alerts: number }) {
  return {
    resolvedMaxAgeMs: c.resolved_alert_days * DAY_MS,
    maxAgeMs: c.alert_days * DAY_MS,
    maxAlerts: c.max_alerts,
  } satisfies AlertRetention;
}

/**
 * Runs a retention pass over the alerts at once and then every `intervalMs`, one at a time; a failed pass (the store
 * away) is counted and logged, and the next one tries again. Returns the function that stops it (and waits for a
 * pass under way).
 */
export function startAlertRetention(
  alerts: AlertRepository,
  retention: AlertRetention,
  logger: Logger,
  intervalMs = RETENTION_INTERVAL_MS,
): () => Promise<void> {
  return startPeriodic(async () => {
    try {
      const r = await alerts.prune(retention);
      if (r.resolved + r.stale + r.overflow > 0) logger.info(r, 'alerts deleted by retention');
    } catch (err) {
      failures.inc();
      logger.warn({ err: (err as Error).message }, 'alert retention pass failed; the next one tries again');
    }
  }, intervalMs);
}
