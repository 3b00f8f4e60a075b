import { describe, expect, it } from 'vitest';
import { apiCall } from '../../test/harness/api-call.js';
import { metricSum } from '../../test/harness/metrics.js';
import { AlertRepository } from '../alerts/alert-repository.js';
import { followAlerts } from '../app/roles.js';
import { TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import { partitionFor } from '../bus/partitioner.js';
import { silentLogger } from '../core/logger.js';
import type { ApiCallRecord } from '../core/record.js';
import { customRulesFactory } from '../detectors/custom-rules/factory.js';
import { checkConfig } from '../detectors/shared/detector-kit.js';
import { CustomRulesConfigSchema } from '../detectors/custom-rules/config.js';
import { MemoryStore } from '../store/memory-store.js';
import { Correlator, checkpointKey } from './correlator.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const SERVICES = ['accounts', 'billing', 'catalog', 'orders', 'search', 'users'];

/** one address failing twice at each of six services within a minute, and other traffic */
function traffic(): ApiCallRecord[] {
  return Array.from({ length: 40 }, (_, k) => {
    const attacker = k < 12;
    return apiCall({
      service: SERVICES[k % SERVICES.length],
      ts: T0 + k * 1000,
      method: 'POST',
      path: '/login',
      route: '/login',
      status: attacker ? 401 : 200,
      source: { ip: attacker ? '203.0.113.7' : `10.0.0.${k}` },
    });
  });
}

const RULE = {
  name: 'failed-logins',
  severity: 'high',
  when: 'status == 401',
  group_by: ['source.ip'],
  threshold: 10,
  window_seconds: 60,
};

/** two correlators of one group, on a bus of four partitions, sharing a store */
async function twoCorrelators(meshCounts: boolean) {
  const bus = new MemoryBus({ partitions: 4 });
  const store = new MemoryStore();
  const repo = new AlertRepository(store);
  const feed = await followAlerts(bus, repo);
  const compiled = customRulesFactory.prepare!(checkConfig('custom_rules', CustomRulesConfigSchema, { rules: [RULE] }));
  const make = () =>
    new Correlator({
      bus,
      store,
      logger: silentLogger,
      createDetectors: () => [customRulesFactory.create(compiled)],
      checkpointIntervalMs: 200,
      meshCounts,
      meshSyncIntervalMs: 50,
    });
  const correlators = [make(), make()];
  for (const c of correlators) await c.start();
  const records = traffic();
  await bus.publish(
    TOPICS.calls,
    records.map((r) => ({ key: r.service, value: JSON.stringify(r) })),
  );
  return {
    repo,
    /** the records the correlators' checkpoints cover */
    checkpointed: async () => {
      let sum = 0;
      for (let p = 0; p < 4; p++) {
        const raw = await store.get(checkpointKey('meshward-correlator', TOPICS.calls, p));
        sum += raw ? (JSON.parse(raw) as { nextOffset: number }).nextOffset : 0;
      }
      return sum;
    },
    close: async () => {
      for (const c of correlators) await c.close();
      await feed.close();
      await bus.close();
    },
  };
}

const until = async (cond: () => Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('custom rules counted across partitions by two correlators', () => {
  it('an address failing at services on different partitions raises one alert with the whole count', async () => {
    // the six services are keyed to three of the four partitions, three at most on one: six failures, below ten
    expect(new Set(SERVICES.map((s) => partitionFor(s, 4))).size).toBe(3);
    const run = await twoCorrelators(true);
    await until(async () => (await run.repo.list({ kind: 'custom_rule' })).items.length > 0);
    // a sync after the first alert must not raise a second one (another shard, another service)
    await new Promise((r) => setTimeout(r, 400));
    const alerts = (await run.repo.list({ kind: 'custom_rule' })).items;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      subject: { type: 'ip', value: '203.0.113.7' },
      labels: { rule: 'failed-logins', group: 'source.ip=203.0.113.7' },
    });
    // signalled when the total reached ten, whichever shares were in by then (it is signalled again at twenty)
    expect(alerts[0].evidence.metrics.requests).toBeGreaterThanOrEqual(10);
    expect(alerts[0].evidence.metrics.requests).toBeLessThanOrEqual(12);
    expect(alerts[0].evidence.metrics.partitions).toBeGreaterThan(1);
    expect(await metricSum('meshward_correlator_mesh_syncs_total', { outcome: 'ok' })).toBeGreaterThan(0);
    await run.close();
  });

  it('counted per partition (count_across_partitions off in effect), no partition sees ten', async () => {
    const run = await twoCorrelators(false);
    // the correlators have read every record: their checkpoints cover the 40 published
    await until(async () => (await run.checkpointed()) === 40);
    expect((await run.repo.list({ kind: 'custom_rule' })).items).toEqual([]);
    await run.close();
  });
});
