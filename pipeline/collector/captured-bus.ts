import { TOPICS } from '../bus/bus.js';
import { MemoryBus } from '../bus/memory-bus.js';
import type { ApiCallRecord } from '../core/record.js';
import type { DeadLetter } from './record-ingest.js';

/**
 * An in-process bus whose records and dead letters are kept as they arrive: what a receiver in front of the
 * collector's own ingest (`createRecordIngest({ bus })`) made of what it was sent. For tests.
 */
export async function capturedBus(
  opts: { maxBacklogPerPartition?: number } = {},
): Promise<{ bus: MemoryBus; got: { calls: ApiCallRecord[]; dlq: DeadLetter[] } }> {
  const bus = new MemoryBus({ partitions: 1, ...opts });
  const got = { calls: [] as ApiCallRecord[], dlq: [] as DeadLetter[] };
  await bus.subscribe({
    groupId: 'calls',
    topics: [TOPICS.calls],
    onBatch: async (b) => void got.calls.push(...b.messages.map((m) => JSON.parse(m.value.toString()))),
  });
  await bus.subscribe({
    groupId: 'dlq',
    topics: [TOPICS.callsDlq],
    onBatch: async (b) => void got.dlq.push(...b.messages.map((m) => JSON.parse(m.value.toString()))),
  });
  return { bus, got };
}
