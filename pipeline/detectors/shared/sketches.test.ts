import { describe, expect, it } from 'vitest';
import { CountMinSketch } from './count-min.js';
import { HyperLogLog } from './hyperloglog.js';

describe('HyperLogLog', () => {
  it('estimates distinct counts within a few standard errors and survives JSON', () => {
    for (const n of [100, 1000, 20_000]) {
      const h = new HyperLogLog(8);
      for (let i = 0; i < n; i++) h.add(`obj-${i}`);
      for (let i = 0; i < n; i++) h.add(`obj-${i}`);
      expect(Math.abs(h.count() - n) / n).toBeLessThan(0.2);
      expect(HyperLogLog.fromJSON(JSON.parse(JSON.stringify(h.toJSON()))).count()).toBe(h.count());
    }
  });
});

describe('CountMinSketch', () => {
  it('never under-counts and stays close for heavy keys', () => {
    const s = new CountMinSketch(1024, 4);
    for (let i = 0; i < 5000; i++) s.add(`k${i % 500}`);
    for (let i = 0; i < 300; i++) s.add('heavy');
    expect(s.estimate('heavy')).toBeGreaterThanOrEqual(300);
    expect(s.estimate('heavy')).toBeLessThan(330);
    for (let i = 0; i < 500; i += 50) expect(s.estimate(`k${i}`)).toBeGreaterThanOrEqual(10);
    expect(CountMinSketch.fromJSON(JSON.parse(JSON.stringify(s.toJSON()))).estimate('heavy')).toBe(s.estimate('heavy'));
  });
});
