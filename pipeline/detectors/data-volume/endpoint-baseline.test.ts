import { describe, expect, it } from 'vitest';
import { checkConfig } from '../shared/detector-kit.js';
import { DataVolumeConfigSchema } from './config.js';
import { EndpointBaseline } from './endpoint-baseline.js';

const s = checkConfig('data_volume', DataVolumeConfigSchema, {
  min_subjects: 2,
  min_windows: 10,
  baseline_windows: 40,
  min_bytes: 1000,
});

describe('EndpointBaseline', () => {
  it('is infinite until trusted, then follows its last generation, never read from a handful after a turn', () => {
    const b = new EndpointBaseline();
    for (let w = 0; w < 9; w++) b.push(`user:${w % 3}`, 100_000, 2, s);
    expect(b.trusted).toBe(false);
    expect(b.bytesThreshold).toBe(Number.POSITIVE_INFINITY);
    // windows 10..40 at 100 kB: read at 10 and 26 (every 16th once trusted); the generation turns at the 40th
    for (let w = 9; w < 40; w++) b.push(`user:${w % 3}`, 100_000, 2, s);
    expect(b.trusted).toBe(true);
    expect(b.bytesQuantile / 100_000).toBeCloseTo(1, 1);
    expect(b.bytesThreshold).toBe(5 * b.bytesQuantile);
    // 1 kB windows from now: at 42 and 58 the new generation holds 2 and 18 (under half of 40): the old one's quantile
    for (let w = 40; w < 42; w++) b.push(`user:${w % 3}`, 1_000, 1, s);
    expect(b.bytesQuantile / 100_000).toBeCloseTo(1, 1);
    for (let w = 42; w < 58; w++) b.push(`user:${w % 3}`, 1_000, 1, s);
    expect(b.bytesQuantile / 100_000).toBeCloseTo(1, 1);
    // at 74 it holds 34: its own
    for (let w = 58; w < 74; w++) b.push(`user:${w % 3}`, 1_000, 1, s);
    expect(b.bytesQuantile / 1_000).toBeCloseTo(1, 1);
    expect(b.bytesThreshold).toBe(Math.max(1000, 5 * b.bytesQuantile));
    expect(b.requestsThreshold).toBe(30);
  });

  it('comes back from its checkpoint with the same figures, and reads them again at the same window', () => {
    const a = new EndpointBaseline();
    for (let w = 0; w < 50; w++) a.push(`user:${w % 5}`, 1000 + w * 997, 1 + (w % 4), s);
    const b = EndpointBaseline.from(JSON.parse(JSON.stringify(a.toJSON())), s);
    expect([b.bytesQuantile, b.requestsQuantile, b.bytesThreshold]).toEqual([
      a.bytesQuantile,
      a.requestsQuantile,
      a.bytesThreshold,
    ]);
    for (let w = 50; w < 90; w++) {
      a.push(`user:${w % 5}`, 50_000, 9, s);
      b.push(`user:${w % 5}`, 50_000, 9, s);
      expect(b.bytesThreshold, `window ${w}`).toBe(a.bytesThreshold);
    }
  });
  it('lets the previous generation go once the current one is read instead', () => {
    const b = new EndpointBaseline();
    for (let w = 0; w < 59; w++) b.push(`user:${w % 3}`, 1000, 1, s);
    expect(b.toJSON().bytes[1]).not.toBeNull();
    b.push('user:0', 1000, 1, s);
    expect(b.toJSON().bytes[1]).toBeNull();
  });

  it('keeps its figures through a checkpoint with the compact stores (the library protobuf, as before)', () => {
    const a = new EndpointBaseline();
    for (let w = 0; w < 70; w++) a.push(`user:${w % 5}`, 1000 + ((w * 7919) % 90_000), 1 + (w % 7), s);
    const b = EndpointBaseline.from(JSON.parse(JSON.stringify(a.toJSON())), s);
    for (let w = 70; w < 130; w++) {
      const bytes = 1000 + ((w * 7919) % 90_000);
      a.push(`user:${w % 5}`, bytes, 1 + (w % 7), s);
      b.push(`user:${w % 5}`, bytes, 1 + (w % 7), s);
      expect([b.bytesThreshold, b.requestsThreshold], `window ${w}`).toEqual([a.bytesThreshold, a.requestsThreshold]);
    }
  });
});
