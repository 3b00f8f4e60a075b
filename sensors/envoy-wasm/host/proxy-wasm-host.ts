import {
  BufferType,
  decodeHeaderPairs,
  encodeHeaderPairs,
  encodeProperty,
  HeaderMapType,
  type HeaderList,
  LogLevel,
  type PropertyValue,
  toBytes,
  WasmResult,
} from './abi.js';
import { isWasmModule, Wasm, type WasmImports, type WasmMemory, type WasmModule } from './wasm-api.js';

/**
 * A proxy-wasm (ABI 0.2.1) host in Node, enough to run an HTTP filter's whole lifecycle outside Envoy: root context,
 * configure, per-request contexts with headers and properties, ticks, metrics and outbound HTTP calls that really
 * go over the network. Written from the ABI's semantics for tests and benches of the meshward sensor.
 */

export interface SimulatedRequest {
  requestHeaders: HeaderList;
  responseHeaders?: HeaderList;
  /** Envoy attributes by dotted path, e.g. `request.path`, `connection.mtls` */
  properties?: Record<string, PropertyValue>;
}

export interface HttpCallRequest {
  cluster: string;
  headers: Array<[string, string]>;
  body: Uint8Array;
  timeoutMs: number;
}

export interface HttpCallResult {
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** performs one outbound call; null means the call failed (connection refused, reset, timeout) */
export type HttpDispatcher = (call: HttpCallRequest, baseUrl: string) => Promise<HttpCallResult | null>;

export interface ProxyWasmHostOptions {
  /** the compiled filter; or `instantiate` for a module written in JS (benchmark baselines) */
  module?: WasmModule | Uint8Array;
  instantiate?: (imports: WasmImports) => Record<string, unknown>;
  pluginConfig: string | Uint8Array;
  vmConfig?: string | Uint8Array;
  /** upstream cluster name → base URL, the targets proxy_http_call may name */
  clusters?: Record<string, string>;
  /** transport for proxy_http_call; defaults to fetch against the cluster's base URL */
  dispatch?: HttpDispatcher;
  /** attributes visible from every context (e.g. `node.id`) */
  rootProperties?: Record<string, PropertyValue>;
  now?: () => bigint;
  logLevel?: number;
  onLog?: (level: number, message: string) => void;
  /** sees every outbound call as the module built it (headers and raw body) */
  onHttpCall?: (call: HttpCallRequest) => void;
}

interface HttpContext {
  kind: 'http';
  request: SimulatedRequest;
}
interface RootContext {
  kind: 'root';
}
type Context = HttpContext | RootContext;

type Exports = Record<string, unknown> & { memory: WasmMemory; malloc: (size: number) => number };

export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`module called proc_exit(${code})`);
  }
}

const utf8 = new TextEncoder();
const textDecoder = new TextDecoder();

export const fetchDispatch: HttpDispatcher = async (call, baseUrl) => {
  const pseudo = new Map(call.headers.filter(([k]) => k.startsWith(':')));
  const headers = call.headers.filter(([k]) => !k.startsWith(':'));
  try {
    const res = await fetch(baseUrl + (pseudo.get(':path') ?? '/'), {
      method: pseudo.get(':method') ?? 'GET',
      headers,
      body: call.body.length > 0 ? call.body : undefined,
      signal: AbortSignal.timeout(call.timeoutMs),
    });
    const body = new Uint8Array(await res.arrayBuffer());
    return { headers: [[':status', String(res.status)], ...res.headers], body };
  } catch {
    return null;
  }
};

export class ProxyWasmHost {
  readonly rootId = 1;
  readonly logs: Array<{ level: number; message: string }> = [];
  /** imports the module called that this host does not implement */
  readonly unimplemented = new Set<string>();
  tickPeriodMs = 0;
  httpCalls = 0;
  inFlight = 0;
  maxInFlight = 0;

  private exports!: Exports;
  private readonly opts: ProxyWasmHostOptions;
  private readonly contexts = new Map<number, Context>();
  private current = 0;
  private nextContextId = 2;
  private nextToken = 0;
  private pluginConfig: Uint8Array;
  private callResponse: HttpCallResult | null = null;
  private readonly metricIds = new Map<string, number>();
  private readonly metricValues: Array<{ name: string; type: number; value: bigint }> = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly errors: unknown[] = [];
  private ticker: NodeJS.Timeout | undefined;
  private doneCalled = false;
  private doneWaiter: (() => void) | undefined;
  private shutDown = false;

  private constructor(opts: ProxyWasmHostOptions) {
    this.opts = opts;
    this.pluginConfig = toBytes(opts.pluginConfig);
  }

  static async create(opts: ProxyWasmHostOptions): Promise<ProxyWasmHost> {
    const host = new ProxyWasmHost(opts);
    if (opts.instantiate) {
      host.exports = opts.instantiate(host.imports(undefined)) as Exports;
    } else if (opts.module) {
      const mod = isWasmModule(opts.module) ? opts.module : await Wasm.compile(opts.module);
      const instance = await Wasm.instantiate(mod, host.imports(mod));
      host.exports = instance.exports as unknown as Exports;
    } else {
      throw new Error('ProxyWasmHost needs a module or an instantiate function');
    }
    if (typeof host.exports.malloc !== 'function') throw new Error('module does not export malloc');
    return host;
  }

  /** root context, vm start and configure, as Envoy does when the filter is loaded */
  start(): { vmStarted: boolean; configured: boolean } {
    this.contexts.set(this.rootId, { kind: 'root' });
    this.invoke(this.rootId, 'proxy_on_context_create', this.rootId, 0);
    const vmSize = this.opts.vmConfig ? toBytes(this.opts.vmConfig).length : 0;
    const vmStarted = this.invoke(this.rootId, 'proxy_on_vm_start', this.rootId, vmSize) !== 0;
    const configured = this.configure(this.pluginConfig);
    return { vmStarted, configured };
  }

  /** proxy_on_configure with a (new) plugin configuration; Envoy refuses the plugin when this returns false */
  configure(config: string | Uint8Array): boolean {
    this.pluginConfig = toBytes(config);
    return this.invoke(this.rootId, 'proxy_on_configure', this.rootId, this.pluginConfig.length) !== 0;
  }

  /** one request through the filter: create, request headers, response headers, log, done, delete */
  request(request: SimulatedRequest): void {
    const id = this.nextContextId++;
    this.contexts.set(id, { kind: 'http', request });
    try {
      this.invoke(id, 'proxy_on_context_create', id, this.rootId);
      this.invoke(id, 'proxy_on_request_headers', id, request.requestHeaders.length, 1);
      this.invoke(id, 'proxy_on_response_headers', id, request.responseHeaders?.length ?? 0, 1);
      this.invoke(id, 'proxy_on_log', id);
      this.invoke(id, 'proxy_on_done', id);
      this.invoke(id, 'proxy_on_delete', id);
    } finally {
      this.contexts.delete(id);
    }
  }

  tick(): void {
    this.invoke(this.rootId, 'proxy_on_tick', this.rootId);
  }

  /** tick on a real timer at the period the module asked for */
  startTicker(): void {
    this.stopTicker();
    if (this.tickPeriodMs > 0) this.ticker = setInterval(() => this.guard(() => this.tick()), this.tickPeriodMs);
  }

  stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** resolves once no outbound call is pending (answers may start new calls); rethrows a module trap */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    if (this.errors.length > 0) throw this.errors[0];
  }

  /** root proxy_on_done; waits for proxy_done when the module asks to finish its calls; safe to call twice */
  async shutdown(timeoutMs = 5000): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    this.stopTicker();
    const done = this.invoke(this.rootId, 'proxy_on_done', this.rootId) !== 0;
    if (!done && !this.doneCalled) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.doneWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await this.settle();
    this.invoke(this.rootId, 'proxy_on_delete', this.rootId);
    this.contexts.delete(this.rootId);
  }

  get doneSignalled(): boolean {
    return this.doneCalled;
  }

  metric(name: string): bigint {
    const id = this.metricIds.get(name);
    return id === undefined ? 0n : this.metricValues[id].value;
  }

  metrics(): Record<string, bigint> {
    return Object.fromEntries(this.metricValues.map((m) => [m.name, m.value]));
  }

  // ---- calls into the module -------------------------------------------------------------------------------------

  private invoke(contextId: number, name: string, ...args: number[]): number | undefined {
    const fn = this.exports[name];
    if (typeof fn !== 'function') return undefined;
    const previous = this.current;
    this.current = contextId;
    try {
      const r = (fn as (...a: number[]) => unknown)(...args);
      return typeof r === 'number' ? r : undefined;
    } finally {
      this.current = previous;
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.errors.push(err);
    }
  }

  // ---- memory ----------------------------------------------------------------------------------------------------

  // views are rebuilt only when the memory has grown (its buffer is then a new object)
  private memBuffer: ArrayBuffer | undefined;
  private memBytes = new Uint8Array(0);
  private memView = new DataView(new ArrayBuffer(0));

  private bytes(): Uint8Array {
    this.refreshViews();
    return this.memBytes;
  }

  private view(): DataView {
    this.refreshViews();
    return this.memView;
  }

  private refreshViews(): void {
    const buffer = this.exports.memory.buffer;
    if (buffer === this.memBuffer) return;
    this.memBuffer = buffer;
    this.memBytes = new Uint8Array(buffer);
    this.memView = new DataView(buffer);
  }

  private read(ptr: number, size: number): Uint8Array | null {
    const mem = this.bytes();
    if (ptr < 0 || size < 0 || ptr + size > mem.length) return null;
    return mem.slice(ptr, ptr + size);
  }

  /** a string from module memory; `nulAs` replaces NUL bytes (property paths use them as separators) */
  private readString(ptr: number, size: number, nulAs?: string): string | null {
    const mem = this.bytes();
    if (ptr < 0 || size < 0 || ptr + size > mem.length) return null;
    if (size <= 64) {
      // short ASCII names and paths: cheaper than TextDecoder
      let out = '';
      for (let i = ptr; i < ptr + size; i++) {
        const c = mem[i];
        if (c >= 0x80) return this.decodeSlow(mem, ptr, size, nulAs);
        out += c === 0 && nulAs !== undefined ? nulAs : String.fromCharCode(c);
      }
      return out;
    }
    return this.decodeSlow(mem, ptr, size, nulAs);
  }

  private decodeSlow(mem: Uint8Array, ptr: number, size: number, nulAs?: string): string {
    const s = textDecoder.decode(mem.subarray(ptr, ptr + size));
    return nulAs === undefined ? s : s.split('\0').join(nulAs);
  }

  /** hands bytes to the module: malloc in its memory, copy, then write pointer and size into the return slots */
  private returnBytes(value: Uint8Array, dataPtrPtr: number, sizePtr: number): number {
    let ptr = 0;
    if (value.length > 0) {
      ptr = this.exports.malloc(value.length) >>> 0;
      if (ptr === 0) return WasmResult.InternalFailure;
      this.bytes().set(value, ptr); // after malloc: the memory may have grown
    }
    const dv = this.view();
    if (dataPtrPtr + 4 > dv.byteLength || sizePtr + 4 > dv.byteLength) return WasmResult.InvalidMemoryAccess;
    dv.setUint32(dataPtrPtr, ptr, true);
    dv.setUint32(sizePtr, value.length, true);
    return WasmResult.Ok;
  }

  // ---- host calls ------------------------------------------------------------------------------------------------

  private headerMap(type: number): HeaderList | undefined {
    if (type === HeaderMapType.HttpCallResponseHeaders) return this.callResponse?.headers;
    const ctx = this.contexts.get(this.current);
    if (ctx?.kind !== 'http') return undefined;
    if (type === HeaderMapType.RequestHeaders) return ctx.request.requestHeaders;
    if (type === HeaderMapType.ResponseHeaders) return ctx.request.responseHeaders ?? [];
    return undefined;
  }

  // encoded attribute values per properties object: Envoy hands out native values, re-encoding is host overhead
  private readonly encoded = new WeakMap<object, Map<string, Uint8Array>>();

  private property(path: string): Uint8Array | undefined {
    const ctx = this.contexts.get(this.current);
    const own = ctx?.kind === 'http' ? ctx.request.properties : undefined;
    const props = own && path in own ? own : this.opts.rootProperties;
    if (!props || !(path in props)) return undefined;
    let cache = this.encoded.get(props);
    if (!cache) {
      cache = new Map();
      this.encoded.set(props, cache);
    }
    let value = cache.get(path);
    if (!value) {
      value = encodeProperty(props[path]);
      cache.set(path, value);
    }
    return value;
  }

  private startHttpCall(call: HttpCallRequest, owner: number, token: number): void {
    const baseUrl = this.opts.clusters?.[call.cluster] ?? '';
    const dispatch = this.opts.dispatch ?? fetchDispatch;
    this.httpCalls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const p: Promise<void> = dispatch(call, baseUrl)
      .catch(() => null)
      .then((res) => {
        this.inFlight--;
        // Envoy cancels the calls of a context that is gone
        if (!this.contexts.has(owner)) return;
        this.callResponse = res ?? { headers: [], body: new Uint8Array(0) };
        this.guard(() =>
          this.invoke(
            owner,
            'proxy_on_http_call_response',
            owner,
            token,
            res ? res.headers.length : 0,
            res ? res.body.length : 0,
            0,
          ),
        );
        this.callResponse = null;
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private imports(mod: WasmModule | undefined): WasmImports {
    const R = WasmResult;
    const env: Record<string, (...args: never[]) => unknown> = {
      proxy_log: (level: number, ptr: number, size: number) => {
        const message = this.readString(ptr, size);
        if (message === null) return R.InvalidMemoryAccess;
        this.logs.push({ level, message });
        this.opts.onLog?.(level, message);
        return R.Ok;
      },
      proxy_get_log_level: (ptr: number) => {
        this.view().setUint32(ptr, this.opts.logLevel ?? LogLevel.Info, true);
        return R.Ok;
      },
      proxy_get_current_time_nanoseconds: (ptr: number) => {
        const now = this.opts.now?.() ?? BigInt(Date.now()) * 1_000_000n;
        this.view().setBigUint64(ptr, now, true);
        return R.Ok;
      },
      proxy_set_tick_period_milliseconds: (ms: number) => {
        this.tickPeriodMs = ms;
        if (this.ticker) this.startTicker();
        return R.Ok;
      },
      proxy_set_effective_context: (id: number) => {
        if (!this.contexts.has(id)) return R.BadArgument;
        this.current = id;
        return R.Ok;
      },
      proxy_done: () => {
        this.doneCalled = true;
        this.doneWaiter?.();
        return R.Ok;
      },
      proxy_get_property: (pathPtr: number, pathSize: number, dataPtrPtr: number, sizePtr: number) => {
        const path = this.readString(pathPtr, pathSize, '.');
        if (path === null) return R.InvalidMemoryAccess;
        const value = this.property(path);
        if (value === undefined) return R.NotFound;
        return this.returnBytes(value, dataPtrPtr, sizePtr);
      },
      proxy_get_header_map_value: (
        type: number,
        keyPtr: number,
        keySize: number,
        dataPtrPtr: number,
        sizePtr: number,
      ) => {
        const key = this.readString(keyPtr, keySize);
        if (key === null) return R.InvalidMemoryAccess;
        const map = this.headerMap(type);
        if (!map) return R.NotFound;
        const wanted = key.toLowerCase();
        const values: Uint8Array[] = [];
        for (const [k, v] of map) if (k === wanted || k.toLowerCase() === wanted) values.push(toBytes(v));
        if (values.length === 0) return R.NotFound;
        return this.returnBytes(values.length === 1 ? values[0] : joinValues(values), dataPtrPtr, sizePtr);
      },
      proxy_get_header_map_pairs: (type: number, dataPtrPtr: number, sizePtr: number) => {
        const map = this.headerMap(type);
        if (!map) return R.NotFound;
        return this.returnBytes(encodeHeaderPairs(map), dataPtrPtr, sizePtr);
      },
      proxy_get_header_map_size: (type: number, sizePtr: number) => {
        const map = this.headerMap(type);
        if (!map) return R.NotFound;
        this.view().setUint32(sizePtr, encodeHeaderPairs(map).length, true);
        return R.Ok;
      },
      proxy_get_buffer_bytes: (type: number, start: number, length: number, dataPtrPtr: number, sizePtr: number) => {
        let buf: Uint8Array | undefined;
        if (type === BufferType.PluginConfiguration) buf = this.pluginConfig;
        else if (type === BufferType.VmConfiguration)
          buf = this.opts.vmConfig ? toBytes(this.opts.vmConfig) : undefined;
        else if (type === BufferType.HttpCallResponseBody) buf = this.callResponse?.body;
        if (!buf) return R.NotFound;
        if (start > buf.length) return R.BadArgument;
        return this.returnBytes(buf.subarray(start, Math.min(buf.length, start + length)), dataPtrPtr, sizePtr);
      },
      proxy_get_buffer_status: (type: number, lengthPtr: number, flagsPtr: number) => {
        const buf =
          type === BufferType.PluginConfiguration
            ? this.pluginConfig
            : type === BufferType.HttpCallResponseBody
              ? this.callResponse?.body
              : undefined;
        if (!buf) return R.NotFound;
        this.view().setUint32(lengthPtr, buf.length, true);
        this.view().setUint32(flagsPtr, 0, true);
        return R.Ok;
      },
      proxy_http_call: (
        uriPtr: number,
        uriSize: number,
        headersPtr: number,
        headersSize: number,
        bodyPtr: number,
        bodySize: number,
        _trailersPtr: number,
        _trailersSize: number,
        timeoutMs: number,
        tokenPtr: number,
      ) => {
        const cluster = this.readString(uriPtr, uriSize);
        const headerBytes = this.read(headersPtr, headersSize);
        const body = this.read(bodyPtr, bodySize);
        if (cluster === null || headerBytes === null || body === null) return R.InvalidMemoryAccess;
        let headers: Array<[string, string]>;
        try {
          headers = decodeHeaderPairs(headerBytes).map(([k, v]) => [k, textDecoder.decode(v)]);
        } catch {
          return R.ParseFailure;
        }
        const names = new Set(headers.map(([k]) => k));
        // like Envoy: an unknown cluster or a call without :method, :path and :authority is refused
        if (!this.opts.clusters || !(cluster in this.opts.clusters)) return R.BadArgument;
        if (!names.has(':method') || !names.has(':path') || !names.has(':authority')) return R.BadArgument;
        const token = ++this.nextToken;
        this.view().setUint32(tokenPtr, token, true);
        const call: HttpCallRequest = { cluster, headers, body, timeoutMs };
        this.opts.onHttpCall?.(call);
        this.startHttpCall(call, this.current, token);
        return R.Ok;
      },
      proxy_define_metric: (type: number, namePtr: number, nameSize: number, idPtr: number) => {
        const name = this.readString(namePtr, nameSize);
        if (name === null) return R.InvalidMemoryAccess;
        let id = this.metricIds.get(name);
        if (id === undefined) {
          id = this.metricValues.length;
          this.metricValues.push({ name, type, value: 0n });
          this.metricIds.set(name, id);
        }
        this.view().setUint32(idPtr, id, true);
        return R.Ok;
      },
      proxy_increment_metric: (id: number, offset: bigint) => {
        const m = this.metricValues[id];
        if (!m) return R.NotFound;
        m.value += offset;
        return R.Ok;
      },
      proxy_record_metric: (id: number, value: bigint) => {
        const m = this.metricValues[id];
        if (!m) return R.NotFound;
        m.value = value;
        return R.Ok;
      },
      proxy_get_metric: (id: number, ptr: number) => {
        const m = this.metricValues[id];
        if (!m) return R.NotFound;
        this.view().setBigUint64(ptr, m.value, true);
        return R.Ok;
      },
    };
    const wasi: Record<string, (...args: never[]) => unknown> = {
      fd_write: (fd: number, iovs: number, iovsLen: number, writtenPtr: number) => {
        const dv = this.view();
        const parts: Uint8Array[] = [];
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const part = this.read(dv.getUint32(iovs + i * 8, true), dv.getUint32(iovs + i * 8 + 4, true));
          if (part === null) return 21; // WASI EFAULT
          parts.push(part);
          total += part.length;
        }
        const message = textDecoder.decode(Buffer.concat(parts)).replace(/\n$/, '');
        this.logs.push({ level: fd === 2 ? LogLevel.Error : LogLevel.Info, message });
        dv.setUint32(writtenPtr, total, true);
        return 0;
      },
      proc_exit: (code: number) => {
        throw new ProcExit(code);
      },
    };
    const imports: WasmImports = { env: { ...env }, wasi_snapshot_preview1: { ...wasi } };
    // anything else the module imports answers Unimplemented, and is remembered
    for (const imp of mod ? Wasm.Module.imports(mod) : []) {
      if (imp.kind !== 'function') continue;
      imports[imp.module] ??= {};
      const ns = imports[imp.module];
      if (!(imp.name in ns)) {
        ns[imp.name] = () => {
          this.unimplemented.add(`${imp.module}.${imp.name}`);
          return R.Unimplemented;
        };
      }
    }
    return imports;
  }
}

function joinValues(values: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  values.forEach((v, i) => {
    if (i > 0) parts.push(utf8.encode(','));
    parts.push(v);
  });
  return Buffer.concat(parts);
}
