import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { metricSum } from '../../test/harness/metrics.js';
import { expectMalformedHttpRefused, expectSlowBodyRefused } from '../../test/harness/raw-http.js';
import { silentLogger } from './logger.js';
import { createProbeServer } from './probe-routes.js';

const probe = () => createProbeServer('correlator', silentLogger, () => ({ bus: true, store: false }));
const httpErrors = (code: string) => metricSum('meshward_http_errors_total', { server: 'correlator', code });

describe('probe server (a role without an API: the correlator)', () => {
  it('answers a request Node cannot parse with a catalogue code, counted, over a real socket', async () => {
    await expectMalformedHttpRefused(probe(), 'correlator');
  });

  it('answers 408 MW_ERR_REQUEST_TIMEOUT, counted once, to a request whose body comes a byte at a time, over a real socket', async () => {
    const app = createProbeServer('correlator', silentLogger, () => ({ bus: true, store: false }), 1_000);
    // it serves no POST: the same request sent at once is a route it does not serve
    await expectSlowBodyRefused(app, 'correlator', 1_000, {
      head: 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n',
      body: '{}'.padEnd(1_000),
      status: 404,
    });
  });

  it('answers what it does not serve with a catalogue code, counted once, over a real socket', async () => {
    const app = probe();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      const health = await fetch(`${url}/healthz`);
      expect({ status: health.status, json: await health.json() }).toEqual({
        status: 503,
        json: { status: 'degraded', parts: { bus: true, store: false } },
      });
      const refusals: [path: string, method: string, status: number, code: string][] = [
        ['/nope', 'GET', 404, 'MW_ERR_NOT_FOUND'],
        ['/healthz', 'POST', 404, 'MW_ERR_NOT_FOUND'],
        ['/%ff', 'GET', 400, 'MW_ERR_BAD_REQUEST'],
      ];
      for (const [path, method, status, code] of refusals) {
        const before = await httpErrors(code);
        const res = await fetch(`${url}${path}`, { method });
        expect({ status: res.status, json: await res.json() }, `${method} ${path}`).toEqual({
          status,
          json: { code, message: expect.any(String) },
        });
        expect(await httpErrors(code), `${method} ${path}`).toBe(before + 1);
      }
    } finally {
      await app.close();
    }
  });
});
