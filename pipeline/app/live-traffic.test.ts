import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import type { ApiCallRecord } from '../core/record.js';
import { startLiveTraffic } from './live-traffic.js';

const MIN = 60_000;

describe('demo traffic', () => {
  let server: Server;
  let url: string;
  let received: ApiCallRecord[] = [];
  /** when each record arrived (wall clock) */
  let arrivals: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'mw-live-'));
  const progressFile = join(dir, 'demo-traffic.json');

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const batch = JSON.parse(body) as ApiCallRecord[];
        received.push(...batch);
        arrivals.push(...batch.map(() => Date.now()));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** one run: its history, then stopped (with `live`, once it posted a call made after it started) */
  async function run(backfillMs: number, live = false): Promise<ApiCallRecord[]> {
    received = [];
    arrivals = [];
    const started = Date.now();
    const traffic = startLiveTraffic({
      collectorUrl: url,
      token: 't',
      logger: silentLogger,
      rps: 1,
      backfillMs,
      seed: 5,
      progressFile,
    });
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      if (live) {
        if (received.some((r) => r.ts >= started)) break;
        continue;
      }
      if (!existsSync(progressFile)) continue;
      const saved = JSON.parse(readFileSync(progressFile, 'utf8')) as { until?: number };
      if (saved.until && saved.until >= Date.now() - 5_000) break;
    }
    await traffic.stop();
    return received;
  }

  it('replays its history from a minute boundary, and a restart only the time it was down', async () => {
    const started = Date.now();
    const first = await run(40 * MIN);
    const firstTs = Math.min(...first.map((r) => r.ts));
    // from a whole minute, about 40 minutes back (a cut-short first window would look like a traffic drop)
    expect(Math.floor((started - 40 * MIN) / MIN) * MIN).toBeLessThanOrEqual(firstTs);
    expect(firstTs).toBeLessThan(started - 38 * MIN);
    const saved = JSON.parse(readFileSync(progressFile, 'utf8')) as { until: number };
    expect(saved.until).toBeGreaterThanOrEqual(started);

    // down for five minutes: the next run posts those five minutes, not the 40 again
    writeFileSync(progressFile, JSON.stringify({ until: Date.now() - 5 * MIN }));
    const second = await run(40 * MIN);
    const secondTs = Math.min(...second.map((r) => r.ts));
    expect(secondTs).toBeGreaterThanOrEqual(Date.now() - 6 * MIN);
    expect(second.length).toBeLessThan(first.length / 4);
  });

  it('posts live calls once they happened, never ahead of their time', async () => {
    rmSync(progressFile, { force: true });
    const started = Date.now();
    const got = await run(MIN, true);
    const live = got.map((r, i) => ({ ts: r.ts, at: arrivals[i] })).filter((x) => x.ts >= started);
    expect(live.length).toBeGreaterThan(0);
    // a hop's record may end a few ms after the 10 seconds it belongs to; none arrives seconds early
    for (const x of live) expect(x.ts).toBeLessThanOrEqual(x.at + 1_000);
  }, 30_000);
});
