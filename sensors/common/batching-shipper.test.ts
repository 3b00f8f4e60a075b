import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../pipeline/core/logger.js';
import { registry } from '../../pipeline/core/metrics.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { BatchingShipper, createHttpShipper } from './batching-shipper.js';
import { type ShipperConfig, defaultShipperConfig } from './shipper-config.js';
import { sampleRecord } from './test-records.js';

type Handler = (batch: ApiCallRecord[], req: IncomingMessage, res: ServerResponse) => void;

/** a stand-in collector: real HTTP, answers decided per request by the test */
async function collector(handler: Handler, port = 0): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handler(JSON.parse(Buffer.concat(chunks).toString('utf8')), req, res));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const p = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${p}`, port: p };
}

const ok = (res: ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const until = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const cfg = (over: Partial<ShipperConfig>): ShipperConfig => ({
  ...defaultShipperConfig,
  token: 'sensor-secret-token',
  flush_interval_ms: 20,
  backoff_ms: 10,
  max_backoff_ms: 40,
  timeout_ms: 1_000,
  ...over,
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
const closeServer = (s: Server) => new Promise((r) => s.close(r));

describe('BatchingShipper over HTTP', () => {
  it('delivers every record in batches of at most batch_size with the sensor token', async () => {
    const got: ApiCallRecord[] = [];
    const sizes: number[] = [];
    const auths = new Set<string | undefined>();
    const c = await collector((batch, req, res) => {
      got.push(...batch);
      sizes.push(batch.length);
      auths.add(req.headers.authorization);
      ok(res, { accepted: batch.length, rejected: [] });
    });
    cleanups.push(() => closeServer(c.server));
    const s = createHttpShipper(cfg({ collector_url: c.url, batch_size: 7 }), { sensorId: 'ship-ok' });
    cleanups.push(() => s.shutdown());
    for (let i = 0; i < 50; i++) expect(s.push(sampleRecord(i))).toBe(true);
    await until(() => s.stats().accepted === 50);
    expect(got.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => `rec-${i}`));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(7);
    expect([...auths]).toEqual(['Bearer sensor-secret-token']);
    expect(s.stats()).toMatchObject({ accepted: 50, dropped: 0, buffered: 0, receiverUp: true });
  });

  it('counts per-item rejections from the collector', async () => {
    const c = await collector((batch, _req, res) =>
      ok(res, { accepted: batch.length - 1, rejected: [{ index: 0, code: 'MW_ERR_RECORD_INVALID', reason: 'x' }] }),
    );
    cleanups.push(() => closeServer(c.server));
    const s = createHttpShipper(cfg({ collector_url: c.url, batch_size: 5 }));
    for (let i = 0; i < 5; i++) s.push(sampleRecord(i));
    await s.shutdown();
    expect(s.stats()).toMatchObject({ accepted: 4, rejected: 1, dropped: 0 });
  });

  it('retries a batch answered 429 or 503 and loses nothing', async () => {
    const got = new Set<string>();
    let calls = 0;
    const c = await collector((batch, _req, res) => {
      calls++;
      if (calls === 1) return ok(res, { code: 'MW_ERR_BUS_SATURATED' }, 429);
      if (calls === 2) return ok(res, { code: 'MW_ERR_BUS_UNAVAILABLE' }, 503);
      for (const r of batch) got.add(r.id);
      ok(res, { accepted: batch.length, rejected: [] });
    });
    cleanups.push(() => closeServer(c.server));
    const s = createHttpShipper(cfg({ collector_url: c.url, batch_size: 10 }));
    cleanups.push(() => s.shutdown());
    for (let i = 0; i < 30; i++) s.push(sampleRecord(i));
    await until(() => s.stats().accepted === 30);
    expect(got.size).toBe(30);
    expect(s.stats()).toMatchObject({ accepted: 30, dropped: 0, batchesFailed: 2 });
  });

  it('splits a batch answered 413 until it fits', async () => {
    const sizes: number[] = [];
    const got = new Set<string>();
    const c = await collector((batch, _req, res) => {
      if (batch.length > 3) return ok(res, { code: 'MW_ERR_BATCH_TOO_LARGE' }, 413);
      sizes.push(batch.length);
      for (const r of batch) got.add(r.id);
      ok(res, { accepted: batch.length, rejected: [] });
    });
    cleanups.push(() => closeServer(c.server));
    const s = createHttpShipper(cfg({ collector_url: c.url, batch_size: 16 }));
    cleanups.push(() => s.shutdown());
    for (let i = 0; i < 16; i++) s.push(sampleRecord(i));
    await until(() => s.stats().accepted === 16);
    expect(got.size).toBe(16);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(s.stats().dropped).toBe(0);
  });

  it('drops batches refused with 401 and counts them as unauthorized', async () => {
    const c = await collector((_b, _req, res) => ok(res, { code: 'MW_ERR_UNAUTHENTICATED' }, 401));
    cleanups.push(() => closeServer(c.server));
    const s = createHttpShipper(cfg({ collector_url: c.url, batch_size: 4 }));
    for (let i = 0; i < 4; i++) s.push(sampleRecord(i));
    await until(() => s.stats().dropped === 4);
    expect(s.stats().droppedByReason).toEqual({ unauthorized: 4 });
    await s.shutdown();
  });

  it('never blocks or throws while the collector is down, drops within the bound, and reports drops when it is back', async () => {
    // find a port, then leave it closed: the collector is "down"
    const probe = await collector(() => {});
    const port = probe.port;
    await closeServer(probe.server);
    const logs = new PassThrough();
    const lines: string[] = [];
    logs.on('data', (d: Buffer) => lines.push(...d.toString('utf8').trim().split('\n')));
    const s = createHttpShipper(cfg({ collector_url: `http://127.0.0.1:${port}`, batch_size: 5, max_buffer: 20 }), {
      sensorId: 'ship-down',
      logger: createLogger({ level: 'info', destination: logs }),
    });
    cleanups.push(() => s.shutdown());
    let accepted = 0;
    for (let i = 0; i < 100; i++) if (s.push(sampleRecord(i))) accepted++;
    expect(accepted).toBe(20); // the bound, nothing more
    expect(s.stats().droppedByReason.buffer_full).toBe(80);
    await until(() => (s.stats().droppedByReason.unreachable ?? 0) > 0);
    expect(s.stats().receiverUp).toBe(false);

    const got: ApiCallRecord[] = [];
    const c = await collector((batch, _req, res) => {
      got.push(...batch);
      ok(res, { accepted: batch.length, rejected: [] });
    }, port);
    cleanups.push(() => closeServer(c.server));
    s.push(sampleRecord(1000));
    await until(() => got.some((r) => r.id === 'rec-1000'));
    await until(() => lines.some((l) => l.includes('collector reachable again')));
    const report = JSON.parse(lines.find((l) => l.includes('collector reachable again'))!);
    expect(report.dropped).toBe(s.stats().dropped);
    await s.shutdown();
    const st = s.stats();
    expect(st.dropped + st.accepted).toBe(101); // every record either delivered or counted
    expect(got.length).toBe(st.accepted);
    expect(lines.join('\n')).not.toContain('sensor-secret-token');
    const metric = await registry.getSingleMetric('meshward_sensor_dropped_total')!.get();
    const mine = metric.values.filter((v) => v.labels.sensor === 'ship-down');
    expect(mine.reduce((a, v) => a + v.value, 0)).toBe(st.dropped);
  });

  it('keeps at most max_in_flight requests open', async () => {
    let open = 0;
    let maxOpen = 0;
    let total = 0;
    const c = await collector((batch, _req, res) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      setTimeout(() => {
        open--;
        total += batch.length;
        ok(res, { accepted: batch.length, rejected: [] });
      }, 30);
    });
    cleanups.push(() => closeServer(c.server));
    const s = createHttpShipper(cfg({ collector_url: c.url, batch_size: 2, max_in_flight: 2 }));
    for (let i = 0; i < 20; i++) s.push(sampleRecord(i));
    await until(() => total === 20);
    expect(maxOpen).toBe(2);
    await s.shutdown();
  });

  it('shutdown sends what is buffered, refuses later pushes, and is safe twice', async () => {
    const got: ApiCallRecord[] = [];
    const c = await collector((batch, _req, res) => {
      got.push(...batch);
      ok(res, { accepted: batch.length, rejected: [] });
    });
    cleanups.push(() => closeServer(c.server));
    const s = createHttpShipper(cfg({ collector_url: c.url, batch_size: 100, flush_interval_ms: 60_000 }));
    for (let i = 0; i < 3; i++) s.push(sampleRecord(i));
    await Promise.all([s.shutdown(), s.shutdown()]);
    expect(got).toHaveLength(3);
    expect(s.push(sampleRecord(9))).toBe(false);
    expect(s.stats().droppedByReason).toEqual({ closed: 1 });
  });

  it('drops and counts a transport that throws, without throwing to the caller', async () => {
    const s = new BatchingShipper(cfg({ batch_size: 2 }), async () => {
      throw new Error('boom');
    });
    s.push(sampleRecord(1));
    s.push(sampleRecord(2));
    await until(() => s.stats().dropped === 2);
    expect(s.stats().droppedByReason).toEqual({ unreachable: 2 });
    await s.shutdown();
  });
});
