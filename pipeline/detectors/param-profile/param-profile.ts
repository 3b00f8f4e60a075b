import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { ClearingMemo } from '../../core/clearing-memo.js';
import { KeyInterner } from '../shared/key-interner.js';
import { actorOf, queryParams } from '../shared/record-fields.js';
import type { ParamProfileConfig } from './config.js';
import { C_RISKY, charClasses, displayValue, injectionShape, T_NUMBER, T_STRING, typeBit } from './value-shape.js';

interface ParamStats {
  count: number;
  /** bitmask of T_* seen */
  types: number;
  min: number;
  max: number;
  lenMax: number;
  /** bitmask of C_* seen */
  classes: number;
  /** distinct string values while few (an enumeration), null once there are too many */
  values: string[] | null;
}

interface EndpointProfile {
  first: number;
  count: number;
  params: Map<string, ParamStats>;
}

interface Finding {
  param: string;
  rule: string;
  expected: string;
  value: string;
}

/** a new endpoint's profile, first seen at `ts` */
const newProfile = (ts: number): EndpointProfile => ({ first: ts, count: 0, params: new Map() });

/** a finding; its display value is worked out only here (it costs a JSON.stringify and a regex) */
const finding = (name: string, v: unknown, rule: string, expected: string): Finding => ({
  param: name,
  rule,
  expected,
  value: displayValue(name, v),
});

const TYPE_NAMES: Record<number, string> = { 1: 'number', 2: 'string', 4: 'boolean', 8: 'null' };
const typeNames = (mask: number): string =>
  Object.entries(TYPE_NAMES)
    .filter(([bit]) => mask & Number(bit))
    .map(([, n]) => n)
    .join('|');

/**
 * Per-endpoint parameter profiles learned from traffic: types, numeric ranges, string lengths, character classes and
 * (for low-cardinality parameters) the set of values. After an endpoint's learning period, a parameter that was never
 * seen, a value of another type, out of range, too long, with unusual characters or outside a learned enumeration
 * raises `param_anomaly`; injection-shaped values (SQL, script, path traversal, shell) raise it from the start.
 * Anomalous values are never learned, so a probe cannot teach the profile.
 */
export class ParamProfileDetector implements Detector {
  readonly type = 'param_profile';
  private readonly endpoints: BoundedMap<string, EndpointProfile>;
  private readonly keys: KeyInterner;
  private paramsDropped = 0;
  /** injectionShape of short values, which repeat (enums, sort keys, small ids) */
  private readonly injectionMemo = new ClearingMemo((v: string) => injectionShape(v) ?? null);
  private findings = 0;

  constructor(private readonly config: ParamProfileConfig) {
    this.endpoints = new BoundedMap(config.max_endpoints);
    this.keys = new KeyInterner('\u0000');
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    const params = r.params ?? queryParams(r.path);
    const endpoint = ctx.endpointOf(r);
    const key = this.keys.key(r.service, endpoint);
    const p = this.endpoints.upsert(key, r.ts, newProfile);
    p.count++;
    if (!params) return;
    const learned = p.count > this.config.learning_records && r.ts - p.first >= this.config.learning_ms;
    let found: Finding[] | undefined;
    for (const name in params) {
      const v = params[name];
      let f: Finding | undefined;
      if (this.config.injection_checks && typeof v === 'string') {
        const shape = this.injectionShapeOf(v);
        if (shape) f = finding(name, v, shape, 'no injection-shaped values');
      }
      const s = p.params.get(name);
      if (!s) {
        if (learned && !f)
          f = finding(name, v, 'unexpected_param', `parameters ${[...p.params.keys()].join(', ') || '(none)'}`);
        if (!f) {
          if (p.params.size < this.config.max_params_per_endpoint) p.params.set(name, this.fresh(v));
          else this.paramsDropped++;
        }
      } else {
        // the value's type is worked out once for the check and the update (it costs a regex for strings)
        const t = typeBit(v);
        if (learned && !f) f = this.check(name, s, v, t);
        if (!f) this.update(s, v, t);
      }
      if (f) {
        found ??= [];
        found.push(f);
      }
    }
    if (!found) return;
    this.findings++;
    const injection = found.some((f) => f.rule.endsWith('_injection') || f.rule === 'path_traversal');
    const first = found[0];
    ctx.emit({
      kind: 'param_anomaly',
      severity: injection ? 'high' : 'medium',
      service: r.service,
      endpoint,
      subject: actorOf(r),
      at: r.ts,
      summary: `${endpoint} parameter ${first.param}: ${first.rule.replace(/_/g, ' ')}${found.length > 1 ? ` (+${found.length - 1} more)` : ''}`,
      expected: found.map((f) => `${f.param}: ${f.expected}`).join('; '),
      observed: found.map((f) => `${f.param}=${f.value} (${f.rule})`).join('; '),
      recordIds: [r.id],
      metrics: { findings: found.length, endpoint_samples: p.count, status: r.status },
      labels: { rule: first.rule, param: first.param },
    });
  }

  /** injectionShape of a string value (four regexes), from the memo for short values */
  private injectionShapeOf(v: string): string | undefined {
    if (v.length > 64) return injectionShape(v);
    return this.injectionMemo.get(v) ?? undefined;
  }

  private fresh(v: unknown): ParamStats {
    const s: ParamStats = {
      count: 0,
      types: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
      lenMax: 0,
      classes: 0,
      values: [],
    };
    this.update(s, v, typeBit(v));
    return s;
  }

  private update(s: ParamStats, v: unknown, t: number): void {
    s.count++;
    s.types |= t;
    if (t === T_NUMBER) {
      const n = Number(v);
      if (n < s.min) s.min = n;
      if (n > s.max) s.max = n;
      return;
    }
    const str = String(v);
    if (str.length > s.lenMax) s.lenMax = str.length;
    s.classes |= charClasses(str);
    if (s.values && !s.values.includes(str)) {
      if (s.values.length < this.config.enum_max_values) s.values.push(str);
      else s.values = null;
    }
  }

  private check(name: string, s: ParamStats, v: unknown, t: number): Finding | undefined {
    if (!(s.types & t)) return finding(name, v, 'unexpected_type', `type ${typeNames(s.types)}`);
    if (t === T_NUMBER) {
      if (!(s.min <= s.max)) return undefined;
      const n = Number(v);
      const slack = Math.max(s.max - s.min, 1) * this.config.range_tolerance;
      if (n < s.min - slack || n > s.max + slack)
        return finding(name, v, 'out_of_range', `between ${s.min} and ${s.max}`);
      return undefined;
    }
    if (t !== T_STRING) return undefined;
    const str = String(v);
    if (str.length > s.lenMax * this.config.length_factor + 16)
      return finding(name, v, 'too_long', `at most ${s.lenMax} characters`);
    if (charClasses(str) & C_RISKY && !(s.classes & C_RISKY))
      return finding(name, v, 'unusual_characters', 'no quote, bracket or shell characters');
    if (s.values && s.count >= this.config.enum_min_samples && !s.values.includes(str))
      return finding(name, v, 'unknown_value', `one of ${s.values.join(', ')}`);
    return undefined;
  }

  snapshot(): unknown {
    return {
      v: 1,
      endpoints: this.endpoints.dump((p) => ({ first: p.first, count: p.count, params: [...p.params] })),
      paramsDropped: this.paramsDropped,
      findings: this.findings,
    };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        type J = { first: number; count: number; params: [string, ParamStats][] };
        this.endpoints.load(s.endpoints as [string, J, number][], (j) => ({
          first: j.first,
          count: j.count,
          params: new Map(
            j.params.map(([k, v]) => [
              k,
              { ...v, min: v.min ?? Number.POSITIVE_INFINITY, max: v.max ?? Number.NEGATIVE_INFINITY },
            ]),
          ),
        }));
        this.paramsDropped = Number(s.paramsDropped) || 0;
        this.findings = Number(s.findings) || 0;
      },
      () => {
        this.endpoints.clear();
        this.paramsDropped = 0;
        this.findings = 0;
      },
    );
  }

  stats(): Record<string, number> {
    return {
      endpoints: this.endpoints.size,
      endpoints_evicted: this.endpoints.evicted,
      params_dropped: this.paramsDropped,
      findings: this.findings,
    };
  }
}
