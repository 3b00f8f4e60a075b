import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { KeyInterner } from '../shared/key-interner.js';
import { callerOf } from '../shared/record-fields.js';
import type { NewCallerConfig } from './config.js';

/**
 * A workload calling an endpoint it never called before. Each destination service has its own learning period
 * (from when it is first seen), so a newly deployed service learns its callers instead of alerting on all of them.
 */
/** when a service was first seen: the time of its first record */
const firstSeen = (ts: number): number => ts;

export class NewCallerDetector implements Detector {
  readonly type = 'new_caller';
  private readonly services: BoundedMap<string, number>;
  private readonly pairs: BoundedMap<string, number>;
  private alerts = 0;
  /** `service \0 endpoint`, then `caller \0 service \0 endpoint`, built once per distinct pair */
  private readonly serviceEndpoints = new KeyInterner('\u0000');
  private readonly pairKeys = new KeyInterner('\u0000');

  constructor(private readonly config: NewCallerConfig) {
    this.services = new BoundedMap(config.max_services);
    this.pairs = new BoundedMap(config.max_pairs);
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    let caller = callerOf(r);
    if (!caller && this.config.include_edge && r.source.ip) caller = { type: 'ip', value: r.source.ip };
    if (!caller) return;
    const since = this.services.upsert(r.service, r.ts, firstSeen);
    const endpoint = ctx.endpointOf(r);
    const key = this.pairKeys.key(caller.value, this.serviceEndpoints.key(r.service, endpoint));
    if (this.pairs.get(key, r.ts) !== undefined) return;
    this.pairs.set(key, r.ts, r.ts);
    if (r.ts - since < this.config.learning_ms) return;
    this.alerts++;
    ctx.emit({
      kind: 'new_caller',
      severity: 'medium',
      service: r.service,
      endpoint,
      subject: caller,
      at: r.ts,
      summary: `${caller.value} called ${r.service} ${endpoint} for the first time`,
      expected: `only callers seen since ${new Date(since).toISOString()} (learned for ${Math.round(this.config.learning_ms / 60_000)} min)`,
      observed: `new caller ${caller.type} ${caller.value}, status ${r.status}`,
      recordIds: [r.id],
      metrics: { status: r.status, known_pairs: this.pairs.size },
    });
  }

  snapshot(): unknown {
    return { v: 1, services: this.services.dump((t) => t), pairs: this.pairs.dump((t) => t), alerts: this.alerts };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        this.services.load(s.services as [string, number, number][], (t) => t);
        this.pairs.load(s.pairs as [string, number, number][], (t) => t);
        this.alerts = Number(s.alerts) || 0;
      },
      () => {
        this.services.clear();
        this.pairs.clear();
        this.alerts = 0;
      },
    );
  }

  stats(): Record<string, number> {
    return {
      services: this.services.size,
      pairs: this.pairs.size,
      pairs_evicted: this.pairs.evicted,
      services_evicted: this.services.evicted,
      alerts: this.alerts,
    };
  }
}
