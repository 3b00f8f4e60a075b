import {
  BUFFER_HTTP_CALL_RESPONSE_BODY,
  getBuffer,
  getHeader,
  httpCall,
  LOG_INFO,
  LOG_WARN,
  log,
  MAP_HTTP_CALL_RESPONSE_HEADERS,
  OK,
  proxy_done,
  proxy_increment_metric,
} from './abi';
import { ByteBuilder, bytesOf } from './bytes';
import { J_ARR, J_NUM, J_OBJ, JsonReader } from './json-reader';
import { Metrics } from './metrics';
import { PluginConfig } from './plugin-config';

// The bounded record buffer of one root context and the batches it ships to the collector cluster. Records that do
// not fit are dropped and counted; a failed batch is counted and not retried; while the collector fails, at most one
// probe batch per tick is sent, so a dead collector never sees a retry storm.

const H_STATUS = bytesOf(':status');

export class Shipper {
  private config: PluginConfig;
  private metrics: Metrics;
  private ring: Array<Uint8Array | null>;
  private head: i32 = 0;
  size: i32 = 0;
  inFlight: i32 = 0;
  failing: bool = false;
  draining: bool = false;
  private calls: Map<u32, i32> = new Map<u32, i32>();
  private token: StaticArray<u32> = new StaticArray<u32>(1);
  private cluster: Uint8Array;
  private headerPairs: Uint8Array;
  private body: ByteBuilder = new ByteBuilder(16384);
  // losses since the last delivered batch, reported when the collector answers 2xx again
  private droppedSinceDelivery: u64 = 0;
  private failedRecordsSinceDelivery: u64 = 0;
  private failedBatchesSinceDelivery: u64 = 0;

  constructor(config: PluginConfig, metrics: Metrics) {
    this.config = config;
    this.metrics = metrics;
    this.ring = new Array<Uint8Array | null>(config.maxBuffer);
    this.cluster = bytesOf(config.collectorCluster);
    this.headerPairs = serializePairs(
      [':method', ':path', ':authority', 'content-type', 'authorization'],
      ['POST', config.collectorPath, config.collectorAuthority, 'application/json', 'Bearer ' + config.sensorToken],
    );
  }

  /** queues one record; false (and counted) when the buffer is full */
  offer(record: Uint8Array): bool {
    if (this.size >= this.config.maxBuffer) {
      this.droppedSinceDelivery++;
      proxy_increment_metric(this.metrics.dropped, 1);
      return false;
    }
    const cap = this.config.maxBuffer;
    unchecked((this.ring[(this.head + this.size) % cap] = record));
    this.size++;
    return true;
  }

  /** a full batch is waiting and may be sent now */
  wantsFlush(): bool {
    return this.size >= this.config.batchSize && !this.failing && this.inFlight < this.config.maxInFlight;
  }

  /** at each tick: ship what is buffered (one probe batch only while the collector fails) */
  onTick(): void {
    if (this.failing) {
      if (this.size > 0 && this.inFlight < this.config.maxInFlight) this.sendOne();
      return;
    }
    while (this.size > 0 && this.inFlight < this.config.maxInFlight) {
      if (!this.sendOne()) break;
    }
  }

  /** the root context is going away: ship everything the in-flight cap allows; true when nothing is left */
  drain(): bool {
    this.draining = true;
    while (this.size > 0 && this.inFlight < this.config.maxInFlight) this.sendOne();
    return this.size == 0 && this.inFlight == 0;
  }

  /** takes up to batch_size records off the buffer and dispatches them; false when the dispatch failed */
  sendOne(): bool {
    const cfg = this.config;
    const n = min(this.size, cfg.batchSize);
    if (n == 0) return false;
    const body = this.body;
    body.reset();
    body.byte(91);
    for (let i = 0; i < n; i++) {
      const slot = this.head;
      const rec = unchecked(this.ring[slot]);
      unchecked((this.ring[slot] = null));
      this.head = (slot + 1) % cfg.maxBuffer;
      if (i > 0) body.byte(44);
      if (rec !== null) body.bytes(rec);
    }
    body.byte(93);
    this.size -= n;
    const payload = body.toBytes();
    const status = httpCall(this.cluster, this.headerPairs, payload, <u32>cfg.httpTimeoutMs, this.token);
    if (status != OK) {
      this.batchFailed(
        n,
        'dispatch to cluster ' + cfg.collectorCluster + ' refused by the proxy (status ' + status.toString() + ')',
      );
      return false;
    }
    this.calls.set(unchecked(this.token[0]), n);
    this.inFlight++;
    return true;
  }

  /** the answer to one of our calls (we run in the root context here) */
  onResponse(token: u32, numHeaders: i32, bodySize: i32): void {
    if (!this.calls.has(token)) return;
    const n = this.calls.get(token);
    this.calls.delete(token);
    this.inFlight--;
    let status: i32 = 0;
    if (numHeaders > 0) {
      const h = getHeader(MAP_HTTP_CALL_RESPONSE_HEADERS, H_STATUS);
      if (h !== null) status = parseStatus(h);
    }
    if (status >= 200 && status < 300) this.delivered(n, bodySize);
    else this.batchFailed(n, status == 0 ? 'no answer from the collector' : 'collector answered ' + status.toString());
    if (this.draining) {
      if (this.drain()) proxy_done();
    } else if (this.wantsFlush()) this.sendOne();
  }

  private delivered(n: i32, bodySize: i32): void {
    const m = this.metrics;
    proxy_increment_metric(m.batchesSent, 1);
    proxy_increment_metric(m.sent, n);
    if (bodySize > 0) {
      const rejected = rejectedCount(getBuffer(BUFFER_HTTP_CALL_RESPONSE_BODY, 0, <u32>bodySize));
      if (rejected > 0) proxy_increment_metric(m.rejected, rejected);
    }
    if (this.failing || this.droppedSinceDelivery > 0 || this.failedRecordsSinceDelivery > 0) {
      log(
        LOG_INFO,
        'meshward sensor: collector delivery ok again; since the last delivered batch ' +
          this.droppedSinceDelivery.toString() +
          ' records were dropped (buffer full) and ' +
          this.failedRecordsSinceDelivery.toString() +
          ' records were lost in ' +
          this.failedBatchesSinceDelivery.toString() +
          ' failed batches',
      );
      this.droppedSinceDelivery = 0;
      this.failedRecordsSinceDelivery = 0;
      this.failedBatchesSinceDelivery = 0;
    }
    this.failing = false;
  }

  private batchFailed(n: i32, reason: string): void {
    const m = this.metrics;
    proxy_increment_metric(m.batchesFailed, 1);
    proxy_increment_metric(m.failed, n);
    this.failedRecordsSinceDelivery += <u64>n;
    this.failedBatchesSinceDelivery++;
    if (!this.failing) {
      log(
        LOG_WARN,
        'meshward sensor: batch of ' +
          n.toString() +
          ' records failed: ' +
          reason +
          '; sending one batch per tick until the collector recovers',
      );
    }
    this.failing = true;
  }
}

function parseStatus(h: Uint8Array): i32 {
  if (h.length == 0 || h.length > 3) return 0;
  let v = 0;
  for (let i = 0; i < h.length; i++) {
    const c = <i32>h[i];
    if (c < 48 || c > 57) return 0;
    v = v * 10 + c - 48;
  }
  return v;
}

/** `rejected` of the collector's answer: a count or a list of rejections */
function rejectedCount(body: Uint8Array | null): i64 {
  if (body === null) return 0;
  const doc = new JsonReader(body).parse();
  if (doc === null || doc.kind != J_OBJ) return 0;
  const r = doc.get('rejected');
  if (r === null) return 0;
  if (r.kind == J_ARR) return r.items.length;
  if (r.kind == J_NUM && r.n > 0) return <i64>r.n;
  return 0;
}

/** proxy-wasm header map encoding: count, (key size, value size) per pair, then each key and value NUL-terminated */
export function serializePairs(keys: string[], values: string[]): Uint8Array {
  const n = keys.length;
  const k = new Array<Uint8Array>(n);
  const v = new Array<Uint8Array>(n);
  let size = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    k[i] = bytesOf(keys[i]);
    v[i] = bytesOf(values[i]);
    size += k[i].length + v[i].length + 2;
  }
  const out = new Uint8Array(size);
  const base = out.dataStart;
  store<u32>(base, <u32>n);
  let p = base + 4;
  for (let i = 0; i < n; i++) {
    store<u32>(p, <u32>k[i].length);
    store<u32>(p + 4, <u32>v[i].length);
    p += 8;
  }
  for (let i = 0; i < n; i++) {
    memory.copy(p, k[i].dataStart, <usize>k[i].length);
    p += <usize>k[i].length;
    store<u8>(p++, 0);
    memory.copy(p, v[i].dataStart, <usize>v[i].length);
    p += <usize>v[i].length;
    store<u8>(p++, 0);
  }
  return out;
}
