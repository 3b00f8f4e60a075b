import { describe, expect, it } from 'vitest';
import { parseRootCauseConfig, resolveAcrossServices } from './config.js';
import { SymptomFolder } from './symptom-folder.js';

describe('root-cause config', () => {
  it('across_services auto is on only where one shard sees every service: the embedded bus with one partition', () => {
    const auto = parseRootCauseConfig({});
    expect(auto.across_services).toBe('auto');
    const on = (kind: 'memory' | 'kafka', partitions: number) =>
      resolveAcrossServices(auto, { kind, partitions }).across_services;
    expect(on('memory', 1)).toBe(true);
    expect(on('memory', 4)).toBe(false);
    expect(on('kafka', 1)).toBe(false);
    // an explicit choice stands
    expect(
      resolveAcrossServices(parseRootCauseConfig({ across_services: true }), { kind: 'kafka', partitions: 8 }),
    ).toMatchObject({ across_services: true });
    expect(
      resolveAcrossServices(parseRootCauseConfig({ across_services: false }), { kind: 'memory', partitions: 1 }),
    ).toMatchObject({ across_services: false });
    expect(() => parseRootCauseConfig({ across_services: 'sometimes' })).toThrow(/across_services/);
  });

  it('symptoms_at is merged over its defaults: a kind given is changed, the others stay folded, `none` unfolds one', () => {
    const c = parseRootCauseConfig({ symptoms_at: { latency_spike: 'callees', traffic_drop: 'none' } });
    expect(c.symptoms_at).toEqual({
      latency_spike: 'callees',
      error_burst: 'callers',
      traffic_spike: 'callees',
      traffic_drop: 'none',
    });
    const f = new SymptomFolder(c, undefined);
    expect([f.folds('latency_spike'), f.folds('error_burst'), f.folds('traffic_drop')]).toEqual([true, true, false]);
    expect(() => parseRootCauseConfig({ symptoms_at: { traffic_drop: 'nowhere' } })).toThrow(/symptoms_at/);
  });
});
