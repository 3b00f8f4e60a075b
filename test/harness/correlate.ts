import { AlertRepository } from '../../pipeline/alerts/alert-repository.js';
import { followAlerts } from '../../pipeline/app/roles.js';
import { TOPICS } from '../../pipeline/bus/bus.js';
import { MemoryBus } from '../../pipeline/bus/memory-bus.js';
import type { Alert } from '../../pipeline/core/alert.js';
import { silentLogger } from '../../pipeline/core/logger.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { Correlator } from '../../pipeline/correlator/correlator.js';
import type { Detector } from '../../pipeline/detectors/detector.js';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
import { waitFor } from './pipeline-client.js';

export interface Correlated {
  /** the alerts of the kinds asked for, as the alert store holds them once every one is resolved */
  alerts: Alert[];
  /** every version of those alerts the correlator published, in the order it published them */
  versions: Alert[];
}

/**
 * Records through a correlator as the embedded pipeline runs it: the in-process bus (one partition), the embedded
 * store, the alert feed into the alert store, `batch` records at a time. `detectors` makes the shard's detectors.
 * Waits until every alert of `kinds` is resolved, so the records must go on past the last finding for longer than the
 * resolve window (10 min).
 */
export async function correlate(
  records: readonly ApiCallRecord[],
  detectors: () => Detector[],
  kinds: readonly string[],
  { batch = 200 }: { batch?: number } = {},
): Promise<Correlated> {
  // the correlator reads at most `batch` records at a time, and publishes the alerts they changed after each
  const bus = new MemoryBus({ partitions: 1, maxBatch: batch });
  const store = new MemoryStore();
  const repo = new AlertRepository(store);
  const feed = await followAlerts(bus, repo);
  const versions: Alert[] = [];
  const correlator = new Correlator({
    bus,
    store,
    logger: silentLogger,
    createDetectors: detectors,
    onAlerts: (alerts) => versions.push(...alerts.filter((a) => kinds.includes(a.kind)).map((a) => structuredClone(a))),
  });
  await correlator.start();
  try {
    for (let i = 0; i < records.length; i += batch)
      await bus.publish(
        TOPICS.calls,
        records.slice(i, i + batch).map((r) => ({ key: r.service, value: JSON.stringify(r) })),
      );
    const alerts = await waitFor(
      `every ${kinds.join(' / ')} alert resolved`,
      async () => {
        const items: Alert[] = [];
        for (const kind of kinds) items.push(...(await repo.list({ kind }, 500)).items);
        return items.length > 0 && items.every((a) => a.state === 'resolved') ? items : undefined;
      },
      10_000,
      20,
    );
    return { alerts: alerts.sort((a, b) => a.firstSeen - b.firstSeen), versions };
  } finally {
    await bus.close();
    await feed.close();
    await correlator.close();
  }
}
