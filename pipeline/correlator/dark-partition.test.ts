import { describe, expect, it } from 'vitest';
import '../detectors/all.js';
import { compileDetectors } from '../detectors/registry.js';
import { Shard } from './shard.js';
import { steadyTraffic } from './testdata/records.js';

/**
 * The idle watermark's reason to be, with the real detectors: a partition whose one service goes dark gets no record
 * after its last, so only advanceTo (the correlator's idle watermark) closes the silent minutes and lets metric_anomaly
 * see them
 */
describe('a partition whose traffic stops', () => {
  it('raises traffic_drop once event time is moved on without a record, and not before', () => {
    const shard = new Shard(compileDetectors({}).create(), {});
    const T0 = Date.UTC(2026, 0, 1);
    // 30 hours of steady traffic (the detector's baseline), then nothing
    const records = steadyTraffic({ start: T0, minutes: 30 * 60, perMinute: 20, services: ['orders'] });
    for (const r of records) shard.process(r);
    const drops = () => shard.drain().alerts.filter((a) => a.kind === 'traffic_drop');
    expect(drops()).toEqual([]);

    shard.advanceTo(records[records.length - 1].ts + 15 * 60_000);
    expect(drops()).toMatchObject([{ service: 'orders', state: 'open' }]);
  });
});
