import { type Peers, peerName } from './peer-mix.js';

/**
 * How many of the services each caller calls (counted over an inventory's entries and their callers), so the callers
 * of an endpoint weigh as evidence of its application by how specific they are, as a word by its IDF: ln(N / f) / ln N
 * for a caller of f of the N services (1 for a caller of one service among many, 0 for a gateway that calls them
 * all; peer_prior). Built whole from an inventory (bounded: at most 50,000 endpoints of 32 callers by default), so
 * unbounded itself.
 */
export class CallerFanout {
  private readonly callees = new Map<string, Set<string>>();
  private readonly services = new Set<string>();

  /** `service` called by `caller` (without a caller: the service counts among the N) */
  note(caller: string | undefined, service: string): void {
    this.services.add(service);
    if (!caller) return;
    const set = this.callees.get(caller);
    if (!set) this.callees.set(caller, new Set([service]));
    else set.add(service);
  }

  /** a caller's weight as evidence: ln(N / f) / ln N, f its callees (at least 1), N the services seen (1 when N < 2) */
  weight(caller: string): number {
    const n = this.services.size;
    if (n < 2) return 1;
    const f = Math.min(n, Math.max(1, this.callees.get(caller)?.size ?? 1));
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
