import { describe, expect, it } from 'vitest';
import type { BusBatch } from './bus.js';
import { registry } from '../core/metrics.js';
import { MemoryBus } from './memory-bus.js';

const waitFor = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('MemoryBus', () => {
  it('delivers keyed messages in order per partition and commits after the handler resolves', async () => {
    const bus = new MemoryBus({ partitions: 3 });
    const seen: string[] = [];
    const sub = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      onBatch: async (b: BusBatch) => {
        for (const m of b.messages) seen.push(`${m.key}:${m.value.toString()}`);
      },
    });
    await bus.publish('t', [
      { key: 'a', value: '1' },
      { key: 'b', value: '1' },
      { key: 'a', value: '2' },
    ]);
    await waitFor(() => seen.length === 3);
    expect(seen.filter((s) => s.startsWith('a:'))).toEqual(['a:1', 'a:2']);
    await waitFor(() => true);
    expect((await sub.lag()).reduce((n, l) => n + l.lag, 0)).toBe(0);
    await sub.close();
    await bus.close();
  });

  it('redelivers a batch whose handler threw, and holds uncommitted batches (false) for a later commit', async () => {
    const bus = new MemoryBus({ partitions: 1, retryDelayMs: 5 });
    let calls = 0;
    const got: string[] = [];
    const sub = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      onBatch: async (b) => {
        calls++;
        if (calls === 1) throw new Error('transient');
        for (const m of b.messages) got.push(m.value.toString());
        return false;
      },
    });
    await bus.publish('t', [{ key: 'k', value: 'x' }]);
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['x']);
    // not committed: lag stays at 1
    expect((await sub.lag())[0].lag).toBe(1);
    await sub.close();
    // a new member of the same group replays the uncommitted message
    const again: string[] = [];
    const sub2 = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      onBatch: async (b) => {
        for (const m of b.messages) again.push(m.value.toString());
      },
    });
    await waitFor(() => again.length === 1);
    await sub2.close();
    await bus.close();
  });

  it('answers BUS_SATURATED when a partition backlog is full, and recovers once consumed', async () => {
    const bus = new MemoryBus({ partitions: 1, maxBacklogPerPartition: 2 });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let n = 0;
    const sub = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      onBatch: async (b) => {
        await gate;
        n += b.messages.length;
      },
    });
    await bus.publish('t', [{ key: 'k', value: '1' }]);
    await bus.publish('t', [{ key: 'k', value: '2' }]);
    await expect(bus.publish('t', [{ key: 'k', value: '3' }])).rejects.toMatchObject({ code: 'MW_ERR_BUS_SATURATED' });
    open();
    await waitFor(() => n === 2);
    await bus.publish('t', [{ key: 'k', value: '3' }]);
    await waitFor(() => n === 3);
    await sub.close();
    await bus.close();
  });

  it('a topic no group reads (the DLQ in one process) keeps only its newest messages, counting the rest', async () => {
    const bus = new MemoryBus({ partitions: 1, maxBacklogPerPartition: 3, maxUnreadBytesPerPartition: 10 });
    const droppedNow = async () =>
      (await registry.getSingleMetric('meshward_bus_unread_dropped_total')?.get())?.values.find(
        (v) => v.labels.topic === 'dlq',
      )?.value ?? 0;
    const before = await droppedNow();
    // never saturated (no reader will make room), bounded by count and by bytes
    for (let i = 0; i < 5; i++) await bus.publish('dlq', [{ key: 'k', value: `m${i}` }]);
    await bus.publish('dlq', [{ key: 'k', value: 'big-0123' }]);
    expect(await droppedNow()).toBe(before + 4);
    // what is kept is there for a group that subscribes later from the beginning
    const got: string[] = [];
    const sub = await bus.subscribe({
      groupId: 'late',
      topics: ['dlq'],
      fromBeginning: true,
      onBatch: async (b) => void got.push(...b.messages.map((m) => m.value.toString())),
    });
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['m4', 'big-0123']);
    await sub.close();
    await bus.close();
  });

  it('splits partitions between two members of a group and reassigns when one leaves', async () => {
    const bus = new MemoryBus({ partitions: 4 });
    const assignedA: number[] = [];
    const revokedA: number[] = [];
    const a = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      onBatch: async () => {},
      onAssign: async (tps) => void assignedA.push(...tps.map((t) => t.partition)),
      onRevoke: async (tps) => void revokedA.push(...tps.map((t) => t.partition)),
    });
    expect(assignedA.sort()).toEqual([0, 1, 2, 3]);
    const assignedB: number[] = [];
    const b = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      onBatch: async () => {},
      onAssign: async (tps) => void assignedB.push(...tps.map((t) => t.partition)),
    });
    expect(revokedA.length).toBe(2);
    expect(assignedB.sort()).toEqual(revokedA.sort());
    await b.close();
    expect(assignedA.length).toBe(6);
    await a.close();
    await bus.close();
  });
});
