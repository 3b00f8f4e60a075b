const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';
/** positions of the dashes in `vv-<32 hex>-<16 hex>-ff` (55 chars) */
const DASHES = [2, 35, 52];

export interface TraceRef {
  traceId: string;
  /** the caller's span (W3C parent-id): the parent of the span this call would be */
  parentSpanId: string;
}

/** true when `v` is exactly `vv-<32>-<16>-ff` in lower-case hex: the common case, checked without a regex */
function isCanonical(v: string): boolean {
  if (v.length !== 55) return false;
  for (let i = 0; i < 55; i++) {
    const c = v.charCodeAt(i);
    if (i === DASHES[0] || i === DASHES[1] || i === DASHES[2]) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) {
      return false;
    }
  }
  return true;
}

/** W3C Trace Context `traceparent`; undefined when absent or invalid (version ff, all-zero ids) */
export function parseTraceparent(header: string | string[] | undefined): TraceRef | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v || v.length > 128) return undefined;
  let version: string;
  let traceId: string;
  let parentSpanId: string;
  if (isCanonical(v)) {
    version = v.slice(0, 2);
    traceId = v.slice(3, 35);
    parentSpanId = v.slice(36, 52);
  } else {
    const m = TRACEPARENT.exec(v.trim().toLowerCase());
    if (!m) return undefined;
    version = m[1];
    traceId = m[2];
    parentSpanId = m[3];
  }
  if (version === 'ff' || traceId === ZERO_TRACE || parentSpanId === ZERO_SPAN) return undefined;
  return { traceId, parentSpanId };
}
