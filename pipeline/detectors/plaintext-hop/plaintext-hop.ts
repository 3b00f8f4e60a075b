import type { AlertSubject } from '../../core/alert.js';
import { durationText } from '../../core/duration-text.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext, WindowMetrics } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { endedBefore, isLive, PendingRefreshes } from '../shared/live-alert.js';
import { appendTo, callerOf, pushEvidence } from '../shared/record-fields.js';
import type { PlaintextHopConfig } from './config.js';

/** one (caller, destination) pair's plaintext calls: those its alert counts, and when its last alert was raised */
interface PlaintextPair {
  service: string;
  caller: AlertSubject;
  /** event time of the last alert raised, -1 none */
  alertedAt: number;
  /**
   * the plaintext calls its alert counts: since the first, or since its last alert went quiet (no call for the resolve
   * window); the event time of the first and the last of them
   */
  calls: number;
  from: number;
  to: number;
  /** event time of its alert's last signal (raised or refreshed), -1 none */
  signalledAt: number;
  /** the endpoints they called, up to MAX_ENDPOINTS, first first */
  endpoints: string[];
  evidence: string[];
  /** what the last of them carried: source.mtls (absent: null) and whether a principal */
  mtls: boolean | null;
  principal: boolean;
}

const MAX_ENDPOINTS = 8;

const newPair = (service: string, caller: AlertSubject): PlaintextPair => ({
  service,
  caller,
  alertedAt: -1,
  calls: 0,
  from: -1,
  to: -1,
  signalledAt: -1,
  endpoints: [],
  evidence: [],
  mtls: null,
  principal: false,
});

/**
 * A pair from a checkpoint. The previous version kept the event time of the pair's last alert alone: that alert is
 * taken to count the call that raised it (the later ones were not counted), the caller a principal when its name is a
 * SPIFFE id (callerOf prefers the service name).
 */
function restoredPair(key: string, p: PlaintextPair | number): PlaintextPair {
  if (typeof p !== 'number') return p;
  const sep = key.indexOf('\u0000');
  const caller = key.slice(0, sep);
  return {
    service: key.slice(sep + 1),
    caller: { type: caller.startsWith('spiffe://') ? 'principal' : 'service', value: caller },
    alertedAt: p,
    calls: 1,
    from: p,
    to: p,
    signalledAt: p,
    endpoints: [],
    evidence: [],
    mtls: null,
    principal: false,
  };
}

/**
 * Service-to-service calls without mutual TLS (NIST SP 800-204A SM-DR6: service-to-service traffic is authenticated
 * and encrypted with mTLS). A call is a hop when the caller is a workload (source.service or principal known); it is
 * plaintext when `source.mtls` is not true.
 *
 * One alert per (source, destination) pair, raised at its first plaintext call and refreshed by the later ones (at
 * most once a second of event time, the rest when the destination's metrics window closes), so it stays open while
 * they go on and says how many, from when to when, to which endpoints. Once they stop for the resolve window the alert
 * resolves; the calls after that count towards the pair's next alert, raised no sooner than realert_ms after the
 * previous one was raised.
 */
export class PlaintextHopDetector implements Detector {
  readonly type = 'plaintext_hop';
  private readonly pairs: BoundedMap<string, PlaintextPair>;
  private readonly allowed: Set<string>;
  /** pairs (by key) whose live alert counted calls it does not report yet: their destination, and caller */
  private readonly unreported = new PendingRefreshes<string>();
  private seen = 0;

  constructor(private readonly config: PlaintextHopConfig) {
    this.pairs = new BoundedMap(config.max_pairs);
    this.allowed = new Set(config.allowed_callers);
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    if (r.source.mtls === true) return;
    const caller = callerOf(r);
    if (!caller || this.allowed.has(caller.value) || (r.source.principal && this.allowed.has(r.source.principal)))
      return;
    this.seen++;
    const key = `${caller.value}\u0000${r.service}`;
    let p = this.pairs.get(key, r.ts);
    if (p === undefined) {
      p = newPair(r.service, caller);
      this.pairs.set(key, p, r.ts);
    }
    if (endedBefore(p.signalledAt, p.to, r.ts, ctx)) {
      // the last alert went quiet: this call opens the count of the next one
      p.calls = 0;
      p.endpoints = [];
      p.evidence = [];
    }
    if (p.calls++ === 0) p.from = r.ts;
    p.to = r.ts;
    const endpoint = ctx.endpointOf(r);
    if (p.endpoints.length < MAX_ENDPOINTS && !p.endpoints.includes(endpoint))
      p.endpoints = appendTo(p.endpoints, endpoint);
    p.evidence = pushEvidence(p.evidence, r.id);
    p.mtls = r.source.mtls ?? null;
    p.principal = r.source.principal !== undefined;
    if (isLive(p.signalledAt, r.ts, ctx)) {
      if (this.unreported.refresh(key, r.service, caller.value, r.ts, p.signalledAt)) this.signal(p, ctx);
      return;
    }
    if (p.alertedAt >= 0 && r.ts - p.alertedAt < this.config.realert_ms) return;
    p.alertedAt = r.ts;
    this.signal(p, ctx);
  }

  /** a service's window closed: the alerts of the pairs calling it report the calls they have not yet */
  onWindow(w: WindowMetrics, ctx: DetectorContext): void {
    this.unreported.onWindow(w, (key) => {
      const p = this.pairs.peek(key);
      if (p && p.to > p.signalledAt) this.signal(p, ctx);
    });
  }

  /** raises or refreshes the pair's alert with the calls it counts, at the last of them */
  private signal(p: PlaintextPair, ctx: DetectorContext): void {
    p.signalledAt = p.to;
    const span = p.to - p.from;
    const n = p.endpoints.length;
    const endpoints = `${p.endpoints.slice(0, 3).join(', ')}${n > 3 ? ', …' : ''}`;
    ctx.emit({
      kind: 'plaintext_hop',
      severity: 'high',
      service: p.service,
      subject: p.caller,
      at: p.to,
      summary: `${p.caller.value} called ${p.service} without mTLS ${p.calls === 1 ? 'once' : `${p.calls} times in ${durationText(span)}`}${n > 0 ? ` (${endpoints})` : ''}`,
      expected: 'service-to-service calls use mutual TLS (source.mtls = true)',
      observed: `${p.calls} plaintext call${p.calls === 1 ? '' : 's'} to ${n}${n === MAX_ENDPOINTS ? '+' : ''} endpoint${n === 1 ? '' : 's'} from ${new Date(p.from).toISOString()} to ${new Date(p.to).toISOString()} (last: source.mtls = ${p.mtls === null ? 'absent' : String(p.mtls)}, principal ${p.principal ? 'present' : 'absent'})`,
      recordIds: [...p.evidence],
      metrics: { plaintext_calls: p.calls, span_s: span / 1000, endpoints: n },
      ...(n > 0 ? { labels: { endpoint: p.endpoints[0] } } : {}),
    });
  }

  snapshot(): unknown {
    return { v: 1, pairs: this.pairs.dump((p) => p), seen: this.seen, unreported: this.unreported.dump() };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        const rows = s.pairs as [string, PlaintextPair | number, number][];
        this.pairs.load(
          rows.map(([key, p, ts]) => [key, restoredPair(key, p), ts]),
          (p) => p,
        );
        this.seen = Number(s.seen) || 0;
        this.unreported.load(s.unreported);
      },
      () => {
        this.pairs.clear();
        this.seen = 0;
        this.unreported.clear();
      },
    );
  }

  stats(): Record<string, number> {
    return { pairs: this.pairs.size, pairs_evicted: this.pairs.evicted, plaintext_calls_seen: this.seen };
  }
}
