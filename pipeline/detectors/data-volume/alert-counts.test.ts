import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../../sensors/common/test-records.js';
import { correlate } from '../../../test/harness/correlate.js';
import type { ApiCallRecord } from '../../core/record.js';
import { checkConfig } from '../shared/detector-kit.js';
import { DataVolumeConfigSchema } from './config.js';
import { dataVolumeFactory } from './factory.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

let seq = 0;
const read = (ts: number, sub: string, respBytes: number): ApiCallRecord => {
  const i = seq++;
  return sampleRecord(i, {
    id: `r${String(i).padStart(6, '0')}`,
    ts,
    service: 'reports',
    path: `/exports/${i % 9}`,
    route: '/exports/{id}',
    respBytes,
    user: { sub },
  });
};

/** 20 users reading ~20 kB every 150 s from T0 for `minutes` (they move event time on), and `records`, in time order */
function take(records: ApiCallRecord[], minutes: number) {
  for (let u = 0; u < 20; u++)
    for (let t = u * 7000; t < minutes * MIN; t += 150_000) records.push(read(T0 + t, `user-${u}`, 16_000 + u * 400));
  records.sort((a, b) => a.ts - b.ts);
  const settings = checkConfig('data_volume', DataVolumeConfigSchema, { min_subjects: 10, min_windows: 30 });
  return correlate(records, () => [dataVolumeFactory.create(settings)], ['bulk_data_access', 'excessive_calls']);
}

describe('data_volume through the correlator: what the alert counts', () => {
  it('an export longer than the window: one alert counting every byte, open until it stops, then resolved', async () => {
    // mallory reads 500 kB every 15 s from minute 20 for 12 minutes: 48 reads, 24 MB, across three 5-minute windows
    const mallory = Array.from({ length: 48 }, (_, i) => read(T0 + 20 * MIN + i * 15_000, 'mallory', 500_000));
    const { alerts, versions } = await take([...mallory], 50);
    expect(alerts).toHaveLength(1);
    const [a] = alerts;
    expect(a).toMatchObject({
      kind: 'bulk_data_access',
      endpoint: 'GET /exports/{id}',
      subject: { type: 'user', value: 'mallory' },
      state: 'resolved',
    });
    expect(a.evidence.metrics).toMatchObject({ bytes: 24_000_000, requests: 48, span_s: (47 * 15_000) / 1000 });
    // raised at the 3rd read (1.5 MB, over the 1 MB floor), open while the export went on, last seen at its end
    expect(a.firstSeen).toBe(mallory[2].ts);
    expect(a.lastSeen).toBe(mallory[47].ts);
    expect(a.summary).toMatch(/^user mallory took 24 MB from GET \/exports\/\{id\} in 11 min 45 s, \d+× what/);
    // every version an analyst could have read counted the bytes up to its last sight, never fewer than before
    for (const v of versions.filter((x) => x.state !== 'resolved')) {
      const upTo = mallory.filter((r) => r.ts <= v.lastSeen).length;
      expect(v.evidence.metrics.bytes, new Date(v.lastSeen).toISOString()).toBe(upTo * 500_000);
    }
  });

  it('taking again after a quiet spell is another alert, counting only its own reads', async () => {
    const first = Array.from({ length: 10 }, (_, i) => read(T0 + 20 * MIN + i * 15_000, 'mallory', 500_000));
    // quiet for 20 minutes (its alert resolves), then 6 reads from minute 42
    const later = Array.from({ length: 6 }, (_, i) => read(T0 + 42 * MIN + i * 15_000, 'mallory', 500_000));
    const { alerts } = await take([...first, ...later], 65);
    expect(alerts.map((a) => [a.evidence.metrics.bytes, a.firstSeen, a.lastSeen])).toEqual([
      [5_000_000, first[2].ts, first[9].ts],
      [3_000_000, later[2].ts, later[5].ts],
    ]);
  });
});
