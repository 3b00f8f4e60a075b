import type { DetectorContext, WindowMetrics } from '../detector.js';

/**
 * A live alert is refreshed at most this often (event time): a flood of evidence costs a signal a second, not one a
 * record (a signal costs several times what the rest of a record's step does). What comes in between is counted, and
 * reported by the next refresh or when its service's metrics window closes (`PendingRefreshes`), whichever is first.
 */
export const REFRESH_MS = 1000;

/**
 * Whether the alert a detector last signalled at `signalledAt` (event time, -1: never) is still open at `ts`: the
 * correlator resolves an alert not signalled for its resolve window. Without one (tests, scenario replays) nothing
 * resolves, and a signalled alert stays live for good.
 */
export function isLive(signalledAt: number, ts: number, ctx: DetectorContext): boolean {
  return signalledAt >= 0 && (ctx.resolveAfterMs === undefined || ts - signalledAt < ctx.resolveAfterMs);
}

/**
 * Whether an event at `ts` opens the count of a new alert rather than adding to the one signalled last at
 * `signalledAt` (-1: none), whose count runs to `lastCounted` (event time of the last event it counts): that alert went
 * quiet (resolved) before `ts`, and every event it counts was reported. Events after that count towards the next
 * alert, so two alerts never count the same events.
 */
export function endedBefore(signalledAt: number, lastCounted: number, ts: number, ctx: DetectorContext): boolean {
  return signalledAt >= 0 && lastCounted <= signalledAt && !isLive(signalledAt, ts, ctx);
}

/**
 * The live alerts of a detector that counted events since their last signal and are not due for a refresh yet
 * (signalled less than REFRESH_MS before): by the detector's key for the alert, the service whose metrics window
 * closing reports them, and what the detector needs to signal again (`value`). Checkpointed with the detector.
 */
export class PendingRefreshes<T> {
  private readonly pending = new Map<string, [service: string, value: T]>();

  /**
   * an event at `ts` counted into a live alert last signalled at `signalledAt`: true when its refresh is due now, and
   * the caller signals the alert with all it counts (it waits no more); otherwise false, and the alert waits for the
   * next event or the close of `service`'s window. `signallable` false (the caller would signal nothing now): a due
   * alert stays as it was. (The signal is not handed in as a closure: one made per event costs an allocation a record.)
   */
  refresh(key: string, service: string, value: T, ts: number, signalledAt: number, signallable = true): boolean {
    if (!this.due(key, service, value, ts, signalledAt) || !signallable) return false;
    this.done(key);
    return true;
  }

  /**
   * `refresh` apart: true when the refresh is due now (the caller signals, then calls `done`); otherwise false, and the
   * alert waits for the next event or the close of `service`'s window
   */
  due(key: string, service: string, value: T, ts: number, signalledAt: number): boolean {
    if (ts - signalledAt >= REFRESH_MS) return true;
    if (!this.pending.has(key)) this.pending.set(key, [service, value]);
    return false;
  }

  /** the alert was signalled with all it counts */
  done(key: string): void {
    if (this.pending.size > 0) this.pending.delete(key);
  }

  /** a window closed: each alert of its service waiting for a refresh is handed to `refresh` (and forgotten) */
  onWindow(w: WindowMetrics, refresh: (key: string, value: T) => void): void {
    if (this.pending.size === 0 || w.endpoint !== undefined) return;
    for (const [key, [service, value]] of this.pending) {
      if (service !== w.service) continue;
      this.pending.delete(key);
      refresh(key, value);
    }
  }

  get size(): number {
    return this.pending.size;
  }

  /** for a checkpoint: `[key, [service, value]]` */
  dump(): [string, [string, T]][] {
    return [...this.pending];
  }

  /** from a checkpoint (absent in one written before the detector refreshed its alerts: nothing waits) */
  load(entries: unknown): void {
    this.pending.clear();
    for (const [key, entry] of (entries ?? []) as [string, [string, T]][]) this.pending.set(key, entry);
  }

  clear(): void {
    this.pending.clear();
  }
}
