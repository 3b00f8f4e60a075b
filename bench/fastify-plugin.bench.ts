import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { meshwardSensor } from '../sensors/gateway/plugin.js';

/**
 * Requests/s of a small Fastify app without and with the meshward sensor plugin (recording + shipping to a stand-in
 * collector, enforcement on with an empty decision view), in one run, rounds interleaved; prints the ratio.
 * Each app runs in its own child process; autocannon and the stand-in collector run in this one.
 * Run: `npm run build && node dist/bench/fastify-plugin.bench.js` (BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONNECTIONS).
 */

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  requests?: { method: string; path: string; headers?: Record<string, string> }[];
}) => Promise<AutocannonResult>;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

/** child mode: serve the app (with or without the sensor) and print the port */
async function serve(mode: 'plain' | 'sensor', collectorUrl: string): Promise<void> {
  const app = Fastify({ logger: false });
  if (mode === 'sensor') {
    await app.register(meshwardSensor, {
      config: {
        service: 'orders',
        query_params: ['expand'],
        shipper: { collector_url: collectorUrl, token: 'bench-sensor-token', batch_size: 500, max_buffer: 50_000 },
        enforce: { enabled: true },
      },
    });
  }
  app.get('/orders/:id', async (req) => ({
    id: (req.params as { id: string }).id,
    status: 'shipped',
    items: [1, 2, 3],
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  let served = 0;
  app.server.on('request', () => {
    served++;
  });
  const cpu0 = process.cpuUsage();
  process.on('message', () => {
    const d = process.cpuUsage(cpu0);
    process.send?.({ cpuUs: d.user + d.system, served });
  });
  process.send?.({ port: (app.server.address() as AddressInfo).port });
}

function b64url(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

async function startChild(
  mode: 'plain' | 'sensor',
  collectorUrl: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', mode, collectorUrl], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${mode} app exited with ${code}`)));
  });
  return { child, port };
}

async function main(): Promise<void> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  // the stand-in collector runs in its own process (it is a remote service) and does not parse: it answers at once
  const collectorChild = fork(fileURLToPath(import.meta.url), ['--collector'], { stdio: 'inherit' });
  const collectorPort = await new Promise<number>((resolve, reject) => {
    collectorChild.once('message', (m) => resolve((m as { port: number }).port));
    collectorChild.once('exit', (code) => reject(new Error(`collector exited with ${code}`)));
  });
  const collectorUrl = `http://127.0.0.1:${collectorPort}`;

  const tokens = Array.from(
    { length: 20 },
    (_, i) => `${b64url({ alg: 'RS256' })}.${b64url({ sub: `user-${i}` })}.c2ln`,
  );
  const requests = tokens.map((t, i) => ({
    method: 'GET',
    path: `/orders/${i}?expand=items`,
    headers: { authorization: `Bearer ${t}`, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  }));

  const rps: Record<'plain' | 'sensor', number[]> = { plain: [], sensor: [] };
  const p99: Record<'plain' | 'sensor', number[]> = { plain: [], sensor: [] };
  /** server CPU µs per request: robust to other load on the machine, unlike req/s */
  const cpuPerReq: Record<'plain' | 'sensor', number[]> = { plain: [], sensor: [] };
  for (let round = 0; round <= ROUNDS; round++) {
    const order: ('plain' | 'sensor')[] = round % 2 === 0 ? ['plain', 'sensor'] : ['sensor', 'plain'];
    for (const mode of order) {
      const { child, port } = await startChild(mode, collectorUrl);
      const r = await autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: round === 0 ? 1 : SECONDS, // round 0 warms up and is not counted
        requests,
      });
      const usage = await new Promise<{ cpuUs: number; served: number }>((resolve) => {
        child.once('message', (m) => resolve(m as { cpuUs: number; served: number }));
        child.send('stats');
      });
      child.kill();
      if (round > 0) cpuPerReq[mode].push(usage.cpuUs / usage.served);
      if (r.errors > 0 || r.non2xx > 0) throw new Error(`${mode}: ${r.errors} errors, ${r.non2xx} non-2xx`);
      if (round > 0) {
        rps[mode].push(r.requests.average);
        p99[mode].push(r.latency.p99);
      }
    }
  }
  const received = await new Promise<number>((resolve) => {
    collectorChild.once('message', (m) => resolve((m as { bytes: number }).bytes));
    collectorChild.send('stats');
  });
  collectorChild.kill();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // plain and sensor of one round ran back to back (order alternating per round): their ratio cancels slow drifts
  // of the machine's load better than the ratio of the two medians
  const paired = rps.sensor.map((x, i) => x / rps.plain[i]);
  const plain = median(rps.plain);
  const sensor = median(rps.sensor);
  console.log(`fastify-plugin bench: node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}`);
  console.log(`  ${ROUNDS} rounds x ${SECONDS}s, ${CONNECTIONS} connections, GET /orders/:id with a bearer JWT`);
  console.log(
    `  plain   req/s median ${plain.toFixed(0)}  (rounds ${rps.plain.map((x) => x.toFixed(0)).join(', ')}), p99 ${median(p99.plain)} ms`,
  );
  console.log(
    `  sensor  req/s median ${sensor.toFixed(0)}  (rounds ${rps.sensor.map((x) => x.toFixed(0)).join(', ')}), p99 ${median(p99.sensor)} ms`,
  );
  console.log(`  bytes of records received by the stand-in collector: ${received}`);
  const cpuPlain = median(cpuPerReq.plain);
  const cpuSensor = median(cpuPerReq.sensor);
  console.log(`  server CPU per request: plain ${cpuPlain.toFixed(1)} µs, sensor ${cpuSensor.toFixed(1)} µs`);
  console.log(
    `  ratio sensor/plain, req/s: ${(sensor / plain).toFixed(3)}  (aim >= 0.95; noisy when the machine is shared)`,
  );
  console.log(
    `  ratio sensor/plain, req/s, median of per-round pairs: ${median(paired).toFixed(3)}  (rounds ${paired.map((x) => x.toFixed(2)).join(', ')})`,
  );
  console.log(`  ratio sensor/plain, req/s per server CPU-second: ${(cpuPlain / cpuSensor).toFixed(3)}`);
}

/** child mode: the stand-in collector, answering 200 to every batch without parsing it */
function collector(): void {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"rejected":[]}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('message', () => process.send?.({ bytes }));
}

if (process.argv[2] === '--collector') {
  collector();
} else if (process.argv[2] === '--serve') {
  await serve(process.argv[3] as 'plain' | 'sensor', process.argv[4]);
} else {
  await main();
}
