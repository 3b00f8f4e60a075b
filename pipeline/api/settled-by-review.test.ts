import { describe, expect, it } from 'vitest';
import { AlertRepository } from '../alerts/alert-repository.js';
import { followAlerts } from '../app/roles.js';
import { TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import type { Alert } from '../core/alert.js';
import { MemoryStore } from '../store/memory-store.js';
import { waitFor } from '../../test/harness/pipeline-client.js';
import { REVIEWS_KEY, settledByReview } from './inventory-routes.js';

const alert = (id: string, kind: string, count: number, entry?: string): Alert => ({
  v: 1,
  id,
  kind,
  severity: 'medium',
  state: 'open',
  service: 'orders',
  ...(entry ? { subject: { type: 'api', value: entry } } : {}),
  firstSeen: 1000,
  lastSeen: 1000 + count,
  count,
  summary: `${kind} ${id}`,
  evidence: { recordIds: [], metrics: {} },
  updatedAt: 1000 + count,
});

/** the stored alert once it has at least `count` occurrences */
const withCount = (repo: AlertRepository, id: string, count: number) =>
  waitFor(
    `alert ${id} at count ${count}`,
    async () => {
      const a = await repo.get(id);
      return a && a.count >= count ? a : undefined;
    },
    5_000,
    10,
  );

describe('a review settles the discovery alerts of its endpoint', () => {
  it('a refresh the correlator sent before it read the review does not reopen them; other resolved alerts reopen', async () => {
    const bus = new MemoryBus({ partitions: 1 });
    const store = new MemoryStore();
    const repo = new AlertRepository(store);
    const feed = await followAlerts(bus, repo, { groupId: 'api-test', settled: settledByReview(store) });
    const send = (a: Alert) => bus.publish(TOPICS.alerts, [{ key: a.service, value: JSON.stringify(a) }]);

    const cases = [
      alert('alr_reviewed', 'shadow_api', 1, 'orders GET /audit'),
      alert('alr_zombie', 'zombie_api', 1, 'orders GET /v1/old'),
      alert('alr_unreviewed', 'shadow_api', 1, 'orders GET /other'),
      alert('alr_burst', 'error_burst', 1),
    ];
    for (const a of cases) {
      await send(a);
      await withCount(repo, a.id, 1);
      await repo.transition(a.id, 'resolve', 'ana', 'done');
    }
    // the analyst reviewed two of the endpoints (the review route stores it, then resolves their alerts)
    for (const entry of ['orders GET /audit', 'orders GET /v1/old'])
      await store.hset(REVIEWS_KEY, entry, JSON.stringify({ labels: { category: 'ecommerce' }, by: 'ana', at: 1 }));

    // the correlator, not yet aware of the review, refreshes every one of them
    for (const a of cases) await send({ ...a, count: 2, lastSeen: 1002, updatedAt: 1002 });
    const after = await Promise.all(cases.map((a) => withCount(repo, a.id, 2)));
    expect(after.map((a) => [a.id, a.state, a.count])).toEqual([
      ['alr_reviewed', 'resolved', 2],
      ['alr_zombie', 'resolved', 2],
      ['alr_unreviewed', 'open', 2],
      ['alr_burst', 'open', 2],
    ]);
    await feed.close();
    await bus.close();
  });
});
