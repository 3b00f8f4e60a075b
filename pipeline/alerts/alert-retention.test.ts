import { describe, expect, it } from 'vitest';
import { metricSum } from '../../test/harness/metrics.js';
import type { Alert } from '../core/alert.js';
import { silentLogger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { createRedisStore } from '../store/redis-store.js';
import { AlertRepository } from './alert-repository.js';
import { alertRetentionOf, startAlertRetention } from './alert-retention.js';

const DAY = 86_400_000;
const alert = (id: string, state: Alert['state'], ageDays: number): Alert => {
  const t = Date.now() - ageDays * DAY;
  return {
    v: 1,
    id,
    kind: 'error_burst',
    severity: 'medium',
    state,
    service: 'orders',
    firstSeen: t,
    lastSeen: t,
    count: 1,
    summary: id,
    evidence: { recordIds: [], metrics: {} },
    updatedAt: t,
  };
};

async function poll(what: string, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('alert retention in the API', () => {
  it('takes api.retention in days', () => {
    expect(alertRetentionOf({ resolved_alert_days: 30, alert_days: 0.5, max_alerts: 200 })).toEqual({
      resolvedMaxAgeMs: 30 * DAY,
      maxAgeMs: DAY / 2,
      maxAlerts: 200,
    });
  });

  it('runs a pass at start and then every interval', async () => {
    const repo = new AlertRepository(new MemoryStore());
    await repo.upsert(alert('alr_old', 'resolved', 31));
    await repo.upsert(alert('alr_fresh', 'resolved', 1));
    const retention = alertRetentionOf({ resolved_alert_days: 30, alert_days: 180, max_alerts: 100 });
    const stop = startAlertRetention(repo, retention, silentLogger, 50);
    await poll('the first pass', async () => (await repo.get('alr_old')) === null);
    // one resolved 31 days ago arrives later (a replica's late copy): the next pass takes it
    await repo.upsert(alert('alr_late', 'resolved', 31));
    await poll('a later pass', async () => (await repo.get('alr_late')) === null);
    await stop();
    expect(await repo.get('alr_fresh')).not.toBeNull();
  });

  it('counts a pass the store could not answer and keeps going', async () => {
    const store = createRedisStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 100, maxReconnectDelayMs: 100 });
    const before = await metricSum('meshward_alert_retention_failures_total');
    const stop = startAlertRetention(
      new AlertRepository(store),
      alertRetentionOf({ resolved_alert_days: 30, alert_days: 180, max_alerts: 100 }),
      silentLogger,
      50,
    );
    await poll(
      'two failed passes',
      async () => (await metricSum('meshward_alert_retention_failures_total')) >= before + 2,
    );
    await stop();
    await store.close();
  });
});
