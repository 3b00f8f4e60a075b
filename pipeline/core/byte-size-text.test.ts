import { describe, expect, it } from 'vitest';
import { byteSizeText } from './byte-size-text.js';

describe('byteSizeText', () => {
  it('says an amount in decimal units with at most two significant figures past 10', () => {
    expect(byteSizeText(0)).toBe('0 bytes');
    expect(byteSizeText(950)).toBe('950 bytes');
    expect(byteSizeText(1000)).toBe('1 kB');
    expect(byteSizeText(1234)).toBe('1.2 kB');
    expect(byteSizeText(20_400_000)).toBe('20 MB');
    expect(byteSizeText(1_230_000_000)).toBe('1.2 GB');
    expect(byteSizeText(5e15)).toBe('5000 TB');
    expect(byteSizeText(Number.NaN)).toBe('0 bytes');
  });
});
