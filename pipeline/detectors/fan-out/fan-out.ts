import type { AlertSubject } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { Ewma, safeRestore } from '../shared/detector-kit.js';
import { actorOf, isMeshHop } from '../shared/record-fields.js';
import type { FanOutConfig } from './config.js';

interface PendingTrace {
  /** when the trace was first seen (event time) */
  opened: number;
  /** the front-end call, once seen */
  root?: { id: string; ts: number; service: string; endpoint: string; subject?: AlertSubject };
  calls: number;
  alerted: boolean;
}

const EWMA_ALPHA = 0.01;

/**
 * Amplification: a front-end request that fans out into far more backend calls than that endpoint usually causes.
 * Records are stitched by trace id into a bounded table of open traces; a trace closes `trace_ttl_ms` after it
 * opened (event time), folding its call count into the endpoint's baseline. The alert fires as soon as an open
 * trace crosses the threshold, not at close.
 */
export class FanOutDetector implements Detector {
  readonly type = 'fan_out';
  /** open traces in the order they opened (no cap here: observe() closes the oldest early past max_pending) */
  private readonly pending = new BoundedMap<string, PendingTrace>(Number.POSITIVE_INFINITY);
  private readonly baselines: BoundedMap<string, Ewma>;
  private now = 0;
  private closedEarly = 0;
  private orphans = 0;

  constructor(private readonly config: FanOutConfig) {
    this.baselines = new BoundedMap(config.max_endpoints);
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    const traceId = r.trace?.traceId;
    if (!traceId) return;
    if (r.ts > this.now) {
      this.now = r.ts;
      this.closeExpired();
    }
    let t = this.pending.peek(traceId);
    if (!t) {
      t = { opened: r.ts, calls: 0, alerted: false };
      this.pending.set(traceId, t, r.ts);
      if (this.pending.size > this.config.max_pending) {
        this.close(this.pending.oldestKey()!, this.pending.oldestValue()!);
        this.closedEarly++;
      }
    }
    const isRoot = !r.trace?.parentSpanId && !isMeshHop(r);
    if (isRoot) {
      t.root = { id: r.id, ts: r.ts, service: r.service, endpoint: ctx.endpointOf(r), subject: actorOf(r) };
    } else {
      t.calls++;
    }
    if (t.root && !t.alerted && t.calls >= this.config.min_calls) this.check(t, ctx, r);
  }

  private threshold(b: Ewma | undefined): number | undefined {
    if (!b || b.n < this.config.min_traces) return undefined;
    return Math.max(this.config.min_calls, b.mean * this.config.factor, b.mean + this.config.sigma_k * b.std);
  }

  private check(t: PendingTrace, ctx: DetectorContext, r: ApiCallRecord): void {
    const root = t.root!;
    const b = this.baselines.peek(root.endpoint);
    const limit = this.threshold(b);
    if (limit === undefined || t.calls <= limit) return;
    t.alerted = true;
    ctx.emit({
      kind: 'fan_out',
      severity: 'medium',
      service: root.service,
      endpoint: root.endpoint,
      subject: root.subject,
      at: root.ts,
      summary: `one ${root.endpoint} request caused ${t.calls}+ backend calls (usually ${b!.mean.toFixed(1)})`,
      expected: `about ${b!.mean.toFixed(1)} ± ${b!.std.toFixed(1)} backend calls per request (threshold ${Math.ceil(limit)})`,
      observed: `${t.calls} backend calls in trace ${r.trace?.traceId}`,
      recordIds: [root.id, r.id],
      metrics: { backend_calls: t.calls, baseline_mean: b!.mean, baseline_std: b!.std, threshold: limit },
    });
  }

  private closeExpired(): void {
    for (let t = this.pending.oldestValue(); t !== undefined; t = this.pending.oldestValue()) {
      if (this.now - t.opened <= this.config.trace_ttl_ms) break;
      this.close(this.pending.oldestKey()!, t);
    }
  }

  private close(id: string, t: PendingTrace): void {
    this.pending.delete(id);
    if (!t.root) {
      this.orphans++;
      return;
    }
    // anomalous traces stay out of the baseline so an attack cannot teach it
    if (!t.alerted) this.baselines.upsert(t.root.endpoint, t.root.ts, () => new Ewma(EWMA_ALPHA)).push(t.calls);
  }

  snapshot(): unknown {
    return {
      v: 1,
      now: this.now,
      pending: [...this.pending.entries()],
      baselines: this.baselines.dump((b) => b.toJSON()),
      closedEarly: this.closedEarly,
      orphans: this.orphans,
    };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        this.pending.clear();
        for (const [k, v] of s.pending as [string, PendingTrace][]) this.pending.set(k, v, 0);
        this.baselines.load(s.baselines as [string, [number, number, number], number][], (j) =>
          Ewma.from(EWMA_ALPHA, j),
        );
        this.now = Number(s.now) || 0;
        this.closedEarly = Number(s.closedEarly) || 0;
        this.orphans = Number(s.orphans) || 0;
      },
      () => {
        this.pending.clear();
        this.baselines.clear();
        this.now = 0;
      },
    );
  }

  stats(): Record<string, number> {
    return {
      open_traces: this.pending.size,
      traces_closed_early: this.closedEarly,
      traces_without_root: this.orphans,
      endpoints: this.baselines.size,
      endpoints_evicted: this.baselines.evicted,
    };
  }
}
