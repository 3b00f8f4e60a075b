import type { Store } from '../store/store.js';

/** per sensor, the records the collectors accepted (hincr by each collector at each flush) */
const RECORDS_KEY = 'sensors:records';
/**
 * per sensor, the latest receipt time (epoch ms) a collector flushed. Written with hsetMax: a collector flushing an
 * older time after another flushed a newer one does not move it back
 */
const LAST_SEEN_KEY = 'sensors:last_seen';
/** per sensor token id, the latest time (epoch ms) a batch posted with it had a record accepted (hsetMax, as above) */
const TOKEN_LAST_SEEN_KEY = 'sensors:tokens_last_seen';

/** kind and id are what a sensor sent: a JSON pair keeps any characters in either apart */
const fieldOf = (kind: string, id: string) => JSON.stringify([kind, id]);

export interface SensorActivityWrite {
  kind: string;
  id: string;
  /** accepted since the last flush (0: only the last receipt time is written) */
  records: number;
  /** epoch ms */
  lastAt: number;
}

/** per write and store call: true, or the error the call failed with */
export interface SensorActivityWritten {
  records: unknown;
  lastSeen: unknown;
}

/** a store call as true, or the error it failed with (thrown or rejected): a flush never rejects */
function settled(f: () => Promise<unknown>): Promise<unknown> {
  try {
    return f().then(
      () => true as const,
      (err: unknown) => err ?? new Error('store call failed'),
    );
  } catch (err) {
    return Promise.resolve(err ?? new Error('store call failed'));
  }
}

/** a receipt time as written (epoch ms), or undefined for a value Date cannot hold (no collector wrote it) */
function receiptTime(at: string): number | undefined {
  const t = Number(at);
  return Number.isFinite(t) && t >= 0 && t <= MAX_DATE_MS ? t : undefined;
}

/** writes all the sensors at once (no call waits for another); never rejects */
export async function writeSensorActivity(
  store: Store,
  writes: readonly SensorActivityWrite[],
): Promise<SensorActivityWritten[]> {
  return Promise.all(
    writes.map(async (w) => {
      const field = fieldOf(w.kind, w.id);
      const [records, lastSeen] = await Promise.all([
        w.records > 0 ? settled(() => store.hincr(RECORDS_KEY, field, w.records)) : (true as const),
        settled(() => store.hsetMax(LAST_SEEN_KEY, field, w.lastAt)),
      ]);
      return { records, lastSeen };
    }),
  );
}

/** the token ids that posted accepted records, with the latest such time (epoch ms); never rejects */
export function writeTokensSeen(store: Store, tokens: ReadonlyMap<string, number>): Promise<unknown[]> {
  return Promise.all([...tokens].map(([id, at]) => settled(() => store.hsetMax(TOKEN_LAST_SEEN_KEY, id, at))));
}

/** sensor token id → the latest time (epoch ms) a collector flushed a batch of it with accepted records */
export async function readTokensSeen(store: Store): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [id, at] of Object.entries(await store.hgetall(TOKEN_LAST_SEEN_KEY))) {
    const t = receiptTime(at);
    if (t !== undefined) out.set(id, t);
  }
  return out;
}

export interface SensorSeen {
  kind: string;
  id: string;
  /** epoch ms */
  lastSeen: number;
  records: number;
}

/** every sensor a collector flushed, by kind then id */
export async function readSensorActivity(store: Store): Promise<SensorSeen[]> {
  const [counts, lastSeen] = await Promise.all([store.hgetall(RECORDS_KEY), store.hgetall(LAST_SEEN_KEY)]);
  const seen: SensorSeen[] = [];
  for (const [field, at] of Object.entries(lastSeen)) {
    let pair: unknown;
    try {
      pair = JSON.parse(field);
    } catch {
      continue;
    }
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') continue;
    const lastAt = receiptTime(at);
    if (lastAt === undefined) continue;
    seen.push({ kind: pair[0], id: pair[1], lastSeen: lastAt, records: Number(counts[field] ?? 0) || 0 });
  }
  return seen.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.id, b.id));
}

/** a sensor's latest receipt time as flushed (epoch ms), undefined once it is forgotten (or was never seen) */
export async function readSensorLastSeen(store: Store, kind: string, id: string): Promise<number | undefined> {
  const at = await store.hget(LAST_SEEN_KEY, fieldOf(kind, id));
  return at === null ? undefined : receiptTime(at);
}

/**
 * forget the sensors no collector has flushed since `before` (epoch ms): both their entries are deleted, so the two
 * hashes (read whole by GET /v1/admin/sensors) do not grow with every sensor id ever seen. Returns how many
 */
export async function forgetSensorsQuietSince(store: Store, before: number): Promise<number> {
  let forgotten = 0;
  // a sensor's two entries go together; a token's one
  for (const [key, alongside] of [
    [LAST_SEEN_KEY, RECORDS_KEY],
    [TOKEN_LAST_SEEN_KEY, undefined],
  ] as const) {
    for (const [field, at] of Object.entries(await store.hgetall(key))) {
      if ((receiptTime(at) ?? Number.NEGATIVE_INFINITY) >= before) continue;
      await store.hdel(key, field);
      if (alongside) await store.hdel(alongside, field);
      forgotten++;
    }
  }
  return forgotten;
}

const MAX_DATE_MS = 8.64e15;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
