// meshward access-log sensor for Envoy: one ApiCallRecord per finished request (proxy_on_log), buffered per root
// context and shipped in JSON batches to the collector cluster. Entry points follow the proxy-wasm ABI 0.2.1.
import {
  BUFFER_PLUGIN_CONFIGURATION,
  getBuffer,
  getProperty,
  LOG_ERROR,
  LOG_INFO,
  log,
  nowNanos,
  proxy_increment_metric,
  proxy_set_effective_context,
  proxy_set_tick_period_milliseconds,
} from './abi';
import './abort';
import { bytesOf, hexDigit } from './bytes';
import { Metrics } from './metrics';
import { PluginConfig, parsePluginConfig } from './plugin-config';
import { BUILT, RecordBuilder } from './record-builder';
import { Shipper } from './shipper';

const ACTION_CONTINUE: u32 = 0;
const P_NODE_ID = bytesOf('node\0id');

class Root {
  id: u32;
  config: PluginConfig | null = null;
  builder: RecordBuilder | null = null;
  shipper: Shipper | null = null;
  rng: u64 = 0;
  sampleBelow: u64 = 0;

  constructor(id: u32) {
    this.id = id;
  }

  /** xorshift64*: sampling and id prefixes only, nothing secret */
  next(): u64 {
    let x = this.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    this.rng = x;
    return x * 0x2545f4914f6cdd1d;
  }
}

const roots = new Map<u32, Root>();
const parentOf = new Map<u32, u32>();
let metrics: Metrics | null = null;

export function proxy_abi_version_0_2_1(): void {}

export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  if (parentId == 0) roots.set(contextId, new Root(contextId));
  else parentOf.set(contextId, parentId);
}

export function proxy_on_vm_start(rootId: u32, vmConfigSize: u32): bool {
  return true;
}

export function proxy_on_configure(rootId: u32, configSize: u32): bool {
  if (metrics === null) metrics = new Metrics();
  const m = metrics!;
  if (!roots.has(rootId)) roots.set(rootId, new Root(rootId));
  const root = roots.get(rootId);
  let bytes = configSize > 0 ? getBuffer(BUFFER_PLUGIN_CONFIGURATION, 0, configSize) : null;
  if (bytes === null) bytes = new Uint8Array(0);
  const parsed = parsePluginConfig(bytes);
  if (parsed.config === null) {
    log(LOG_ERROR, 'meshward sensor: invalid plugin configuration: ' + parsed.error);
    proxy_increment_metric(m.configRejected, 1);
    return false;
  }
  const config = parsed.config!;
  root.rng = (nowNanos() ^ (<u64>rootId * 0x9e3779b97f4a7c15)) | 1;
  root.sampleBelow = config.sampleRate >= 1.0 ? u64.MAX_VALUE : <u64>(config.sampleRate * 18446744073709551615.0);
  let sensorId = config.sensorId;
  if (sensorId.length == 0) {
    const node = getProperty(P_NODE_ID);
    sensorId = node !== null && node.length > 0 ? String.UTF8.decode(node.buffer) : 'envoy';
  }
  let prefix = 'mw';
  const r = root.next();
  for (let i = 0; i < 8; i++) prefix += String.fromCharCode(<i32>hexDigit(<u32>((r >> (<u64>i * 4)) & 15)));
  // a reconfigure hands over what the old buffer still holds
  const old = root.shipper;
  if (old !== null) old.onTick();
  root.config = config;
  root.builder = new RecordBuilder(config, sensorId, prefix);
  root.shipper = new Shipper(config, m);
  proxy_set_tick_period_milliseconds(<u32>config.tickMs);
  log(
    LOG_INFO,
    'meshward sensor: configured, shipping to cluster ' + config.collectorCluster + ' as sensor ' + sensorId,
  );
  return true;
}

export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  return ACTION_CONTINUE;
}

export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  return ACTION_CONTINUE;
}

export function proxy_on_log(contextId: u32): void {
  if (!parentOf.has(contextId)) return;
  const rootId = parentOf.get(contextId);
  if (!roots.has(rootId)) return;
  const root = roots.get(rootId);
  const builder = root.builder;
  const shipper = root.shipper;
  const m = metrics;
  if (builder === null || shipper === null || m === null) return;
  if (root.sampleBelow != u64.MAX_VALUE && root.next() >= root.sampleBelow) {
    proxy_increment_metric(m.sampledOut, 1);
    return;
  }
  if (builder.build(nowNanos()) != BUILT) {
    proxy_increment_metric(m.skipped, 1);
    return;
  }
  if (builder.truncatedFields > 0) proxy_increment_metric(m.truncated, builder.truncatedFields);
  if (!shipper.offer(builder.out.toBytes())) return;
  if (shipper.wantsFlush()) {
    // calls belong to the context that dispatches them; the root context outlives this request
    proxy_set_effective_context(rootId);
    shipper.sendOne();
    proxy_set_effective_context(contextId);
  }
}

export function proxy_on_tick(rootId: u32): void {
  if (!roots.has(rootId)) return;
  const shipper = roots.get(rootId).shipper;
  if (shipper !== null) shipper.onTick();
}

export function proxy_on_http_call_response(
  contextId: u32,
  token: u32,
  numHeaders: u32,
  bodySize: u32,
  numTrailers: u32,
): void {
  if (!roots.has(contextId)) return;
  const shipper = roots.get(contextId).shipper;
  if (shipper !== null) shipper.onResponse(token, <i32>numHeaders, <i32>bodySize);
}

export function proxy_on_done(contextId: u32): bool {
  if (!roots.has(contextId)) return true;
  const shipper = roots.get(contextId).shipper;
  return shipper === null ? true : shipper.drain();
}

export function proxy_on_delete(contextId: u32): void {
  if (roots.has(contextId)) roots.delete(contextId);
  if (parentOf.has(contextId)) parentOf.delete(contextId);
}
