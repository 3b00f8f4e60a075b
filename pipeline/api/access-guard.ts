import { LRUCache } from 'lru-cache';
import { counter } from '../core/metrics.js';
import type { Store } from '../store/store.js';

/** the store log of access events: refused requests and every change made through the API */
export const ACCESS_LOG = 'access';

export interface AccessEvent {
  ts: number;
  ip: string;
  method: string;
  /** the route pattern, e.g. /v1/decisions/:id/approve (never the query string: it may carry secrets) */
  route: string;
  /** who, when authenticated */
  principal?: string;
  role?: string;
  outcome: 'refused' | 'throttled' | 'ok' | 'failed';
  status: number;
  code?: string;
}

const throttled = counter(
  'meshward_api_auth_throttled_total',
  'requests refused because their address failed to authenticate too often',
);
const auditFailures = counter('meshward_api_access_log_failures_total', 'access events that could not be written');

/**
 * Failed authentication attempts per client address in a sliding minute (bounded LRU of addresses). Past the limit
 * the address gets 429 until its failures age out, so a key cannot be guessed at line rate.
 */
export class AuthThrottle {
  private readonly failures: LRUCache<string, number[]>;

  constructor(
    private readonly maxPerMinute = 20,
    maxAddresses = 50_000,
    private readonly clock: () => number = Date.now,
  ) {
    this.failures = new LRUCache({ max: maxAddresses });
  }

  private recent(ip: string): number[] {
    const now = this.clock();
    const list = (this.failures.get(ip) ?? []).filter((t) => now - t < 60_000);
    if (list.length > 0) this.failures.set(ip, list);
    else this.failures.delete(ip);
    return list;
  }

  blocked(ip: string): boolean {
    const b = this.recent(ip).length >= this.maxPerMinute;
    if (b) throttled.inc();
    return b;
  }

  /** whole seconds until a blocked address may try again: when enough of its failures have left the minute */
  retryAfterSeconds(ip: string): number {
    const list = this.recent(ip);
    const leaving = list[list.length - this.maxPerMinute];
    if (leaving === undefined) return 1;
    return Math.max(1, Math.ceil((leaving + 60_000 - this.clock()) / 1000));
  }

  fail(ip: string): void {
    const list = this.recent(ip);
    list.push(this.clock());
    this.failures.set(ip, list);
  }
}

/**
 * writes access events to the store's `access` log, which keeps about the newest `maxEntries` (refused requests come
 * at an attacker's rate); never throws (an outage is counted)
 */
export function storeAccessLog(store: Store, maxEntries: number): (e: AccessEvent) => Promise<void> {
  return async (e) => {
    try {
      await store.append(ACCESS_LOG, JSON.stringify(e), { maxLen: maxEntries });
    } catch {
      auditFailures.inc();
    }
  };
}
