import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BusMessage, TOPICS } from '../../pipeline/bus/bus.js';
import { MemoryBus } from '../../pipeline/bus/memory-bus.js';
import { registry } from '../../pipeline/core/metrics.js';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
import { alertBatchHandler, publishDecisionChanges } from './alert-consumer.js';
import { type PolicyEngine, createPolicyEngine } from './engine.js';
import { parsePolicy } from './policy.js';
import { makeAlert } from './testdata/alerts.js';
import { RecordingAdapter } from './testdata/recording-adapter.js';

const policy = parsePolicy(readFileSync(join(import.meta.dirname, 'testdata/policy.yaml'), 'utf8'));

async function invalidCount(): Promise<number> {
  const m = await registry.getSingleMetric('meshward_policy_alerts_invalid_total')?.get();
  return (m?.values ?? []).reduce((a, v) => a + v.value, 0);
}

async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('engine on the bus', () => {
  let bus: MemoryBus;
  let store: MemoryStore;
  let engine: PolicyEngine;
  let adapter: RecordingAdapter;
  beforeEach(() => {
    bus = new MemoryBus({ partitions: 1, retryDelayMs: 10 });
    store = new MemoryStore();
    adapter = new RecordingAdapter('idp/test', ['revoke_token']);
    engine = createPolicyEngine({
      store,
      policy,
      adapters: { 'idp/test': adapter },
      config: { expiry_interval_ms: 0 },
    });
  });
  afterEach(async () => {
    await engine.close();
    await bus.close();
    await store.close();
  });

  it('consumes alerts (skipping and counting bad messages) and publishes decision changes', async () => {
    const changes: BusMessage[] = [];
    await bus.subscribe({
      groupId: 'watch',
      topics: [TOPICS.decisions],
      fromBeginning: true,
      onBatch: async (b) => {
        changes.push(...b.messages);
      },
    });
    const unpublish = publishDecisionChanges(engine, bus);
    await bus.subscribe({
      groupId: 'policy',
      topics: [TOPICS.alerts],
      fromBeginning: true,
      onBatch: alertBatchHandler(engine),
    });
    const before = await invalidCount();
    const alert = makeAlert({ id: 'bus-alert-1' });
    await bus.publish(TOPICS.alerts, [
      { value: '{not json' },
      { value: JSON.stringify({ ...alert, severity: 'apocalyptic' }) },
      { value: JSON.stringify(alert) },
      { value: JSON.stringify(alert) },
    ]);
    await until(() => changes.length >= 1);
    expect(adapter.applies()).toBe(1);
    expect(await invalidCount()).toBe(before + 2);
    const msg = JSON.parse(changes[0].value.toString());
    expect(msg).toMatchObject({ previousState: null, decision: { alertId: 'bus-alert-1', state: 'active' } });
    expect(changes[0].key).toBe(msg.decision.id);
    unpublish();
  });

  it('leaves out and counts an alert folded into another across partitions', async () => {
    const folded = new Set(['bus-folded']);
    await bus.subscribe({
      groupId: 'policy',
      topics: [TOPICS.alerts],
      fromBeginning: true,
      onBatch: alertBatchHandler(engine, undefined, { folded: async (a) => folded.has(a.id) }),
    });
    const count = async () =>
      ((await registry.getSingleMetric('meshward_policy_alerts_folded_total')?.get())?.values ?? []).reduce(
        (a, v) => a + v.value,
        0,
      );
    const before = await count();
    await bus.publish(TOPICS.alerts, [
      { value: JSON.stringify(makeAlert({ id: 'bus-folded' })) },
      { value: JSON.stringify(makeAlert({ id: 'bus-kept', subject: { type: 'token', value: 'tok-2' } })) },
    ]);
    await until(() => adapter.applies() >= 1);
    expect(await count()).toBe(before + 1);
    expect(adapter.applies()).toBe(1);
    expect((await engine.list({})).map((d) => d.alertId)).toEqual(['bus-kept']);
  });
});
