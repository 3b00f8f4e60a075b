import type { Alert } from '../core/alert.js';
import type { ApiCallRecord } from '../core/record.js';
import type { Store } from '../store/store.js';

export const evidenceKey = (id: string) => `rec:${id}`;

/**
 * Keeps the most recent records of a partition in a ring, so the records an alert cites can be saved next to it
 * (`rec:<id>`, with a TTL) for analysts. Records are never stored otherwise.
 */
export class EvidenceKeeper {
  private readonly ring: (ApiCallRecord | undefined)[];
  private readonly byId = new Map<string, ApiCallRecord>();
  private next = 0;

  constructor(
    private readonly capacity = 4096,
    private readonly ttlMs = 7 * 24 * 3_600_000,
  ) {
    this.ring = new Array(capacity);
  }

  keep(r: ApiCallRecord): void {
    const old = this.ring[this.next];
    if (old) this.byId.delete(old.id);
    this.ring[this.next] = r;
    this.byId.set(r.id, r);
    this.next = (this.next + 1) % this.capacity;
  }

  async save(store: Store, alerts: Alert[]): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const a of alerts) {
      for (const id of a.evidence.recordIds) {
        const r = this.byId.get(id);
        if (r) writes.push(store.setIfAbsent(evidenceKey(id), JSON.stringify(r), this.ttlMs));
      }
    }
    await Promise.all(writes);
  }
}

export async function loadEvidence(store: Store, ids: string[]): Promise<unknown[]> {
  const raw = await store.mget(ids.map(evidenceKey));
  return raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r));
}
