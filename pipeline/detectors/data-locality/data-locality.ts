import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext } from '../detector.js';
import { compileGlob, callerOf } from '../shared/record-fields.js';
import type { DataLocalityConfig } from './config.js';

interface CompiledRule {
  dataClass: string;
  from: RegExp[];
  to: RegExp[];
  text: string;
}

const READS = new Set(['GET', 'HEAD']);
const matchesAny = (res: RegExp[], s: string): boolean => res.some((re) => re.test(s));

/**
 * Calls that move a configured data class out of the regions a residency rule allows. Reads move data from the
 * destination's region (record.region) to the caller's; writes move it from the caller's region to the destination.
 * Rules and endpoint maps are compiled once; the per-record step is a map lookup and a few regex tests.
 */
export class DataLocalityDetector implements Detector {
  readonly type = 'data_locality';
  /** data classes by service, then endpoint id (or `*`): two lookups of strings the record already holds */
  private readonly classesByEndpoint = new Map<string, Map<string, string[]>>();
  private readonly rulesByClass = new Map<string, CompiledRule[]>();
  private violations = 0;
  private unknownRegion = 0;

  constructor(private readonly config: DataLocalityConfig) {
    for (const e of config.endpoints) {
      let byEndpoint = this.classesByEndpoint.get(e.service);
      if (!byEndpoint) {
        byEndpoint = new Map();
        this.classesByEndpoint.set(e.service, byEndpoint);
      }
      byEndpoint.set(e.endpoint, [...(byEndpoint.get(e.endpoint) ?? []), ...e.data_classes]);
    }
    for (const r of config.rules) {
      const list = this.rulesByClass.get(r.data_class) ?? [];
      list.push({
        dataClass: r.data_class,
        from: r.from_regions.map(compileGlob),
        to: r.allowed_to.map(compileGlob),
        text: `${r.data_class} from ${r.from_regions.join(',')} only to ${r.allowed_to.join(',') || '(nowhere)'}`,
      });
      this.rulesByClass.set(r.data_class, list);
    }
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    const byEndpoint = this.classesByEndpoint.get(r.service);
    if (byEndpoint === undefined) return;
    const endpoint = ctx.endpointOf(r);
    const classes = byEndpoint.get(endpoint) ?? byEndpoint.get('*');
    if (!classes) return;
    const dest = r.region;
    const src =
      r.tags?.[this.config.source_region_tag] ??
      (r.source.service ? this.config.service_regions[r.source.service] : undefined);
    if (!dest || !src) {
      this.unknownRegion++;
      return;
    }
    if (src === dest) return;
    const [from, to] = READS.has(r.method) ? [dest, src] : [src, dest];
    for (const dc of classes) {
      for (const rule of this.rulesByClass.get(dc) ?? []) {
        if (!matchesAny(rule.from, from) || matchesAny(rule.to, to)) continue;
        this.violations++;
        const subject = callerOf(r) ?? (r.source.ip ? { type: 'ip', value: r.source.ip } : undefined);
        ctx.emit({
          kind: 'data_locality',
          severity: 'high',
          service: r.service,
          endpoint,
          subject,
          at: r.ts,
          summary: `${dc} data moved from ${from} to ${to} via ${r.service} ${endpoint}`,
          expected: rule.text,
          observed: `${READS.has(r.method) ? 'read' : 'write'} by ${subject?.value ?? 'unknown caller'}: ${from} → ${to}`,
          recordIds: [r.id],
          metrics: { status: r.status, resp_bytes: r.respBytes, req_bytes: r.reqBytes },
          labels: { data_class: dc, from_region: from, to_region: to },
        });
        return;
      }
    }
  }

  snapshot(): unknown {
    return { v: 1, violations: this.violations, unknownRegion: this.unknownRegion };
  }

  restore(state: unknown): void {
    const s = (state ?? {}) as { violations?: unknown; unknownRegion?: unknown };
    this.violations = Number(s.violations) || 0;
    this.unknownRegion = Number(s.unknownRegion) || 0;
  }

  stats(): Record<string, number> {
    return { violations: this.violations, records_without_region: this.unknownRegion, rules: this.config.rules.length };
  }
}
