import type { Alert } from '../core/alert.js';
import type { ApiCallRecord } from '../core/record.js';
import type { Detector, WindowMetrics } from '../detectors/detector.js';
import { Shard, type ShardOptions } from './shard.js';

export interface ReplayOptions extends ShardOptions {
  detectors: Detector[];
  /** called with windows as they close (e.g. to keep them for charts) */
  onWindows?: (windows: WindowMetrics[]) => void;
}

/**
 * Offline, deterministic correlation: record timestamps are the clock, so the same records in the same order give
 * the same alerts. Returns the final state of every alert, ordered by first firing.
 */
export async function replay(
  records: Iterable<ApiCallRecord> | AsyncIterable<ApiCallRecord>,
  opts: ReplayOptions,
): Promise<Alert[]> {
  const shard = new Shard(opts.detectors, opts);
  const alerts = new Map<string, Alert>();
  let n = 0;
  const drain = () => {
    const out = shard.drain();
    for (const a of out.alerts) alerts.set(a.id, a);
    if (out.windows.length > 0) opts.onWindows?.(out.windows);
  };
  for await (const r of records as AsyncIterable<ApiCallRecord>) {
    shard.process(r);
    if (++n % 1024 === 0) drain();
  }
  drain();
  return [...alerts.values()].sort((a, b) => a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : 1));
}
