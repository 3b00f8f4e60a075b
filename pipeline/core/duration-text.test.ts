import { describe, expect, it } from 'vitest';
import { durationText } from './duration-text.js';

describe('durationText', () => {
  it('says a duration to its two largest units, a unit that is 0 left out', () => {
    expect(
      [999, 1000, 40_000, 520_000, 900_000, 3_600_000, 7_500_000, 3_630_000, 86_400_000 * 7, 90_061_000].map(
        durationText,
      ),
    ).toEqual(['under a second', '1 s', '40 s', '8 min 40 s', '15 min', '1 h', '2 h 5 min', '1 h', '7 d', '1 d 1 h']);
  });
});
