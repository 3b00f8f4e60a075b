import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { callerOf } from '../shared/record-fields.js';
import type { PlaintextHopConfig } from './config.js';

/**
 * Service-to-service calls without mutual TLS (NIST SP 800-204A SM-DR6: service-to-service traffic is authenticated
 * and encrypted with mTLS). A call is a hop when the caller is a workload (source.service or principal known); it is
 * plaintext when `source.mtls` is not true. One alert per (source, destination) pair per `realert_ms`.
 */
export class PlaintextHopDetector implements Detector {
  readonly type = 'plaintext_hop';
  private readonly pairs: BoundedMap<string, number>;
  private readonly allowed: Set<string>;
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
    const last = this.pairs.get(key, r.ts);
    if (last !== undefined && r.ts - last < this.config.realert_ms) return;
    this.pairs.set(key, r.ts, r.ts);
    const endpoint = ctx.endpointOf(r);
    ctx.emit({
      kind: 'plaintext_hop',
      severity: 'high',
      service: r.service,
      subject: caller,
      at: r.ts,
      summary: `${caller.value} called ${r.service} (${endpoint}) without mTLS`,
      expected: 'service-to-service calls use mutual TLS (source.mtls = true)',
      observed: `source.mtls = ${r.source.mtls === undefined ? 'absent' : String(r.source.mtls)}, principal ${r.source.principal ? 'present' : 'absent'}`,
      recordIds: [r.id],
      metrics: { plaintext_calls_seen: this.seen },
      labels: { endpoint },
    });
  }

  snapshot(): unknown {
    return { v: 1, pairs: this.pairs.dump((t) => t), seen: this.seen };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        this.pairs.load(s.pairs as [string, number, number][], (t) => t);
        this.seen = Number(s.seen) || 0;
      },
      () => {
        this.pairs.clear();
        this.seen = 0;
      },
    );
  }

  stats(): Record<string, number> {
    return { pairs: this.pairs.size, pairs_evicted: this.pairs.evicted, plaintext_calls_seen: this.seen };
  }
}
