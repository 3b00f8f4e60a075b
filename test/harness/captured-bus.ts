import { expect } from 'vitest';
import { type Bus, TOPICS } from '../../pipeline/bus/bus.js';
import { MemoryBus } from '../../pipeline/bus/memory-bus.js';
import type { DeadLetter } from '../../pipeline/collector/record-ingest.js';
import type { Alert } from '../../pipeline/core/alert.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';

/**
 * An in-process bus whose records and dead letters are kept as they arrive: what a receiver in front of the
 * collector's own ingest (`createRecordIngest({ bus })`) made of what it was sent. `settle(calls, dlq)` waits until
 * that many have arrived (the bus delivers in-process within a few ms).
 */
export async function capturedBus(opts: { maxBacklogPerPartition?: number } = {}): Promise<{
  bus: MemoryBus;
  got: { calls: ApiCallRecord[]; dlq: DeadLetter[] };
  settle: (calls: number, dlq: number) => Promise<void>;
}> {
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
  const settle = async (calls: number, dlq: number) => {
    await expect.poll(() => got.calls.length, { timeout: 2000, interval: 5 }).toBe(calls);
    await expect.poll(() => got.dlq.length, { timeout: 2000, interval: 5 }).toBe(dlq);
  };
  return { bus, got, settle };
}

/** POSTs `body` to `url` with a bearer token (and a content type, unless empty); the status and the JSON answer */
export async function postWithToken(url: string, body: string | Uint8Array, contentType: string, token: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(contentType ? { 'content-type': contentType } : {}) },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** the ids of the alerts a topic sink forwarded to `topic` (format json), as they arrive, from the topic's start */
export async function forwardedAlertIds(bus: Bus, topic: string): Promise<{ ids: string[]; close(): Promise<void> }> {
  const ids: string[] = [];
  const sub = await bus.subscribe({
    groupId: `${topic}-reader`,
    topics: [topic],
    fromBeginning: true,
    onBatch: async (b) => {
      for (const m of b.messages) ids.push((JSON.parse(m.value.toString()) as Alert).id);
    },
  });
  return { ids, close: () => sub.close() };
}
