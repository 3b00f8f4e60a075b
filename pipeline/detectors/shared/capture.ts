import type { AlertSignal } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext, WindowMetrics } from '../detector.js';
import { defaultEndpointOf } from './record-fields.js';

/** a service's (or, with `over.endpoint`, an endpoint's) metrics window as the correlator closes it, for tests */
export const closedWindow = (service: string, over: Partial<WindowMetrics> = {}): WindowMetrics => ({
  service,
  start: 0,
  widthMs: 60_000,
  count: 1,
  errors: 0,
  rate: 0,
  errorRatio: 0,
  p50: 1,
  p95: 1,
  p99: 1,
  sampleIds: [],
  ...over,
});

/** A detector context that keeps every signal: for tests, scenario replays and the scenario evaluation. */
export class CapturingContext implements DetectorContext {
  readonly signals: AlertSignal[] = [];
  private readonly endpointOfRecord: (r: ApiCallRecord) => string;
  private lastRecord: ApiCallRecord | undefined;
  private lastEndpoint = '';

  constructor(endpointOf: (r: ApiCallRecord) => string = defaultEndpointOf) {
    this.endpointOfRecord = endpointOf;
  }

  /** the endpoint of the record in hand, worked out once for all the detectors that ask (as the correlator does) */
  endpointOf(r: ApiCallRecord): string {
    if (r !== this.lastRecord) {
      this.lastEndpoint = this.endpointOfRecord(r);
      this.lastRecord = r;
    }
    return this.lastEndpoint;
  }

  emit(signal: AlertSignal): void {
    this.signals.push(signal);
  }
}

/** one alert-like group per (kind, service, endpoint, subject), as the alert manager deduplicates */
export interface SignalGroup {
  kind: string;
  service: string;
  endpoint?: string;
  subject?: { type: string; value: string };
  firstSeen: number;
  lastSeen: number;
  count: number;
  summary: string;
}

export function groupSignals(signals: readonly AlertSignal[]): SignalGroup[] {
  const groups = new Map<string, SignalGroup>();
  for (const s of signals) {
    const key = `${s.kind}\u0000${s.service}\u0000${s.endpoint ?? ''}\u0000${s.subject?.type ?? ''}\u0000${s.subject?.value ?? ''}`;
    const g = groups.get(key);
    if (g) {
      g.count++;
      if (s.at < g.firstSeen) g.firstSeen = s.at;
      if (s.at > g.lastSeen) g.lastSeen = s.at;
    } else {
      groups.set(key, {
        kind: s.kind,
        service: s.service,
        endpoint: s.endpoint,
        subject: s.subject,
        firstSeen: s.at,
        lastSeen: s.at,
        count: 1,
        summary: s.summary,
      });
    }
  }
  return [...groups.values()];
}

/** run records through detectors with one capturing context; returns the signals */
export function runDetectors(
  detectors: readonly Detector[],
  records: Iterable<ApiCallRecord>,
  ctx = new CapturingContext(),
): AlertSignal[] {
  for (const r of records) for (const d of detectors) d.observe?.(r, ctx);
  return ctx.signals;
}
