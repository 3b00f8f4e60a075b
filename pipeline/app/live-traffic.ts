import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from '../core/logger.js';
import type { ApiCallRecord } from '../core/record.js';
import { ALL_KINDS } from '../simulate/anomalies/index.js';
import { simulate } from '../simulate/simulate.js';

export interface LiveTrafficOptions {
  collectorUrl: string;
  token: string;
  logger: Logger;
  /** front-end requests per second (default 8) */
  rps?: number;
  /** history replayed at start so baselines exist (default 3 h) */
  backfillMs?: number;
  /** a labelled anomaly is injected this often while live (default 4 min) */
  anomalyEveryMs?: number;
  seed?: number;
  /**
   * where the time up to which traffic was posted is kept: a restart with the same data directory continues from
   * there (its history covers only the time it was down, at most backfillMs) instead of replaying hours its restored
   * state has already seen
   */
  progressFile?: string;
}

/** the time up to which an earlier run posted traffic, or 0 */
function postedUntil(file: string | undefined): number {
  if (!file || !existsSync(file)) return 0;
  try {
    const until = (JSON.parse(readFileSync(file, 'utf8')) as { until?: unknown }).until;
    return typeof until === 'number' && Number.isFinite(until) ? until : 0;
  } catch {
    return 0;
  }
}

const CHUNK_MS = 10_000;

/**
 * Demo traffic for `meshward start --demo`, posted to the collector like a real sensor: first a few hours of history
 * in fast-forward (so baselines are learned and the first alerts are there at once), then live traffic every 10
 * seconds, the calls of the 10 seconds just past, with a simulated anomaly of a rotating kind every few minutes.
 */
export function startLiveTraffic(opts: LiveTrafficOptions): { stop: () => Promise<void> } {
  const rps = opts.rps ?? 8;
  const seed = opts.seed ?? Date.now() % 100_000;
  const every = opts.anomalyEveryMs ?? 4 * 60_000;
  let stopped = false;
  let kindIndex = 0;
  let running: Promise<void> = Promise.resolve();

  const markPosted = (until: number) => {
    if (!opts.progressFile || stopped) return;
    try {
      writeFileSync(opts.progressFile, JSON.stringify({ until }));
    } catch (err) {
      opts.logger.warn({ err: (err as Error).message }, 'demo traffic: progress not saved');
    }
  };

  const post = async (records: ApiCallRecord[]) => {
    for (let i = 0; i < records.length && !stopped; i += 1000) {
      const batch = records.slice(i, i + 1000);
      for (let attempt = 0; attempt < 30 && !stopped; attempt++) {
        try {
          const res = await fetch(`${opts.collectorUrl}/v1/records`, {
            method: 'POST',
            headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
            body: JSON.stringify(batch),
          });
          await res.arrayBuffer();
          if (res.ok) break;
          if (res.status !== 429 && res.status !== 503) {
            opts.logger.warn({ status: res.status }, 'demo traffic: collector refused a batch');
            break;
          }
        } catch (err) {
          opts.logger.warn({ err: (err as Error).message }, 'demo traffic: collector unreachable, retrying');
        }
        await sleep(500);
      }
    }
  };

  const loop = async () => {
    const now = Date.now();
    // from a minute boundary: a first window cut short would read as a traffic drop to a baseline restored from an
    // earlier run's data directory; from where an earlier run stopped when that is later
    const earliest = Math.floor((now - (opts.backfillMs ?? 3 * 3_600_000)) / 60_000) * 60_000;
    const from = Math.min(now, Math.max(earliest, postedUntil(opts.progressFile)));
    const resumed = from > earliest;
    const history = simulate({
      seed,
      start: from,
      durationMs: now - from,
      rps,
      warmupShare: 0.75,
      // a fresh start shows a few attacks at once; a resumed one has its alerts in the data directory already
      anomalies: resumed
        ? []
        : ['error_burst', 'enumeration', 'credential_stuffing', 'plaintext_hop', 'unauthenticated_access'].map(
            (kind) => ({ kind }),
          ),
    });
    await post(history.records);
    markPosted(now);
    opts.logger.info(
      { records: history.records.length, anomalies: history.labels.length, resumed },
      'demo traffic: history replayed',
    );
    let t = now;
    let nextAnomaly = now + 60_000;
    while (!stopped) {
      const anomalies = [];
      if (t >= nextAnomaly) {
        anomalies.push({ kind: ALL_KINDS[kindIndex++ % ALL_KINDS.length], at: t, durationMs: 60_000 });
        nextAnomaly = t + every;
      }
      // an anomaly gets a whole minute of its own so windowed detectors can see it
      const len = anomalies.length > 0 ? 60_000 : CHUNK_MS;
      const chunk = simulate({ seed: seed + Math.floor(t / CHUNK_MS), start: t, durationMs: len, rps, anomalies });
      // as a sensor reports calls once they happened: each 10 s of the chunk once its time has passed (a record
      // posted ahead of its time reads as seen in the future)
      let next = 0;
      for (let until = t + CHUNK_MS; until <= t + len && !stopped; until += CHUNK_MS) {
        const wait = until - Date.now();
        if (wait > 0) await sleep(wait, () => stopped);
        const last = until === t + len;
        let end = next;
        while (end < chunk.records.length && (last || chunk.records[end].ts < until)) end++;
        await post(chunk.records.slice(next, end));
        next = end;
        markPosted(until);
      }
      t += len;
    }
  };
  running = loop().catch((err) => opts.logger.error({ err }, 'demo traffic stopped'));
  return {
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

async function sleep(ms: number, cancelled?: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cancelled?.()) return;
    await new Promise((r) => setTimeout(r, Math.min(250, end - Date.now())));
  }
}
