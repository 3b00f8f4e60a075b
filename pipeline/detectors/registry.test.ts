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

  it('turns a detector off with enabled: false or null', () => {
    const types = compileDetectors({ enumeration: { enabled: false }, fan_out: null }).types;
    expect(types).toEqual(all.filter((t) => t !== 'enumeration' && t !== 'fan_out'));
  });
});
