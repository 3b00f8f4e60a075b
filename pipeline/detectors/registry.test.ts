import { describe, expect, it } from 'vitest';
import './all.js';
import { compileDetectors, detectorFactories } from './registry.js';

describe('the detectors section', () => {
  const all = detectorFactories().map((f) => f.type);

  it('runs every detector with its defaults when absent or empty', () => {
    expect(compileDetectors(undefined).types).toEqual(all);
    expect(compileDetectors({}).types).toEqual(all);
  });

  it('tunes the detectors it names and keeps the others running (a catalogue for api_discovery turns nothing off)', () => {
    const set = compileDetectors({ api_discovery: { min_calls: 3 } });
    expect(set.types).toEqual(all);
    expect(set.create()).toHaveLength(all.length);
  });

  it('refuses a list where a map or a section is expected, and a peer_prior key out of its bounds, naming the key', () => {
    const peerPrior = (v: unknown) => compileDetectors({ api_discovery: { peer_prior: v } });
    expect(peerPrior({ appCode: 0.3, ['k'.repeat(64)]: 0.1 }).types).toEqual(all);
    for (const [section, problem] of [
      [
        { api_discovery: { peer_prior: [0.5] } },
        'detectors.api_discovery.peer_prior: Expected an object (a map of keys to numbers), got an array',
      ],
      [
        { api_discovery: { peer_prior: { ['k'.repeat(65)]: 0.1 } } },
        `detectors.api_discovery.peer_prior.${'k'.repeat(65)}: Expected a key matching ^.{1,64}$`,
      ],
      [
        { api_discovery: { peer_prior: { '': 0.1 } } },
        'detectors.api_discovery.peer_prior."": Expected a key matching ^.{1,64}$',
      ],
      [
        { data_locality: { service_regions: ['eu'] } },
        'detectors.data_locality.service_regions: Expected an object (a map of keys to strings), got an array',
      ],
      [{ api_discovery: [{ min_calls: 3 }] }, 'detectors.api_discovery: Expected an object, got an array'],
      [{ api_discovery: 5 }, 'detectors.api_discovery: Expected an object, got a number'],
    ] as const) {
      expect(() => compileDetectors(section), JSON.stringify(section)).toThrow(
        expect.objectContaining({ code: 'MW_ERR_CONFIG_INVALID', details: { problems: [problem] } }),
      );
    }
  });

  it('turns a detector off with enabled: false or null', () => {
    const types = compileDetectors({ enumeration: { enabled: false }, fan_out: null }).types;
    expect(types).toEqual(all.filter((t) => t !== 'enumeration' && t !== 'fan_out'));
  });
});
