/** Constants of the proxy-wasm ABI 0.2.1 as used by the Node test host. */
export const WasmResult = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;

export const HeaderMapType = {
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4,
  GrpcReceiveTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;

export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
} as const;

export const LogLevel = { Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4, Critical: 5 } as const;

export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;

export type HeaderValue = string | Uint8Array;
export type HeaderList = ReadonlyArray<readonly [string, HeaderValue]>;

const utf8 = new TextEncoder();

export const toBytes = (v: HeaderValue): Uint8Array => (typeof v === 'string' ? utf8.encode(v) : v);

/**
 * Header map wire format: u32 pair count, then (u32 key size, u32 value size) per pair, then each key and each value
 * followed by a NUL byte. All integers little-endian.
 */
export function encodeHeaderPairs(headers: HeaderList): Uint8Array {
  const pairs = headers.map(([k, v]) => [utf8.encode(k), toBytes(v)] as const);
  let size = 4 + pairs.length * 8;
  for (const [k, v] of pairs) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, pairs.length, true);
  let p = 4;
  for (const [k, v] of pairs) {
    dv.setUint32(p, k.length, true);
    dv.setUint32(p + 4, v.length, true);
    p += 8;
  }
  for (const [k, v] of pairs) {
    out.set(k, p);
    p += k.length + 1;
    out.set(v, p);
    p += v.length + 1;
  }
  return out;
}

/** the inverse of encodeHeaderPairs; throws on a malformed buffer */
export function decodeHeaderPairs(buf: Uint8Array): Array<[string, Uint8Array]> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.length < 4) throw new Error('header pairs: buffer too short');
  const n = dv.getUint32(0, true);
  if (4 + n * 8 > buf.length) throw new Error('header pairs: count exceeds buffer');
  const sizes: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) sizes.push([dv.getUint32(4 + i * 8, true), dv.getUint32(8 + i * 8, true)]);
  let p = 4 + n * 8;
  const dec = new TextDecoder();
  const out: Array<[string, Uint8Array]> = [];
  for (const [ks, vs] of sizes) {
    if (p + ks + vs + 2 > buf.length) throw new Error('header pairs: sizes exceed buffer');
    const key = dec.decode(buf.subarray(p, p + ks));
    p += ks + 1;
    out.push([key, buf.slice(p, p + vs)]);
    p += vs + 1;
  }
  return out;
}

/** property value encoding of Envoy: strings/bytes as-is, integers as 8 bytes little-endian, bools as one byte */
export type PropertyValue = string | Uint8Array | bigint | number | boolean;

export function encodeProperty(v: PropertyValue): Uint8Array {
  if (typeof v === 'string') return utf8.encode(v);
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'boolean') return Uint8Array.of(v ? 1 : 0);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)), true);
  return out;
}
