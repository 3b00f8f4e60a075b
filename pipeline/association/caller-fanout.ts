import { LRUCache } from 'lru-cache';
import { type Peers, peerName } from './peer-mix.js';

/** callers whose callees are counted (those seen last), callees counted per caller, services counted in all */
export const FANOUT_MAX_CALLERS = 4096;
export const FANOUT_MAX_CALLEES = 1024;
export const FANOUT_MAX_SERVICES = 65_536;

/**
 * How many of the services each caller calls (counted over an inventory's entries and their callers), so the callers
 * of an endpoint weigh as evidence of its application by how specific they are, as a word by its IDF: ln(N / f) / ln N
 * for a caller of f of the N services (1 for a caller of one service among many, 0 for a gateway that calls them
 * all; peer_prior).
 */
export class CallerFanout {
  private readonly callees = new LRUCache<string, Set<string>>({ max: FANOUT_MAX_CALLERS });
  private readonly services = new Set<string>();

  /** `service` called by `caller` (without a caller: the service counts among the N) */
  note(caller: string | undefined, service: string): void {
    if (this.services.size < FANOUT_MAX_SERVICES) this.services.add(service);
    if (!caller) return;
    const set = this.callees.get(caller);
    if (!set) this.callees.set(caller, new Set([service]));
    else if (set.size < FANOUT_MAX_CALLEES) set.add(service);
  }

  /** a caller's weight as evidence: ln(N / f) / ln N, f its callees (at least 1), N the services seen (1 when N < 2) */
  weight(caller: string): number {
    const n = this.services.size;
    if (n < 2) return 1;
    const f = Math.min(n, Math.max(1, this.callees.peek(caller)?.size ?? 1));
    return Math.log(n / f) / Math.log(n);
  }

  /** an endpoint's callers as peers (a caller named twice keeps its larger weight) */
  peers(callers: readonly string[]): Peers {
    const out: Record<string, number> = {};
    for (const c of callers) {
      const name = peerName(c);
      if (name) out[name] = Math.max(out[name] ?? 0, this.weight(c));
    }
    return out;
  }
}
