// Thin bindings to the proxy-wasm ABI 0.2.1 host calls this sensor uses, plus helpers that copy host-returned
// values (allocated through our exported `malloc`) into managed arrays and free them.

@external("env", "proxy_log")
declare function proxy_log(level: u32, ptr: usize, size: usize): u32;
@external("env", "proxy_get_property")
declare function proxy_get_property(pathPtr: usize, pathSize: usize, retData: usize, retSize: usize): u32;
@external("env", "proxy_get_header_map_value")
declare function proxy_get_header_map_value(mapType: u32, keyPtr: usize, keySize: usize, retData: usize, retSize: usize): u32;
@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(bufferType: u32, start: u32, length: u32, retData: usize, retSize: usize): u32;
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(ms: u32): u32;
@external("env", "proxy_get_current_time_nanoseconds")
declare function proxy_get_current_time_nanoseconds(retPtr: usize): u32;
@external("env", "proxy_http_call")
declare function proxy_http_call(
  uriPtr: usize,
  uriSize: usize,
  headerPairsPtr: usize,
  headerPairsSize: usize,
  bodyPtr: usize,
  bodySize: usize,
  trailerPairsPtr: usize,
  trailerPairsSize: usize,
  timeoutMs: u32,
  tokenPtr: usize,
): u32;
@external("env", "proxy_define_metric")
declare function proxy_define_metric(metricType: u32, namePtr: usize, nameSize: usize, retId: usize): u32;
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(metricId: u32, offset: i64): u32;
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(contextId: u32): u32;
@external("env", "proxy_done")
export declare function proxy_done(): u32;

export const OK: u32 = 0;
export const NOT_FOUND: u32 = 1;

export const LOG_DEBUG: u32 = 1;
export const LOG_INFO: u32 = 2;
export const LOG_WARN: u32 = 3;
export const LOG_ERROR: u32 = 4;

export const MAP_REQUEST_HEADERS: u32 = 0;
export const MAP_RESPONSE_HEADERS: u32 = 2;
export const MAP_HTTP_CALL_RESPONSE_HEADERS: u32 = 6;

export const BUFFER_HTTP_CALL_RESPONSE_BODY: u32 = 4;
export const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;

const METRIC_COUNTER: u32 = 0;

// return slots the host writes a pointer and a size into (never freed)
const RET: usize = heap.alloc(16);

function takeReturned(): Uint8Array {
  const ptr = load<u32>(RET);
  const size = load<u32>(RET + 4);
  const out = new Uint8Array(<i32>size);
  if (size > 0) memory.copy(out.dataStart, <usize>ptr, <usize>size);
  if (ptr != 0) heap.free(<usize>ptr);
  return out;
}

/** a property by its path (segments joined by NUL, e.g. "request\0path"), or null when absent */
export function getProperty(path: Uint8Array): Uint8Array | null {
  store<u32>(RET, 0);
  store<u32>(RET + 4, 0);
  if (proxy_get_property(path.dataStart, <usize>path.length, RET, RET + 4) != OK) return null;
  return takeReturned();
}

export function getHeader(mapType: u32, name: Uint8Array): Uint8Array | null {
  store<u32>(RET, 0);
  store<u32>(RET + 4, 0);
  if (proxy_get_header_map_value(mapType, name.dataStart, <usize>name.length, RET, RET + 4) != OK) return null;
  return takeReturned();
}

export function getBuffer(bufferType: u32, start: u32, length: u32): Uint8Array | null {
  store<u32>(RET, 0);
  store<u32>(RET + 4, 0);
  if (proxy_get_buffer_bytes(bufferType, start, length, RET, RET + 4) != OK) return null;
  return takeReturned();
}

export function nowNanos(): u64 {
  store<u64>(RET + 8, 0);
  proxy_get_current_time_nanoseconds(RET + 8);
  return load<u64>(RET + 8);
}

export function log(level: u32, message: string): void {
  const bytes = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(bytes), <usize>bytes.byteLength);
}

export function defineCounter(name: string): u32 {
  const bytes = String.UTF8.encode(name);
  store<u32>(RET + 8, 0);
  if (proxy_define_metric(METRIC_COUNTER, changetype<usize>(bytes), <usize>bytes.byteLength, RET + 8) != OK) return 0;
  return load<u32>(RET + 8);
}

/** dispatches an HTTP call; returns the host status and writes the call token into `tokenOut[0]` */
export function httpCall(cluster: Uint8Array, headerPairs: Uint8Array, body: Uint8Array, timeoutMs: u32, tokenOut: StaticArray<u32>): u32 {
  store<u32>(RET + 8, 0);
  const status = proxy_http_call(
    cluster.dataStart,
    <usize>cluster.length,
    headerPairs.dataStart,
    <usize>headerPairs.length,
    body.dataStart,
    <usize>body.length,
    0,
    0,
    timeoutMs,
    RET + 8,
  );
  unchecked((tokenOut[0] = load<u32>(RET + 8)));
  return status;
}

/** 64-bit little-endian integer property value (Envoy's encoding of int, uint, timestamp and duration) */
export function readI64(value: Uint8Array | null, fallback: i64): i64 {
  if (value === null || value.length != 8) return fallback;
  return load<i64>(value.dataStart);
}
