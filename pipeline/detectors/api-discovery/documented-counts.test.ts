import { describe, expect, it } from 'vitest';
import { correlate } from '../../../test/harness/correlate.js';
import type { ApiCallRecord } from '../../core/record.js';
import { importOpenApi } from '../../inventory/catalog/openapi.js';
import type { Detector } from '../detector.js';
import { checkConfig } from '../shared/detector-kit.js';
import { UnauthenticatedAccessConfigSchema } from '../unauthenticated-access/config.js';
import { unauthenticatedAccessFactory } from '../unauthenticated-access/factory.js';
import { ApiDiscovery } from './api-discovery.js';
import { defaultApiDiscoveryConfig } from './config.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const iso = (ts: number) => new Date(ts).toISOString();

/** the orders API requires a bearer token */
const catalog = [
  importOpenApi(
    {
      openapi: '3.0.3',
      info: { title: 'Orders', 'x-service': 'orders' },
      security: [{ bearer: [] }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      paths: { '/orders/{id}': { get: { responses: {} } }, '/orders': { get: { responses: {} } } },
    },
    'orders.yaml',
  ),
];

let seq = 0;
const call = (ts: number, path: string, o: Partial<ApiCallRecord> = {}): ApiCallRecord => ({
  v: 1,
  id: `r${String(seq++).padStart(6, '0')}`,
  ts,
  durationMs: 5,
  sensor: { kind: 'envoy_wasm', id: 's1' },
  service: 'orders',
  method: 'GET',
  host: 'orders.internal',
  path,
  status: 200,
  reqBytes: 0,
  respBytes: 100,
  source: { ip: '10.0.0.1' },
  user: { tokenHash: 'h1:abc' },
  ...o,
});
const anonymous = (ts: number, id: number, ip: string) =>
  call(ts, `/orders/${id}`, { user: undefined, source: { ip } });

/**
 * the records, with calls carrying a token to both endpoints every 10 s from T0 for `minutes`, in time order, through
 * a correlator running api_discovery over the catalogue (and unauthenticated_access's tracker, `tracker`)
 */
function documented(records: ApiCallRecord[], minutes: number, tracker: boolean) {
  for (let t = T0; t < T0 + minutes * MIN; t += 10_000)
    records.push(call(t, `/orders/${t % 1000}`), call(t + 1, '/orders'));
  records.sort((a, b) => a.ts - b.ts);
  const ua = checkConfig('unauthenticated_access', UnauthenticatedAccessConfigSchema, { learning_ms: 10 * MIN });
  // the order the built-in detectors run in: the trackers, then api_discovery
  const detectors = (): Detector[] => [
    ...(tracker ? [unauthenticatedAccessFactory.create(ua)] : []),
    new ApiDiscovery(defaultApiDiscoveryConfig, { catalog }),
  ];
  return correlate(records, detectors, ['unauthenticated_access'], { batch: 20 });
}

describe("api_discovery's documented rule through the correlator: what the unauthenticated_access alert counts", () => {
  it('alone: the alert counts every anonymous call it stands for, from the first to the last', async () => {
    // 14 anonymous calls 40 s apart from minute 12 (8 min 40 s), from 2 addresses
    const sent = Array.from({ length: 14 }, (_, i) =>
      anonymous(T0 + 12 * MIN + i * 40_000 + 3, 500 + i, i % 2 ? '185.7.7.7' : '185.7.7.8'),
    );
    const { alerts } = await documented([...sent], 40, false);
    expect(alerts).toHaveLength(1);
    const [a] = alerts;
    expect(a).toMatchObject({ endpoint: 'GET /orders/{id}', labels: { rule: 'documented', catalogue_id: 'Orders' } });
    expect(a.evidence.metrics).toMatchObject({
      anonymous_calls: 14,
      anonymous_span_s: (sent[13].ts - sent[0].ts) / 1000,
      sources: 2,
    });
    expect(a.summary).toBe(
      'orders GET /orders/{id} accepted 14 calls without any credential in 8 min 40 s; catalogue entry Orders requires one',
    );
    expect(a.observed).toContain(`14 anonymous calls accepted from ${iso(sent[0].ts)} to ${iso(sent[13].ts)}`);
    expect([a.firstSeen, a.lastSeen]).toEqual([sent[2].ts, sent[13].ts]);
  });

  it('alone: calls again after a quiet spell are another alert, counting only them', async () => {
    const first = [0, 1, 2, 3, 4].map((i) => anonymous(T0 + 12 * MIN + i * MIN + 3, 500 + i, '185.7.7.7'));
    // quiet for 20 minutes (its alert resolves), then 4 more
    const later = [0, 1, 2, 3].map((i) => anonymous(T0 + 36 * MIN + i * MIN + 3, 600 + i, '185.7.7.9'));
    const { alerts } = await documented([...first, ...later], 60, false);
    expect(alerts.map((a) => [a.evidence.metrics.anonymous_calls, a.firstSeen, a.lastSeen])).toEqual([
      [5, first[2].ts, first[4].ts],
      [4, later[2].ts, later[3].ts],
    ]);
  });

  it('with the tracker: one alert whose figures never flip between the two views, and hold both', async () => {
    // 103 anonymous calls 5 s apart from minute 12 (8 min 30 s): the tracker and the catalogue both find them
    const sent = Array.from({ length: 103 }, (_, i) =>
      anonymous(T0 + 12 * MIN + i * 5000 + 3, 500 + i, `185.7.7.${i % 3}`),
    );
    const { alerts, versions } = await documented([...sent], 40, true);
    expect(alerts).toHaveLength(1);
    const [a] = alerts;
    expect(a.labels?.rule).toBe('auth_dropped,documented');
    expect(a.evidence.metrics).toMatchObject({
      anonymous_calls: 103,
      anonymous_span_s: (sent[102].ts - sent[0].ts) / 1000,
      sources: 3,
      service_anonymous_share: 0,
    });
    expect(a.lastSeen).toBe(sent[102].ts);
    expect(versions.length).toBeGreaterThan(8);
    // every version an analyst could have read counted the anonymous calls up to its last sight, over their span
    for (const v of versions) {
      const upTo = sent.filter((r) => r.ts <= v.lastSeen);
      expect(v.evidence.metrics, iso(v.lastSeen)).toMatchObject({
        anonymous_calls: upTo.length,
        anonymous_span_s: (upTo[upTo.length - 1].ts - upTo[0].ts) / 1000,
      });
    }
  });
});
