import type { Decision } from '../../pipeline/core/decision.js';

/** Handlers a decision feed drives (the analyst API's `GET /v1/decisions/stream` NDJSON feed, or a test). */
export interface DecisionHandlers {
  onUpsert(decision: Decision): void;
  onRemove(id: string): void;
}

/**
 * Follows a decision feed: the signature of `followDecisions` in policy-actions/engine/decision-feed-client.ts,
 * injected so this sensor does not depend on how the feed is read.
 */
export type FollowDecisions = (
  url: string,
  opts: { token?: string } & DecisionHandlers,
) => { close(): Promise<void> | void } | { stop(): Promise<void> | void };

export interface RequestSubject {
  tokenHash?: string;
  sub?: string;
  ip?: string;
  service: string;
  /** `METHOD /route/template` when routed */
  endpoint?: string;
}

const key = (scope: string, value: string) => `${scope}\u0000${value}`;

/**
 * The decisions in force at this gateway, indexed by scope and value so a request costs a few Map lookups.
 * Simulated decisions and decisions not `active` are kept out; expiry (`until`) is checked at lookup.
 */
export class DecisionView implements DecisionHandlers {
  private readonly byId = new Map<string, Decision>();
  private readonly index = new Map<string, Map<string, Decision>>();
  private tokenScoped = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.byId.size;
  }

  /** true when some decision is keyed by token hash (otherwise requests need not be hashed to enforce) */
  hasTokenDecisions(): boolean {
    return this.tokenScoped > 0;
  }

  onUpsert = (d: Decision): void => {
    this.onRemove(d.id);
    if (d.simulated || d.state !== 'active') return;
    if (d.type !== 'deny' && d.type !== 'step_up') return;
    this.byId.set(d.id, d);
    const k = key(d.scope, d.value);
    let m = this.index.get(k);
    if (!m) {
      m = new Map();
      this.index.set(k, m);
    }
    m.set(d.id, d);
    if (d.scope === 'token') this.tokenScoped++;
  };

  onRemove = (id: string): void => {
    const d = this.byId.get(id);
    if (!d) return;
    this.byId.delete(id);
    const k = key(d.scope, d.value);
    const m = this.index.get(k);
    m?.delete(id);
    if (m && m.size === 0) this.index.delete(k);
    if (d.scope === 'token') this.tokenScoped--;
  };

  /** the first deny decision that applies to this request */
  deny(s: RequestSubject): Decision | undefined {
    if (this.byId.size === 0) return undefined;
    return (
      (s.tokenHash && this.find('token', s.tokenHash, 'deny', s)) ||
      (s.sub && this.find('user', s.sub, 'deny', s)) ||
      (s.ip && this.find('ip', s.ip, 'deny', s)) ||
      this.find('service', s.service, 'deny', s) ||
      (s.endpoint && this.find('route', s.endpoint, 'deny', s)) ||
      undefined
    );
  }

  /** the newest step_up decision for this user that applies to this request */
  stepUp(s: RequestSubject): Decision | undefined {
    if (this.byId.size === 0 || !s.sub) return undefined;
    return this.find('user', s.sub, 'step_up', s);
  }

  private find(scope: string, value: string, type: Decision['type'], s: RequestSubject): Decision | undefined {
    const m = this.index.get(key(scope, value));
    if (!m) return undefined;
    const now = this.now();
    let best: Decision | undefined;
    for (const d of m.values()) {
      // an active decision always has its end; one without is not in force
      if (d.type !== type || (d.until ?? 0) <= now) continue;
      if (d.service && d.service !== s.service) continue;
      if (d.route && d.route !== s.endpoint) continue;
      if (!best || d.updatedAt > best.updatedAt) best = d;
    }
    return best;
  }
}
