import { getHeader, getProperty, MAP_REQUEST_HEADERS, MAP_RESPONSE_HEADERS, readI64 } from './abi';
import { ByteBuilder, bytesOf, hexDigit, hexValue, isHex, lowerAscii, sliceEquals } from './bytes';
import { PluginConfig } from './plugin-config';
import { HmacSha256 } from './sha256';

// Builds one ApiCallRecord (pipeline/core/record.ts) as JSON bytes from Envoy attributes and request headers.
// Every string is length-capped to the schema's maximum and UTF-8-checked, so whatever the proxy hands us the
// record stays valid. The bearer token only ever enters the HMAC.

const P_METHOD = bytesOf('request\0method');
const P_PATH = bytesOf('request\0path');
const P_HOST = bytesOf('request\0host');
const P_TIME = bytesOf('request\0time');
const P_DURATION = bytesOf('request\0duration');
const P_REQ_SIZE = bytesOf('request\0total_size');
const P_RESP_SIZE = bytesOf('response\0total_size');
const P_CODE = bytesOf('response\0code');
const P_SOURCE = bytesOf('source\0address');
const P_MTLS = bytesOf('connection\0mtls');
const P_PEER_SAN = bytesOf('connection\0uri_san_peer_certificate');
const P_CLUSTER = bytesOf('xds\0cluster_name');

const H_METHOD = bytesOf(':method');
const H_PATH = bytesOf(':path');
const H_AUTHORITY = bytesOf(':authority');
const H_STATUS = bytesOf(':status');
const H_AUTHORIZATION = bytesOf('authorization');
const H_TRACEPARENT = bytesOf('traceparent');
const H_B3_PARENT = bytesOf('x-b3-parentspanid');
const H_REQUEST_ID = bytesOf('x-request-id');
const REDACTED = bytesOf('[redacted]');
const UNKNOWN = bytesOf('UNKNOWN');

export const BUILT: i32 = 0;
export const SKIPPED: i32 = 1;

export class RecordBuilder {
  readonly out: ByteBuilder = new ByteBuilder(2048);
  truncatedFields: i32 = 0;
  private config: PluginConfig;
  private sensorId: Uint8Array;
  private hmac: HmacSha256;
  private mac: StaticArray<u8> = new StaticArray<u8>(32);
  private path: ByteBuilder = new ByteBuilder(256);
  private decoded: ByteBuilder = new ByteBuilder(64);
  private paramNames: Array<Uint8Array> = [];
  private paramValues: Array<Uint8Array> = [];
  private idPrefix: string;
  private idCounter: u64 = 0;

  constructor(config: PluginConfig, sensorId: string, idPrefix: string) {
    this.config = config;
    this.sensorId = bytesOf(sensorId);
    this.hmac = new HmacSha256(bytesOf(config.tokenHashKey));
    this.idPrefix = idPrefix;
  }

  /** builds the record of the current HTTP context into `out`; SKIPPED when there is no request path at all */
  build(nowNs: u64): i32 {
    const out = this.out;
    out.reset();
    this.truncatedFields = 0;
    let path = getProperty(P_PATH);
    if (path === null || path.length == 0) path = getHeader(MAP_REQUEST_HEADERS, H_PATH);
    if (path === null || path.length == 0) return SKIPPED;

    const durationNs = readI64(getProperty(P_DURATION), 0);
    const duration: u64 = durationNs < 0 ? 0 : min<u64>(<u64>durationNs, 86_400_000_000_000);
    let startNs = readI64(getProperty(P_TIME), 0);
    if (startNs <= 0) startNs = <i64>nowNs - <i64>duration;
    if (startNs < 0) startNs = 0;

    out.ascii('{"v":1,"id":');
    this.writeId(<u64>startNs);
    out.ascii(',"ts":');
    out.uint(<u64>startNs / 1_000_000);
    out.ascii(',"durationMs":');
    out.millisFromNanos(duration);
    out.ascii(',"sensor":{"kind":"envoy_wasm","id":');
    out.jsonBytes(this.sensorId, 256);
    out.ascii('},"service":');
    this.writeService();
    out.ascii(',"method":');
    let method = getProperty(P_METHOD);
    if (method === null || method.length == 0) method = getHeader(MAP_REQUEST_HEADERS, H_METHOD);
    if (method === null || method.length == 0) method = UNKNOWN;
    this.count(out.jsonBytes(method, 32));
    out.ascii(',"host":');
    let host = getProperty(P_HOST);
    if (host === null) host = getHeader(MAP_REQUEST_HEADERS, H_AUTHORITY);
    this.count(out.jsonBytes(host === null ? new Uint8Array(0) : host, 512));
    out.ascii(',"path":');
    this.writePath(path);
    out.ascii(',"status":');
    out.uint(this.status());
    out.ascii(',"reqBytes":');
    out.uint(<u64>max<i64>(0, readI64(getProperty(P_REQ_SIZE), 0)));
    out.ascii(',"respBytes":');
    out.uint(<u64>max<i64>(0, readI64(getProperty(P_RESP_SIZE), 0)));
    out.ascii(',"source":{');
    this.writeSource();
    out.byte(125);
    this.writeUser();
    this.writeTrace();
    this.writeParams();
    this.writeTags();
    out.byte(125);
    return BUILT;
  }

  private count(truncated: bool): void {
    if (truncated) this.truncatedFields++;
  }

  private writeId(startNs: u64): void {
    const rid = getHeader(MAP_REQUEST_HEADERS, H_REQUEST_ID);
    if (rid !== null && rid.length > 0 && rid.length <= 64 && isIdSafe(rid)) {
      this.out.jsonBytes(rid, 64);
      return;
    }
    this.idCounter++;
    const out = this.out;
    out.byte(34);
    out.ascii(this.idPrefix);
    out.byte(45);
    writeHex(out, startNs / 1_000_000);
    out.byte(45);
    writeHex(out, this.idCounter);
    out.byte(34);
  }

  private writeService(): void {
    const configured = this.config.service;
    if (configured.length > 0) {
      this.out.jsonBytes(bytesOf(configured), 256);
      return;
    }
    const cluster = getProperty(P_CLUSTER);
    if (cluster !== null && cluster.length > 0) {
      this.count(this.out.jsonBytes(cluster, 256));
      return;
    }
    this.out.ascii('"unknown"');
  }

  private status(): u64 {
    const code = readI64(getProperty(P_CODE), -1);
    if (code >= 0 && code <= 999) return <u64>code;
    const header = getHeader(MAP_RESPONSE_HEADERS, H_STATUS);
    if (header === null || header.length == 0 || header.length > 3) return 0;
    let v: u64 = 0;
    for (let i = 0; i < header.length; i++) {
      const c = <u32>header[i];
      if (c < 48 || c > 57) return 0;
      v = v * 10 + <u64>(c - 48);
    }
    return v;
  }

  /** path with redacted query values; kept params collected on the way */
  private writePath(src: Uint8Array): void {
    const cfg = this.config;
    const p = this.path;
    p.reset();
    this.paramNames.length = 0;
    this.paramValues.length = 0;
    const q = src.indexOf(63);
    if (q < 0) {
      this.count(this.out.jsonBytes(src, 8192));
      return;
    }
    p.raw(src.dataStart, q + 1);
    let start = q + 1;
    const n = src.length;
    while (start <= n) {
      let end = start;
      while (end < n && src[end] != 38) end++;
      let eq = start;
      while (eq < end && src[eq] != 61) eq++;
      const dec = this.decoded;
      dec.reset();
      percentDecode(src, start, eq, dec);
      let redact = false;
      for (let i = 0; i < cfg.redactParams.length; i++) {
        if (sliceEquals(dec.buf, 0, dec.len, cfg.redactParams[i], true)) {
          redact = true;
          break;
        }
      }
      if (start < end) {
        if (redact) {
          p.raw(src.dataStart + <usize>start, eq - start);
          if (eq < end) {
            p.byte(61);
            p.bytes(REDACTED);
          }
        } else p.raw(src.dataStart + <usize>start, end - start);
        this.keep(src, eq, end, redact);
      }
      if (end < n) p.byte(38);
      start = end + 1;
    }
    this.count(this.out.jsonString(p.buf, 0, p.len, 8192));
  }

  /** records the current param (its decoded name is in `decoded`) when it is on the keep list */
  private keep(src: Uint8Array, eq: i32, end: i32, redact: bool): void {
    const cfg = this.config;
    const dec = this.decoded;
    if (this.paramNames.length >= 256) return;
    let wanted = false;
    for (let i = 0; i < cfg.keepParams.length; i++) {
      if (sliceEquals(dec.buf, 0, dec.len, cfg.keepParams[i], false)) {
        wanted = true;
        break;
      }
    }
    if (!wanted) return;
    for (let i = 0; i < this.paramNames.length; i++)
      if (sliceEquals(dec.buf, 0, dec.len, this.paramNames[i], false)) return;
    this.paramNames.push(dec.toBytes());
    if (redact) {
      this.paramValues.push(REDACTED);
      return;
    }
    dec.reset();
    if (eq < end) percentDecode(src, eq + 1, end, dec);
    this.paramValues.push(dec.toBytes());
  }

  private writeParams(): void {
    const names = this.paramNames;
    if (names.length == 0) return;
    const out = this.out;
    out.ascii(',"params":{');
    for (let i = 0; i < names.length; i++) {
      if (i > 0) out.byte(44);
      out.jsonBytes(names[i], 256);
      out.byte(58);
      this.count(out.jsonBytes(this.paramValues[i], 4096));
    }
    out.byte(125);
  }

  private writeSource(): void {
    const out = this.out;
    let first = true;
    const addr = getProperty(P_SOURCE);
    if (addr !== null && addr.length > 0) {
      out.ascii('"ip":');
      const end = hostPartEnd(addr);
      const start = addr[0] == 91 ? 1 : 0;
      this.count(out.jsonString(addr, start, end, 64));
      first = false;
    }
    const san = getProperty(P_PEER_SAN);
    if (san !== null && san.length > 0) {
      if (!first) out.byte(44);
      out.ascii('"principal":');
      this.count(out.jsonBytes(san, 512));
      first = false;
    }
    const mtls = getProperty(P_MTLS);
    if (mtls !== null && mtls.length > 0) {
      if (!first) out.byte(44);
      out.ascii(mtls[0] != 0 ? '"mtls":true' : '"mtls":false');
    }
  }

  private writeUser(): void {
    const auth = getHeader(MAP_REQUEST_HEADERS, H_AUTHORIZATION);
    if (auth === null) return;
    let start = 0;
    let end = auth.length;
    while (start < end && isSpace(auth[start])) start++;
    while (end > start && isSpace(auth[end - 1])) end--;
    if (end - start > 7 && sliceEquals(auth, start, start + 7, bytesOf('bearer '), true)) {
      start += 7;
      while (start < end && isSpace(auth[start])) start++;
    }
    if (start >= end) return;
    const macPtr = changetype<usize>(this.mac);
    this.hmac.mac(auth.dataStart + <usize>start, end - start, macPtr);
    const out = this.out;
    out.ascii(',"user":{"tokenHash":"h1:');
    for (let i = 0; i < 16; i++) {
      const b = <u32>load<u8>(macPtr + <usize>i);
      out.byte(hexDigit(b >> 4));
      out.byte(hexDigit(b & 15));
    }
    out.ascii('"}');
  }

  private writeTrace(): void {
    const tp = getHeader(MAP_REQUEST_HEADERS, H_TRACEPARENT);
    if (tp === null || !validTraceparent(tp)) return;
    const out = this.out;
    out.ascii(',"trace":{"traceId":');
    out.jsonString(tp, 3, 35, 32);
    out.ascii(',"spanId":');
    out.jsonString(tp, 36, 52, 16);
    const parent = getHeader(MAP_REQUEST_HEADERS, H_B3_PARENT);
    if (parent !== null && parent.length == 16 && allHex(parent, 0, 16)) {
      out.ascii(',"parentSpanId":');
      out.jsonBytes(parent, 16);
    }
    out.byte(125);
  }

  private writeTags(): void {
    const names = this.config.tagHeaders;
    const out = this.out;
    let written = 0;
    for (let i = 0; i < names.length; i++) {
      const value = getHeader(MAP_REQUEST_HEADERS, names[i]);
      if (value === null) continue;
      out.ascii(written == 0 ? ',"tags":{' : ',');
      out.jsonBytes(names[i], 128);
      out.byte(58);
      this.count(out.jsonBytes(value, 1024));
      written++;
    }
    if (written > 0) out.byte(125);
  }
}

function isSpace(b: u8): bool {
  return b == 32 || b == 9;
}

function isIdSafe(v: Uint8Array): bool {
  for (let i = 0; i < v.length; i++) {
    const c = <u32>v[i];
    const ok =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 46 || c == 95 || c == 58;
    if (!ok) return false;
  }
  return true;
}

function writeHex(out: ByteBuilder, v: u64): void {
  let started = false;
  for (let shift = 60; shift >= 0; shift -= 4) {
    const d = <u32>((v >> <u64>shift) & 15);
    if (d != 0 || started || shift == 0) {
      out.byte(hexDigit(d));
      started = true;
    }
  }
}

function allHex(v: Uint8Array, start: i32, end: i32): bool {
  let nonZero = false;
  for (let i = start; i < end; i++) {
    const c = <u32>v[i];
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
    if (c != 48) nonZero = true;
  }
  return nonZero;
}

/** W3C traceparent: 2 hex version (not ff) - 32 hex trace id - 16 hex parent id - 2 hex flags, lowercase */
function validTraceparent(tp: Uint8Array): bool {
  if (tp.length < 55) return false;
  if (tp[2] != 45 || tp[35] != 45 || tp[52] != 45) return false;
  if (!isHex(tp[0]) || !isHex(tp[1]) || (lowerAscii(tp[0]) == 102 && lowerAscii(tp[1]) == 102)) return false;
  if (tp.length > 55 && tp[55] != 45) return false;
  return allHex(tp, 3, 35) && allHex(tp, 36, 52) && isHex(tp[53]) && isHex(tp[54]);
}

/** end of the host part of "ip:port" or "[v6]:port"; the whole value for anything else */
function hostPartEnd(addr: Uint8Array): i32 {
  if (addr[0] == 91) {
    const close = addr.indexOf(93);
    return close > 0 ? close : addr.length;
  }
  const colon = addr.indexOf(58);
  if (colon < 0 || addr.lastIndexOf(58) != colon) return addr.length;
  return colon;
}

/** application/x-www-form-urlencoded decoding of src[start, end) */
function percentDecode(src: Uint8Array, start: i32, end: i32, out: ByteBuilder): void {
  let i = start;
  while (i < end) {
    const c = <u32>src[i];
    if (c == 37 && i + 2 < end && isHex(src[i + 1]) && isHex(src[i + 2])) {
      out.byte((hexValue(src[i + 1]) << 4) | hexValue(src[i + 2]));
      i += 3;
    } else {
      out.byte(c == 43 ? 32 : c);
      i++;
    }
  }
}
