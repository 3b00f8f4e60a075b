const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

export interface TraceRef {
  traceId: string;
  /** the caller's span (W3C parent-id): the parent of the span this call would be */
  parentSpanId: string;
}

/** W3C Trace Context `traceparent`; undefined when absent or invalid (version ff, all-zero ids) */
export function parseTraceparent(header: string | string[] | undefined): TraceRef | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v || v.length > 128) return undefined;
  const m = TRACEPARENT.exec(v.trim().toLowerCase());
  if (!m || m[1] === 'ff' || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return undefined;
  return { traceId: m[2], parentSpanId: m[3] };
}
