import { describe, expect, it } from 'vitest';
import { correlate } from '../../../test/harness/correlate.js';
import type { ApiCallRecord } from '../../core/record.js';
import { checkConfig } from '../shared/detector-kit.js';
import { CredentialStuffingConfigSchema } from './config.js';
import { credentialStuffingFactory } from './factory.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const iso = (ts: number) => new Date(ts).toISOString();

let seq = 0;
/** a sign-in at the front end: refused (401) unless `ok` */
const login = (ts: number, ip: string, sub: string, ok = false): ApiCallRecord => ({
  v: 1,
  id: `r${String(seq++).padStart(6, '0')}`,
  ts,
  durationMs: 40,
  sensor: { kind: 'envoy_wasm', id: 'edge' },
  service: 'frontend',
  method: 'POST',
  host: 'shop.example',
  path: '/api/login',
  route: '/api/login',
  status: ok ? 200 : 401,
  reqBytes: 80,
  respBytes: 20,
  source: { ip },
  user: { sub },
});
/** a probe every 10 s: it only moves event time on */
const probe = (ts: number): ApiCallRecord => ({
  ...login(ts, '10.0.0.9', 'kube', true),
  path: '/healthz',
  route: '/healthz',
});

/** the records, with probes from T0 for `minutes`, in time order, through a correlator running credential_stuffing */
function attempt(records: ApiCallRecord[], minutes: number) {
  for (let t = T0; t < T0 + minutes * MIN; t += 10_000) records.push(probe(t));
  records.sort((a, b) => a.ts - b.ts);
  const config = checkConfig('credential_stuffing', CredentialStuffingConfigSchema, {});
  return correlate(records, () => [credentialStuffingFactory.create(config)], ['credential_stuffing', 'brute_force']);
}

describe('credential_stuffing and brute_force through the correlator: what the alerts count', () => {
  it('stuffing longer than the window: one alert counting every user, failure and attempt of the address', async () => {
    // 185.1.1.1 tries 60 users, one every 20 s from minute 1 (19 min 40 s, across two 10-minute windows); 3 get in
    const tries = Array.from({ length: 60 }, (_, i) => login(T0 + MIN + i * 20_000, '185.1.1.1', `user${i}`));
    const wins = [10, 30, 50].map((i) => login(T0 + MIN + i * 20_000 + 5000, '185.1.1.1', `user${i}`, true));

    const { alerts, versions } = await attempt([...tries, ...wins], 45);
    expect(alerts.map((a) => a.kind)).toEqual(['credential_stuffing']);
    const [a] = alerts;
    expect(a).toMatchObject({ endpoint: 'POST /api/login', subject: { type: 'ip', value: '185.1.1.1' } });
    expect(a.evidence.metrics).toMatchObject({
      distinct_users: 60,
      failures: 60,
      attempts: 63,
      span_s: (59 * 20_000) / 1000,
    });
    expect(a.summary).toBe('60 distinct users failed to log in from 185.1.1.1 in 19 min 40 s');
    expect(a.observed).toBe(
      `60 distinct users, 60 failures in 63 attempts from ${iso(tries[0].ts)} to ${iso(tries[59].ts)}`,
    );
    // raised at the 15th user (stuffing_distinct_users), open while the attempts went on, last seen at the last
    expect(a.firstSeen).toBe(tries[14].ts);
    expect(a.lastSeen).toBe(tries[59].ts);
    expect(a.evidence.recordIds).toEqual(tries.slice(0, 20).map((r) => r.id));
    for (const v of versions)
      expect(v.evidence.metrics.distinct_users, iso(v.lastSeen)).toBe(tries.filter((r) => r.ts <= v.lastSeen).length);
  });

  it('brute force longer than the window: one alert counting every failure and address', async () => {
    // 40 failed sign-ins for victim, one every 30 s from minute 1, from three addresses in turn
    const ips = ['185.2.2.1', '185.2.2.2', '185.2.2.3'];
    const tries = Array.from({ length: 40 }, (_, i) => login(T0 + MIN + i * 30_000, ips[i % 3], 'victim'));

    const { alerts } = await attempt([...tries], 45);
    expect(alerts.map((a) => a.kind)).toEqual(['brute_force']);
    const [a] = alerts;
    expect(a).toMatchObject({ subject: { type: 'user', value: 'victim' } });
    expect(a.evidence.metrics).toMatchObject({ failures: 40, source_ips: 3, span_s: (39 * 30_000) / 1000 });
    expect(a.summary).toBe('40 failed logins for user victim in 19 min 30 s');
    expect(a.observed).toBe(`40 failures from 3 addresses from ${iso(tries[0].ts)} to ${iso(tries[39].ts)}`);
    expect(a.firstSeen).toBe(tries[11].ts);
    expect(a.lastSeen).toBe(tries[39].ts);
  });

  it('stuffing again after a quiet spell is another alert, counting only its own attempts', async () => {
    const first = Array.from({ length: 20 }, (_, i) => login(T0 + MIN + i * 15_000, '185.1.1.1', `a${i}`));
    // quiet for 20 minutes (its alert resolves), then 18 more users from minute 26
    const later = Array.from({ length: 18 }, (_, i) => login(T0 + 26 * MIN + i * 15_000, '185.1.1.1', `b${i}`));

    const { alerts } = await attempt([...first, ...later], 50);
    expect(
      alerts.map((a) => [a.kind, a.evidence.metrics.distinct_users, a.evidence.metrics.failures, a.lastSeen]),
    ).toEqual([
      ['credential_stuffing', 20, 20, first[19].ts],
      ['credential_stuffing', 18, 18, later[17].ts],
    ]);
  });
});
