import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { splitBody } from '../pipeline/collector/collector-server.js';
import { meshwardSensor } from '../sensors/gateway/plugin.js';

/**
 * Requests/s of a Fastify app without ("plain") and with the meshward sensor plugin ("sensor"), in one run, on two
 * routes: `GET /hello` (a trivial handler: the worst case for the sensor's relative cost) and `GET /orders/:id`, a
 * representative gateway route that proxies to an upstream service over a keep-alive agent and reshapes its JSON.
 *
 * Processes: this one drives autocannon; the plain app, the sensor app, the upstream service and the collector each
 * run in their own child. Both apps stay up for the whole run (warmed up once, JIT-compiled), and the rounds
 * alternate between them (plain sensor | sensor plain | ...), each a few seconds, so slow drifts of the shared
 * machine's load hit both alike. Reported per route: the median of the per-round req/s ratios (each pair ran back to
 * back) with their spread, and the app's CPU time per request (user + system of the whole process, every thread
 * included, so the sensor's batching, serialising and sending are counted wherever they run).
 *
 * The collector is a counting HTTP server in its own process (see `collector`); at the end the run checks that it
 * received one record per request the sensor app served (no silent dropping: requests cut by autocannon at the end
 * of a segment, at most one per connection, may not be answered and so not recorded).
 *
 * Pinning (BENCH_PIN, on by default where `taskset` works and there are 2 CPUs or more): both apps run on CPU 0 (only
 * one of them is under load at a time) and autocannon, the collector and the upstream on the others, so the app
 * under test does not share its core with the load generator; each segment prints how busy the app's core was, to
 * show the app (not the load generator) is the bottleneck. BENCH_PIN=0 leaves scheduling to the OS.
 *
 * Run: `npm run bench:fastify-plugin`. Env: BENCH_SECONDS (per segment, 3), BENCH_ROUNDS (10), BENCH_CONNECTIONS
 * (32), BENCH_PIPELINING (1), BENCH_ROUTES (hello,gateway), BENCH_ENFORCE (1: the sensor also enforces decisions,
 * with an empty decision view), BENCH_PROFILE_DIR (a folder: the sensor app writes a CPU profile there), BENCH_PIN.
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
  pipelining: number;
  duration: number;
  requests?: { method: string; path: string; headers?: Record<string, string> }[];
}) => Promise<AutocannonResult>;

type Mode = 'plain' | 'sensor';
type RouteName = 'hello' | 'gateway';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PIPELINING = Number(process.env.BENCH_PIPELINING ?? 1);
const ROUTES = (process.env.BENCH_ROUTES ?? 'hello,gateway').split(',') as RouteName[];
const ENFORCE = process.env.BENCH_ENFORCE !== '0';
const WARMUP_SECONDS = 2;
const PIN = process.env.BENCH_PIN !== '0' && cpus().length >= 2;

/** set the CPU affinity of a process and all its threads; false where taskset is missing or refused */
function pin(pid: number, cpuList: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-cp', cpuList, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
/** when set, the sensor app writes a V8 CPU profile (node --cpu-prof) into this folder */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

/** a child's answer to 'stats': its CPU time so far and the requests (or records) it has seen */
interface ChildStats {
  cpuUs: number;
  count: number;
}

/** child mode: the upstream service behind the gateway route, a plain Node server answering a small JSON */
function upstream(): void {
  const server = createServer((req, res) => {
    const id = (req.url ?? '').split('/')[2] ?? '0';
    const body = JSON.stringify({
      id,
      status: 'shipped',
      customer: { id: `c-${id}`, tier: 'gold', email: 'someone@example.com' },
      items: [
        { sku: 'A-1', qty: 2, price: 9.5 },
        { sku: 'B-7', qty: 1, price: 120 },
        { sku: 'C-3', qty: 4, price: 3.25 },
      ],
      internal: { warehouse: 'w-12', picker: 'p-3' },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('message', () => process.send?.({ cpuUs: cpuUs(), count: 0 } satisfies ChildStats));
}

/** where the rows of a rows document (core/record-rows.ts) begin, and how each row begins (its id, a string) */
const ROWS_START = Buffer.from('"rows":[');
const ROW_START = Buffer.from('["');
/** batches the collector parses in full (the first ones and then every 20th), checking the count and the content */
const PARSE_EVERY = 20;

/**
 * child mode: the collector. It answers like meshward's collector (`{"accepted":n,"rejected":[]}`) and counts the
 * rows of every batch by their opening bytes rather than parsing them all: in a real deployment the collector runs
 * on other machines, here it shares the two cores with the app and autocannon. Every 20th batch is decoded in full by
 * the collector's own body decoding to check it holds records with hashed tokens whose count matches.
 */
function collector(): void {
  let records = 0;
  let batches = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let n = 0;
      const from = body.indexOf(ROWS_START);
      for (let i = body.indexOf(ROW_START, from); from >= 0 && i >= 0; i = body.indexOf(ROW_START, i + 2)) n++;
      if (batches++ % PARSE_EVERY === 0) {
        const parsed = splitBody(body, String(req.headers['content-type'])) as { user?: { tokenHash?: string } }[];
        const badHash = parsed.some((r) => r.user && !r.user.tokenHash?.startsWith('h1:'));
        if (!Array.isArray(parsed) || parsed.length !== n || badHash || body.includes('Bearer ')) {
          console.error(`collector: invalid batch (${n} record starts, ${parsed.length} parsed)`);
          process.exit(1);
        }
      }
      records += n;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"accepted":${n},"rejected":[]}`);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('message', () => process.send?.({ cpuUs: cpuUs(), count: records } satisfies ChildStats));
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** GET a JSON document from the upstream over a keep-alive agent */
function fetchJson(agent: Agent, port: number, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** child mode: the app, with or without the sensor */
async function serve(mode: Mode, collectorUrl: string, upstreamPort: number): Promise<void> {
  const app = Fastify({ logger: false });
  if (mode === 'sensor') {
    await app.register(meshwardSensor, {
      config: {
        service: 'orders',
        token_hash_key: 'bench-token-hash-key',
        query_params: ['expand'],
        shipper: { collector_url: collectorUrl, token: 'bench-sensor-token', batch_size: 500, max_buffer: 50_000 },
        enforce: { enabled: ENFORCE },
      },
    });
  }
  app.get('/hello', async () => ({ hello: 'world' }));
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  app.get('/orders/:id', async (req) => {
    const order = await fetchJson(agent, upstreamPort, `/orders/${(req.params as { id: string }).id}`);
    const items = order.items as { sku: string; qty: number; price: number }[];
    return {
      id: order.id,
      status: order.status,
      customer: (order.customer as { id: string }).id,
      items: items.map((i) => ({ sku: i.sku, qty: i.qty })),
      total: items.reduce((s, i) => s + i.qty * i.price, 0),
    };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  let served = 0;
  app.server.on('request', () => {
    served++;
  });
  process.on('message', () => process.send?.({ cpuUs: cpuUs(), count: served } satisfies ChildStats));
  process.on('SIGINT', () => process.exit(0));
  process.send?.({ port: (app.server.address() as AddressInfo).port });
}

async function startChild(args: string[], execArgv: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), args, {
    stdio: 'inherit',
    execArgv: [...process.execArgv, ...execArgv],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { child, port };
}

const statsOf = (child: ChildProcess): Promise<ChildStats> =>
  new Promise((resolve) => {
    child.once('message', (m) => resolve(m as ChildStats));
    child.send('stats');
  });

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs: number[], digits = 0) => xs.map((x) => x.toFixed(digits)).join(' ');

interface Segment {
  rps: number;
  p99: number;
  cpuPerReq: number;
  /** the app's CPU time over the segment's wall time: near 1 when one core is the bottleneck */
  busy: number;
}

async function main(): Promise<void> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const coll = await startChild(['--collector']);
  const up = await startChild(['--upstream']);
  const collectorUrl = `http://127.0.0.1:${coll.port}`;
  const apps = {
    plain: await startChild(['--serve', 'plain', collectorUrl, String(up.port)]),
    sensor: await startChild(
      ['--serve', 'sensor', collectorUrl, String(up.port)],
      PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [],
    ),
  };

  const rest = `1-${cpus().length - 1}`;
  const pinned =
    PIN &&
    pin(apps.plain.child.pid ?? 0, '0') &&
    pin(apps.sensor.child.pid ?? 0, '0') &&
    pin(process.pid, rest) &&
    pin(coll.child.pid ?? 0, rest) &&
    pin(up.child.pid ?? 0, rest);

  const tokens = Array.from(
    { length: 20 },
    (_, i) => `${b64url({ alg: 'RS256' })}.${b64url({ sub: `user-${i}` })}.c2ln`,
  );
  const requestsFor = (route: RouteName) =>
    tokens.map((t, i) => ({
      method: 'GET',
      path: route === 'hello' ? `/hello?expand=items` : `/orders/${i}?expand=items`,
      headers: { authorization: `Bearer ${t}`, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    }));

  const segment = async (mode: Mode, route: RouteName, seconds: number): Promise<Segment> => {
    const { child, port } = apps[mode];
    const before = await statsOf(child);
    const t0 = process.hrtime.bigint();
    const r = await autocannon({
      url: `http://127.0.0.1:${port}`,
      connections: CONNECTIONS,
      pipelining: PIPELINING,
      duration: seconds,
      requests: requestsFor(route),
    });
    const after = await statsOf(child);
    const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
    if (r.errors > 0 || r.non2xx > 0) throw new Error(`${mode} ${route}: ${r.errors} errors, ${r.non2xx} non-2xx`);
    return {
      rps: r.requests.average,
      p99: r.latency.p99,
      cpuPerReq: (after.cpuUs - before.cpuUs) / (after.count - before.count),
      busy: (after.cpuUs - before.cpuUs) / wallUs,
    };
  };

  const load0 = loadavg()[0];
  const collectorCpu0 = (await statsOf(coll.child)).cpuUs;
  const results: string[] = [];
  for (const route of ROUTES) {
    for (const mode of ['plain', 'sensor'] as const) await segment(mode, route, WARMUP_SECONDS);
    const runs: Record<Mode, Segment[]> = { plain: [], sensor: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: Mode[] = round % 2 === 0 ? ['plain', 'sensor'] : ['sensor', 'plain'];
      for (const mode of order) runs[mode].push(await segment(mode, route, SECONDS));
    }
    const ratios = runs.sensor.map((s, i) => s.rps / runs.plain[i].rps);
    const cpuPlain = median(runs.plain.map((s) => s.cpuPerReq));
    const cpuSensor = median(runs.sensor.map((s) => s.cpuPerReq));
    const sorted = [...ratios].sort((a, b) => a - b);
    results.push(
      [
        `  route ${route === 'hello' ? 'GET /hello (trivial handler)' : 'GET /orders/:id (proxy to upstream + JSON reshape)'}`,
        `    plain   req/s median ${median(runs.plain.map((s) => s.rps)).toFixed(0)} (rounds ${fmt(runs.plain.map((s) => s.rps))}), p99 ${median(runs.plain.map((s) => s.p99))} ms`,
        `    sensor  req/s median ${median(runs.sensor.map((s) => s.rps)).toFixed(0)} (rounds ${fmt(runs.sensor.map((s) => s.rps))}), p99 ${median(runs.sensor.map((s) => s.p99))} ms`,
        `    req/s ratio sensor/plain: median ${median(ratios).toFixed(3)}, spread ${sorted[0].toFixed(3)}–${sorted[sorted.length - 1].toFixed(3)} (rounds ${fmt(ratios, 3)})`,
        `    app's CPU busy (CPU time / wall time), median: plain ${median(runs.plain.map((s) => s.busy)).toFixed(2)}, sensor ${median(runs.sensor.map((s) => s.busy)).toFixed(2)}`,
        `    app CPU per request: plain ${cpuPlain.toFixed(1)} µs, sensor ${cpuSensor.toFixed(1)} µs (+${(cpuSensor - cpuPlain).toFixed(1)} µs); ratio plain/sensor ${(cpuPlain / cpuSensor).toFixed(3)}`,
        `      (per round plain ${fmt(
          runs.plain.map((s) => s.cpuPerReq),
          1,
        )}; sensor ${fmt(
          runs.sensor.map((s) => s.cpuPerReq),
          1,
        )})`,
      ].join('\n'),
    );
  }

  // every request the sensor app served must reach the collector: wait for the last batches (flush interval 1 s)
  const served = (await statsOf(apps.sensor.child)).count;
  let received = 0;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    received = (await statsOf(coll.child)).count;
    if (received >= served) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const collectorCpu = (await statsOf(coll.child)).cpuUs - collectorCpu0;
  // SIGINT lets a profiled child write its profile before it exits
  for (const c of [apps.plain.child, apps.sensor.child, up.child, coll.child]) c.kill('SIGINT');

  console.log(`fastify-plugin bench: node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}`);
  console.log(
    `  ${ROUNDS} rounds x ${SECONDS} s per app and route, alternating; autocannon ${CONNECTIONS} connections, pipelining ${PIPELINING}; GET with a bearer JWT (20 callers), traceparent, ?expand=items; sensor enforcement ${ENFORCE ? 'on (empty decision view)' : 'off'}`,
  );
  console.log(
    pinned
      ? `  pinned: both apps on CPU 0, autocannon, collector and upstream on CPUs ${rest}`
      : '  not pinned (BENCH_PIN=0, one CPU, or taskset refused): every process shares every CPU',
  );
  console.log(`  load average 1 min: ${load0.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end`);
  for (const r of results) console.log(r);
  console.log(
    `  collector: ${received} records received for ${served} requests served by the sensor app (${served - received} missing; up to ${ROUTES.length * (ROUNDS + 1) * CONNECTIONS * PIPELINING} may be requests cut at segment ends); collector CPU ${(collectorCpu / Math.max(1, received)).toFixed(1)} µs per record (its own process)`,
  );
  console.log('  aim: req/s ratio >= 0.95');
}

if (process.argv[2] === '--collector') {
  collector();
} else if (process.argv[2] === '--upstream') {
  upstream();
} else if (process.argv[2] === '--serve') {
  await serve(process.argv[3] as Mode, process.argv[4], Number(process.argv[5]));
} else {
  await main();
}
