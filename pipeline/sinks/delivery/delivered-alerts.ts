import type { Logger } from '../../core/logger.js';
import { counter } from '../../core/metrics.js';
import type { Store } from '../../store/store.js';
import type { DeliveredVersion } from './delivery-reason.js';

const storeErrors = counter(
  'meshward_sink_store_errors_total',
  'look-ups, claims or writes of what a sink delivered that the store failed (the alerts were delivered all the same)',
  ['sink'],
);

const HOUR = 3_600_000;

export interface DeliveredAlertsLimits {
  /** entries of alerts delivered resolved are forgotten this long after (ms, default a day) */
  resolvedKeepMs?: number;
  /** at most this many entries are kept after a prune, the oldest delivered dropped first (default 50,000) */
  maxEntries?: number;
  /** prune at most this often (ms, default an hour) */
  pruneEveryMs?: number;
}

/**
 * What one sink delivered of each alert, in the store (hash `sink-delivered:<sink>`, field alert id → JSON
 * {state, severity, at}), so a restart, or another API replica the sink's consumer group moves to, knows it.
 * Bounded: at most once an hour (per process) the entries of alerts delivered resolved over a day ago are forgotten,
 * then the oldest delivered beyond 50,000 entries; one that comes back counts as new.
 * Before it delivers a change, a replica claims it (key `sink-claim:<sink>:<alert id>:<claim>`, a TTL beyond the
 * sink's retry budget), so two replicas that read the same change before either wrote it down (a batch read twice
 * during a rebalance) deliver it once.
 * A store that fails never costs an alert: a look-up that fails reads as "never delivered", a claim that fails as
 * got (fail open), a write that fails is skipped; all are counted (meshward_sink_store_errors_total) and logged
 * once per run of failures.
 */
export class DeliveredAlerts {
  private readonly key: string;
  private readonly resolvedKeepMs: number;
  private readonly maxEntries: number;
  private readonly pruneEveryMs: number;
  private failing = false;
  private lastPruneAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly sink: string,
    private readonly logger: Logger,
    private readonly now: () => number,
    limits: DeliveredAlertsLimits = {},
  ) {
    this.key = `sink-delivered:${sink}`;
    this.resolvedKeepMs = limits.resolvedKeepMs ?? 24 * HOUR;
    this.maxEntries = limits.maxEntries ?? 50_000;
    this.pruneEveryMs = limits.pruneEveryMs ?? HOUR;
  }

  /** what was delivered of these alerts (absent: never, or the store could not say); one round trip */
  async lookup(alertIds: string[]): Promise<Map<string, DeliveredVersion>> {
    const ids = [...new Set(alertIds)];
    const found = new Map<string, DeliveredVersion>();
    try {
      const values = await this.store.hmget(this.key, ids);
      this.answered();
      ids.forEach((id, i) => {
        const v = parse(values[i]);
        if (v) found.set(id, v);
      });
    } catch (err) {
      this.failed(err, 'look-up');
    }
    return found;
  }

  /**
   * true when this replica may deliver the change `claim` names (it set the claim, or the store failed); false when
   * another replica claimed it first. One round trip
   */
  async claim(alertId: string, claim: string, ttlMs: number): Promise<boolean> {
    try {
      const got = await this.store.setIfAbsent(this.claimKey(alertId, claim), '1', ttlMs);
      this.answered();
      return got;
    } catch (err) {
      this.failed(err, 'claim');
      return true;
    }
  }

  /** after a failed delivery, so a later read of the change may deliver it */
  async release(alertId: string, claim: string): Promise<void> {
    try {
      await this.store.del(this.claimKey(alertId, claim));
      this.answered();
    } catch (err) {
      this.failed(err, 'claim release');
    }
  }

  /** after a successful delivery */
  async remember(alertId: string, version: DeliveredVersion): Promise<void> {
    try {
      await this.store.hset(this.key, alertId, JSON.stringify(version));
      this.answered();
    } catch (err) {
      this.failed(err, 'write');
    }
  }

  /** forgets old entries when the last prune is an hour old; returns how many it forgot */
  async pruneIfDue(): Promise<number> {
    const now = this.now();
    if (now - this.lastPruneAt < this.pruneEveryMs) return 0;
    this.lastPruneAt = now;
    try {
      const all = Object.entries(await this.store.hgetall(this.key));
      const drop: string[] = [];
      const kept: [string, number][] = [];
      for (const [id, raw] of all) {
        const v = parse(raw);
        if (!v || (v.state === 'resolved' && now - v.at > this.resolvedKeepMs)) drop.push(id);
        else kept.push([id, v.at]);
      }
      if (kept.length > this.maxEntries) {
        kept.sort((a, b) => a[1] - b[1]);
        for (const [id] of kept.slice(0, kept.length - this.maxEntries)) drop.push(id);
      }
      await Promise.all(drop.map((id) => this.store.hdel(this.key, id)));
      this.answered();
      return drop.length;
    } catch (err) {
      this.failed(err, 'prune');
      return 0;
    }
  }

  private claimKey(alertId: string, claim: string): string {
    return `sink-claim:${this.sink}:${alertId}:${claim}`;
  }

  private answered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.info({ sink: this.sink }, 'sink: the store answers again; unchanged alerts are skipped again');
  }

  private failed(err: unknown, what: string): void {
    storeErrors.inc({ sink: this.sink });
    if (this.failing) return;
    this.failing = true;
    this.logger.warn(
      { sink: this.sink, err: (err as Error).message },
      `sink: the store failed a ${what} of what this sink delivered; alert changes are delivered, not skipped, while it fails`,
    );
  }
}

function parse(raw: string | null): DeliveredVersion | undefined {
  if (raw === null) return undefined;
  try {
    const v = JSON.parse(raw) as DeliveredVersion;
    return typeof v?.at === 'number' && typeof v.state === 'string' && typeof v.severity === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
