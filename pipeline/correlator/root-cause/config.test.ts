import { describe, expect, it } from 'vitest';
import { parseRootCauseConfig, resolveAcrossServices } from './config.js';

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
});
