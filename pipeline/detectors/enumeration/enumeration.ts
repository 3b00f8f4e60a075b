import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { CountMinSketch } from '../shared/count-min.js';
import { fnv1a } from '../shared/hash.js';
import { Ewma, safeRestore } from '../shared/detector-kit.js';
import { HyperLogLog } from '../shared/hyperloglog.js';
import { actorOf, appendTo, pushEvidence } from '../shared/record-fields.js';
import { RouteShapes } from '../shared/route-shapes.js';
import type { EnumerationConfig } from './config.js';

interface SubjectWindow {
  start: number;
  exact: string[] | null;
  hll: HyperLogLog | null;
  distinct: number;
  alerted: boolean;
  evidence: string[];
  /**
   * 32-bit hashes of `exact`, index for index: a new id is looked for among small integers, and compared as a
   * string only where a hash matches (an id is usually new, and comparing it with up to 64 stored strings cost
   * more than the rest of the step). Not in snapshots; rebuilt on restore.
   */
  hashes: number[] | null;
}

type WindowJson = Omit<SubjectWindow, 'hll' | 'hashes'> & { hll: { p: number; r: string } | null };

const hashesOf = (ids: string[] | null): number[] | null => (ids ? ids.map((id) => fnv1a(id) | 0) : null);

const EWMA_ALPHA = 0.02;

/**
 * Broken object-level authorisation probing (OWASP API1): one subject touching an abnormal number of distinct object
 * ids on one endpoint within a window. Distinct ids are kept exactly up to `exact_limit`, then in a 256-byte
 * HyperLogLog; (subject, endpoint) pairs live in an LRU with a cap. The threshold is relative to the endpoint's usual
 * per-subject distinct count (an EWMA over closed windows), never below `min_distinct`. A count-min sketch per
 * window keeps request counts per (subject, endpoint), so evidence survives LRU evictions.
 */
export class EnumerationDetector implements Detector {
  readonly type = 'enumeration';
  private readonly windows: BoundedMap<string, SubjectWindow>;
  private readonly baselines: BoundedMap<string, Ewma>;
  private readonly idParams: string[];
  private readonly routes = new RouteShapes();
  private requests = new CountMinSketch(4096, 4);
  private requestsEpoch = 0;

  constructor(private readonly config: EnumerationConfig) {
    this.windows = new BoundedMap(config.max_subjects, config.window_ms * 2);
    this.baselines = new BoundedMap(config.max_endpoints);
    this.idParams = config.id_params;
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    const subject = actorOf(r);
    if (!subject) return;
    if (!this.config.workload_subjects && (subject.type === 'principal' || subject.type === 'service')) return;
    const endpoint = ctx.endpointOf(r);
    const ids = this.routes.placeholderValues(endpoint, r.path);
    if (r.params) {
      for (const p of this.idParams) {
        const v = r.params[p];
        if (v !== undefined && v !== null) ids.push(String(v));
      }
    }
    if (ids.length === 0) return;
    const key = `${subject.type}:${subject.value}\u0000${endpoint}`;
    const epoch = Math.floor(r.ts / this.config.window_ms);
    if (epoch !== this.requestsEpoch) {
      this.requests.clear();
      this.requestsEpoch = epoch;
    }
    const requests = this.requests.add(key);
    let w = this.windows.get(key, r.ts);
    if (w && r.ts - w.start > this.config.window_ms) {
      this.baseline(endpoint).push(w.distinct);
      w = undefined;
    }
    if (!w) {
      w = { start: r.ts, exact: [], hll: null, distinct: 0, alerted: false, evidence: [], hashes: [] };
      this.windows.set(key, w, r.ts);
    }
    let grew = false;
    for (const id of ids) grew = this.addId(w, id) || grew;
    if (!grew || w.alerted) return;
    w.evidence = pushEvidence(w.evidence, r.id);
    if (w.distinct < this.config.min_distinct) return;
    const b = this.baselines.get(endpoint, r.ts);
    const mean = b?.mean ?? 0;
    const std = b?.std ?? 0;
    const threshold = Math.max(
      this.config.min_distinct,
      mean * this.config.relative_factor,
      mean + this.config.sigma_k * std,
    );
    if (w.distinct < threshold) return;
    w.alerted = true;
    const minutes = Math.round(this.config.window_ms / 60_000);
    ctx.emit({
      kind: 'enumeration',
      severity: 'high',
      service: r.service,
      endpoint,
      subject,
      at: r.ts,
      summary: `${subject.type} ${subject.value} touched ${Math.round(w.distinct)} distinct objects on ${endpoint} within ${minutes} min`,
      expected: `about ${mean.toFixed(1)} distinct objects per subject per window (threshold ${Math.ceil(threshold)})`,
      observed: `${Math.round(w.distinct)} distinct objects in ${requests} requests`,
      recordIds: [...w.evidence],
      metrics: { distinct_ids: Math.round(w.distinct), requests, baseline_mean: mean, baseline_std: std, threshold },
    });
  }

  /** add an id; true when the distinct count grew */
  private addId(w: SubjectWindow, id: string): boolean {
    if (w.exact) {
      const h = fnv1a(id) | 0;
      const hashes = w.hashes!;
      for (let j = 0; j < hashes.length; j++) if (hashes[j] === h && w.exact[j] === id) return false;
      w.exact = appendTo(w.exact, id);
      w.hashes = appendTo(hashes, h);
      w.distinct = w.exact.length;
      if (w.exact.length > this.config.exact_limit) {
        w.hll = new HyperLogLog(8);
        for (const x of w.exact) w.hll.add(x);
        w.exact = null;
        w.hashes = null;
      }
      return true;
    }
    if (!w.hll!.add(id)) return false;
    const before = w.distinct;
    w.distinct = Math.max(before, w.hll!.count());
    return w.distinct > before;
  }

  private baseline(endpoint: string): Ewma {
    return this.baselines.upsert(endpoint, 0, () => new Ewma(EWMA_ALPHA));
  }

  snapshot(): unknown {
    return {
      v: 1,
      windows: this.windows.dump(({ hashes: _, ...w }): WindowJson => ({ ...w, hll: w.hll ? w.hll.toJSON() : null })),
      baselines: this.baselines.dump((b) => b.toJSON()),
      requests: this.requests.toJSON(),
      requestsEpoch: this.requestsEpoch,
    };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        this.windows.load(s.windows as [string, WindowJson, number][], (j) => ({
          ...j,
          hll: j.hll ? HyperLogLog.fromJSON(j.hll) : null,
          hashes: hashesOf(j.exact),
        }));
        this.baselines.load(s.baselines as [string, [number, number, number], number][], (j) =>
          Ewma.from(EWMA_ALPHA, j),
        );
        this.requests = CountMinSketch.fromJSON(s.requests as never);
        this.requestsEpoch = Number(s.requestsEpoch) || 0;
      },
      () => {
        this.windows.clear();
        this.baselines.clear();
        this.requests = new CountMinSketch(4096, 4);
        this.requestsEpoch = 0;
      },
    );
  }

  stats(): Record<string, number> {
    return {
      subjects: this.windows.size,
      subjects_evicted: this.windows.evicted,
      subjects_expired: this.windows.expired,
      endpoints: this.baselines.size,
      endpoints_evicted: this.baselines.evicted,
    };
  }
}
