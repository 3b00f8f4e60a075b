import { describe, expect, it } from 'vitest';
import { correlate as correlateAlerts } from '../../../test/harness/correlate.js';
import type { Alert } from '../../core/alert.js';
import type { ApiCallRecord } from '../../core/record.js';
import { checkConfig } from '../shared/detector-kit.js';
import { UnauthenticatedAccessConfigSchema } from './config.js';
import { unauthenticatedAccessFactory } from './factory.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

let seq = 0;
const call = (ts: number, route: string, o: Partial<ApiCallRecord> = {}): ApiCallRecord => ({
  v: 1,
  id: `r${String(seq++).padStart(6, '0')}`,
  ts,
  durationMs: 5,
  sensor: { kind: 'envoy_wasm', id: 's1' },
  service: 'billing',
  method: 'GET',
  host: 'billing.svc',
  path: route,
  route,
  status: 200,
  reqBytes: 0,
  respBytes: 100,
  source: { ip: '10.0.0.1', service: 'frontend', principal: 'spiffe://cluster.local/ns/web/sa/frontend', mtls: true },
  ...o,
});
const anonymous = (ts: number, route: string, ip: string) => call(ts, route, { source: { ip } });

/** records through a correlator running unauthenticated_access; the stored alerts once every one is resolved */
async function correlate(records: ApiCallRecord[]): Promise<Alert[]> {
  const config = checkConfig('unauthenticated_access', UnauthenticatedAccessConfigSchema, { learning_ms: 10 * MIN });
  // the traffic goes on long after the last anonymous call: each alert is resolved once quiet (10 minutes)
  const { alerts } = await correlateAlerts(records, () => [unauthenticatedAccessFactory.create(config)], [
    'unauthenticated_access',
  ]);
  return alerts;
}

describe('unauthenticated_access through the correlator: what the alert counts', () => {
  it('an open endpoint: the alert counts every anonymous call it saw, from the first to the last, not the first three', async () => {
    const records: ApiCallRecord[] = [];
    // billing's other endpoints carry a credential (mTLS) on every call, all along; its learning ends at minute 10
    for (let t = T0; t < T0 + 40 * MIN; t += 10_000) records.push(call(t, '/invoices'));
    // from minute 12, 14 anonymous calls to an endpoint nobody called before, 40 s apart (8 min 40 s), from 2 addresses
    const sent: ApiCallRecord[] = [];
    for (let i = 0; i < 14; i++)
      sent.push(anonymous(T0 + 12 * MIN + i * 40_000 + 1, '/invoices/export', i % 2 ? '185.7.7.7' : '185.7.7.8'));
    records.push(...sent);
    records.sort((a, b) => a.ts - b.ts);

    const alerts = await correlate(records);
    expect(alerts).toHaveLength(1);
    const [a] = alerts;
    expect(a).toMatchObject({ endpoint: 'GET /invoices/export', labels: { rule: 'open_endpoint' } });
    expect(a.evidence.metrics).toMatchObject({
      anonymous_calls: 14,
      anonymous_span_s: (sent[13].ts - sent[0].ts) / 1000,
      sources: 2,
    });
    expect(a.summary).toBe('billing GET /invoices/export accepted 14 calls without any credential in 8 min 40 s');
    expect(a.observed).toContain(
      `14 anonymous calls accepted from ${new Date(sent[0].ts).toISOString()} to ${new Date(sent[13].ts).toISOString()}`,
    );
    // it stayed open while the calls went on, and was last seen at the last of them
    expect(a.lastSeen).toBe(sent[13].ts);
    expect(a.evidence.recordIds).toEqual(sent.map((r) => r.id));
  });

  it('a flood: every call counted, though its alert is refreshed at most once a second', async () => {
    const records: ApiCallRecord[] = [];
    for (let t = T0; t < T0 + 30 * MIN; t += 10_000) records.push(call(t, '/invoices'));
    // 600 anonymous calls in 300 ms at minute 12: the alert is raised at the third, the rest reported when the
    // service's window of that minute closes
    const sent = Array.from({ length: 600 }, (_, i) =>
      anonymous(T0 + 12 * MIN + Math.floor(i / 2), '/invoices/export', '185.7.7.7'),
    );
    records.push(...sent);
    records.sort((a, b) => a.ts - b.ts);

    const [a, ...others] = await correlate(records);
    expect(others).toEqual([]);
    expect(a.evidence.metrics).toMatchObject({ anonymous_calls: 600, anonymous_span_s: 0.299 });
    expect(a.summary).toBe('billing GET /invoices/export accepted 600 calls without any credential in under a second');
    expect(a.lastSeen).toBe(sent[599].ts);
    expect(a.count).toBe(2);
    // the evidence: the first 20 calls
    expect(a.evidence.recordIds).toEqual(sent.slice(0, 20).map((r) => r.id));
  });

  it('a later alert of the same endpoint counts the calls since the earlier one ended, however long it waited to raise', async () => {
    const records: ApiCallRecord[] = [];
    for (let t = T0; t < T0 + 150 * MIN; t += 10_000) records.push(call(t, '/invoices'));
    // 4 anonymous calls from minute 12 (raised at the third, minute 14), then quiet for 25 minutes (the alert
    // resolves), then 5 more from minute 40: the endpoint is raised again only an hour (realert_ms) after its first
    // alert, at the call of minute 76
    const first = [0, 1, 2, 3].map((i) => anonymous(T0 + 12 * MIN + i * MIN, '/invoices/export', '185.7.7.7'));
    const later = [0, 9, 18, 27, 36].map((m) => anonymous(T0 + 40 * MIN + m * MIN, '/invoices/export', '185.7.7.9'));
    records.push(...first, ...later);
    records.sort((a, b) => a.ts - b.ts);

    const alerts = (await correlate(records)).sort((a, b) => a.firstSeen - b.firstSeen);
    expect(alerts.map((a) => [a.evidence.metrics.anonymous_calls, a.evidence.metrics.sources])).toEqual([
      [4, 1],
      [5, 1],
    ]);
    expect(alerts[0].lastSeen).toBe(first[3].ts);
    expect(alerts[1].observed).toContain(`from ${new Date(later[0].ts).toISOString()}`);
    expect(alerts[1].evidence.recordIds).toEqual(later.map((r) => r.id));
  });
});
