import { describe, expect, it } from 'vitest';
import { correlate } from '../../../test/harness/correlate.js';
import type { ApiCallRecord } from '../../core/record.js';
import { checkConfig } from '../shared/detector-kit.js';
import { PlaintextHopConfigSchema } from './config.js';
import { plaintextHopFactory } from './factory.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const iso = (ts: number) => new Date(ts).toISOString();

let seq = 0;
/** a hop from `caller` to `service`, in plaintext unless `mtls` */
const hop = (
  ts: number,
  caller: string,
  service: string,
  route: string,
  method = 'GET',
  mtls = false,
): ApiCallRecord => ({
  v: 1,
  id: `r${String(seq++).padStart(6, '0')}`,
  ts,
  durationMs: 5,
  sensor: { kind: 'envoy_wasm', id: 's1' },
  service,
  method,
  host: `${service}.svc`,
  path: route.replace('{id}', '42'),
  route,
  status: 200,
  reqBytes: 0,
  respBytes: 100,
  source: { ip: '10.0.0.7', service: caller, ...(mtls ? { principal: `spiffe://c/ns/a/sa/${caller}`, mtls } : {}) },
});

/** the hops, with orders calling payments over mTLS every 10 s for `minutes`, through a correlator running plaintext_hop */
function hops(records: ApiCallRecord[], minutes: number) {
  for (let t = T0; t < T0 + minutes * MIN; t += 10_000)
    records.push(hop(t, 'orders', 'payments', '/payments', 'POST', true));
  records.sort((a, b) => a.ts - b.ts);
  const config = checkConfig('plaintext_hop', PlaintextHopConfigSchema, {});
  return correlate(records, () => [plaintextHopFactory.create(config)], ['plaintext_hop']);
}

describe('plaintext_hop through the correlator: what the alert counts', () => {
  it("a pair's alert counts its own plaintext calls, from the first to the last, and stays open while they go on", async () => {
    // legacy-billing calls payments in plaintext once a minute from minute 1 for 29 minutes, on two endpoints
    const billing = Array.from({ length: 30 }, (_, i) =>
      i % 2
        ? hop(T0 + MIN + i * MIN, 'legacy-billing', 'payments', '/payments/{id}')
        : hop(T0 + MIN + i * MIN, 'legacy-billing', 'payments', '/payments', 'POST'),
    );
    // and frontend calls catalog in plaintext every 10 s for 16 minutes: another pair, 96 calls
    const frontend = Array.from({ length: 96 }, (_, i) => hop(T0 + 5000 + i * 10_000, 'frontend', 'catalog', '/items'));

    const { alerts } = await hops([...billing, ...frontend], 50);
    expect(alerts.map((a) => [a.service, a.subject?.value, a.evidence.metrics])).toEqual([
      ['catalog', 'frontend', { plaintext_calls: 96, span_s: 950, endpoints: 1 }],
      ['payments', 'legacy-billing', { plaintext_calls: 30, span_s: 29 * 60, endpoints: 2 }],
    ]);
    const [, a] = alerts;
    expect(a.summary).toBe(
      'legacy-billing called payments without mTLS 30 times in 29 min (POST /payments, GET /payments/{id})',
    );
    expect(a.observed).toBe(
      `30 plaintext calls to 2 endpoints from ${iso(billing[0].ts)} to ${iso(billing[29].ts)} (last: source.mtls = absent, principal absent)`,
    );
    expect(a.labels).toMatchObject({ endpoint: 'POST /payments' });
    // raised at the first, open while they went on, last seen at the last
    expect([a.firstSeen, a.lastSeen]).toEqual([billing[0].ts, billing[29].ts]);
    expect(a.evidence.recordIds).toEqual(billing.slice(0, 20).map((r) => r.id));
  });

  it('after a quiet spell the next alert counts the calls since, raised realert_ms after the one before', async () => {
    const first = [1, 2, 3].map((m) => hop(T0 + m * MIN, 'legacy-billing', 'payments', '/payments', 'POST'));
    // quiet for 22 minutes (its alert resolves), then calls again from minute 25: raised only an hour after the
    // first alert, at the call of minute 62, with the four since the quiet spell
    const later = [25, 26, 27, 62, 63].map((m) => hop(T0 + m * MIN, 'legacy-billing', 'payments', '/payments', 'POST'));

    const { alerts } = await hops([...first, ...later], 80);
    expect(alerts.map((a) => [a.evidence.metrics.plaintext_calls, a.firstSeen, a.lastSeen])).toEqual([
      [3, first[0].ts, first[2].ts],
      [5, later[3].ts, later[4].ts],
    ]);
  });
});
