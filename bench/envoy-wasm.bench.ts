import { execSync } from 'node:child_process';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { HttpDispatcher, SimulatedRequest } from '../sensors/envoy-wasm/host/proxy-wasm-host.js';
import { ProxyWasmHost } from '../sensors/envoy-wasm/host/proxy-wasm-host.js';
import { sampleRequest } from '../sensors/envoy-wasm/host/sample-traffic.js';
import { Wasm, type WasmImports } from '../sensors/envoy-wasm/host/wasm-api.js';
import { ensureSensorWasm } from '../sensors/envoy-wasm/host/wasm-build.js';

/**
 * Per-request cost of the Envoy sensor module: requests/s through the Node proxy-wasm host with the module, against
 * two baselines in the same run: the host with empty callbacks (lifecycle only), and the host with a JS filter that
 * makes the same host calls as the sensor (ABI traffic, no record). Run: `npm run build && node dist/bench/envoy-wasm.bench.js`.
 */

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const ROUNDS = 3;

const PROPERTY_PATHS = [
  'request\0path',
  'request\0duration',
  'request\0time',
  'request\0method',
  'request\0host',
  'response\0code',
  'request\0total_size',
  'response\0total_size',
  'source\0address',
  'connection\0uri_san_peer_certificate',
  'connection\0mtls',
  'xds\0cluster_name',
];
const HEADER_NAMES = ['x-request-id', 'authorization', 'traceparent', 'x-b3-parentspanid', 'x-request-id'];

/** a filter written in JS: `abiCalls` makes it fetch what the sensor fetches, otherwise its callbacks are empty */
function jsFilter(abiCalls: boolean) {
  return (imports: WasmImports): Record<string, unknown> => {
    const memory = new Wasm.Memory({ initial: 64 });
    const env = imports.env as Record<string, (...a: number[]) => number>;
    const enc = new TextEncoder();
    const paths: Array<[number, number]> = [];
    const headers: Array<[number, number]> = [];
    let top = 64;
    const place = (s: string): [number, number] => {
      const b = enc.encode(s);
      new Uint8Array(memory.buffer).set(b, top);
      const at: [number, number] = [top, b.length];
      top += b.length;
      return at;
    };
    for (const p of PROPERTY_PATHS) paths.push(place(p));
    for (const h of HEADER_NAMES) headers.push(place(h));
    const heapStart = (top + 7) & ~7;
    let next = heapStart;
    return {
      memory,
      malloc: (size: number) => {
        if (next + size > memory.buffer.byteLength - 1024) next = heapStart;
        const p = next;
        next += (size + 7) & ~7;
        return p;
      },
      proxy_on_context_create: () => {},
      proxy_on_vm_start: () => 1,
      proxy_on_configure: () => 1,
      proxy_on_log: () => {
        if (!abiCalls) return;
        for (const [p, n] of paths) env.proxy_get_property(p, n, 0, 4);
        for (const [p, n] of headers) env.proxy_get_header_map_value(0, p, n, 0, 4);
      },
      proxy_on_done: () => 1,
      proxy_on_delete: () => {},
    };
  };
}

const ACCEPTED = new TextEncoder().encode('{"accepted":100,"rejected":[]}');
/** answers every batch at once, in process: the bench measures the proxy side, not a network */
const instantCollector: HttpDispatcher = async () => ({ headers: [[':status', '200']], body: ACCEPTED });

async function measure(host: ProxyWasmHost, requests: SimulatedRequest[]): Promise<number> {
  for (let i = 0; i < 2000; i++) host.request(requests[i % requests.length]);
  await host.settle();
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      host.request(requests[i % requests.length]);
      // let batch answers come back now and then, as the event loop would in a proxy
      if (i % 1000 === 999) await host.settle();
    }
    await host.settle();
    const rate = REQUESTS / ((performance.now() - t0) / 1000);
    best = Math.max(best, rate);
  }
  return best;
}

async function main(): Promise<void> {
  const requests = Array.from({ length: 500 }, (_, i) => sampleRequest(i));
  const pluginConfig = JSON.stringify({
    sensor_token: 'bench-token',
    token_hash_key: 'bench-hash-key-0123456789',
    batch_size: 100,
    max_buffer: 5000,
  });
  const common = { pluginConfig, clusters: { meshward_collector: 'inproc://' }, dispatch: instantCollector };

  const sensor = await ProxyWasmHost.create({ ...common, module: await Wasm.compile(ensureSensorWasm()) });
  if (!sensor.start().configured) throw new Error('sensor refused the bench configuration');
  const empty = await ProxyWasmHost.create({ ...common, instantiate: jsFilter(false) });
  empty.start();
  const abi = await ProxyWasmHost.create({ ...common, instantiate: jsFilter(true) });
  abi.start();

  const emptyRate = await measure(empty, requests);
  const abiRate = await measure(abi, requests);
  const sensorRate = await measure(sensor, requests);
  const sent = sensor.metric('meshward_sensor.records_sent');
  if (sent === 0n) throw new Error('the sensor sent nothing: the bench is not measuring the real path');

  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {}
  const us = (rate: number) => (1e6 / rate).toFixed(2);
  console.log(`envoy-wasm sensor bench: node ${process.version}, ${cpus()[0]?.model ?? 'cpu?'}, commit ${commit}`);
  console.log(`requests per round: ${REQUESTS}, best of ${ROUNDS} rounds; records delivered by the sensor: ${sent}`);
  console.log(
    `host, empty callbacks (baseline)      ${emptyRate.toFixed(0).padStart(9)} req/s  ${us(emptyRate)} us/req`,
  );
  console.log(`host, JS filter doing the same ABI    ${abiRate.toFixed(0).padStart(9)} req/s  ${us(abiRate)} us/req`);
  console.log(
    `host, meshward sensor module          ${sensorRate.toFixed(0).padStart(9)} req/s  ${us(sensorRate)} us/req`,
  );
  console.log(`ratio sensor / empty baseline:   ${(sensorRate / emptyRate).toFixed(3)}`);
  console.log(`ratio sensor / ABI-only baseline: ${(sensorRate / abiRate).toFixed(3)}`);
  console.log(`module's own work per request (sensor - ABI-only): ${(1e6 / sensorRate - 1e6 / abiRate).toFixed(2)} us`);
  await Promise.all([sensor.shutdown(), empty.shutdown(), abi.shutdown()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
