import { decodeTime, isValid } from 'ulidx';
import { describe, expect, it } from 'vitest';
import { recordId } from './record-id.js';

describe('recordId', () => {
  it('produces valid ULIDs whose time part decodes back (checked with ulidx)', () => {
    for (const t of [0, 1, 1_700_000_000_123, 281_474_976_710_655]) {
      const id = recordId(t);
      expect(id).toHaveLength(26);
      expect(isValid(id)).toBe(true);
      expect(decodeTime(id)).toBe(t);
    }
  });

  it('does not repeat across many ids in the same millisecond (pool refills included)', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5_000; i++) ids.add(recordId(1_700_000_000_000));
    expect(ids.size).toBe(5_000);
  });

  it('sorts by time across milliseconds', () => {
    expect(recordId(1_000) < recordId(1_001)).toBe(true);
    expect(recordId(31) < recordId(32)).toBe(true);
  });

  it('encodes the time part as the first implementation did (26 Crockford characters, time first)', () => {
    const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const reference = (now: number) => {
      let time = '';
      let t = now;
      for (let i = 0; i < 10; i++) {
        time = crockford[t % 32] + time;
        t = Math.floor(t / 32);
      }
      return time;
    };
    for (const t of [0, 31, 32, 1_700_000_000_123, 1_700_000_000_123, 281_474_976_710_655]) {
      const id = recordId(t);
      expect(id.slice(0, 10)).toBe(reference(t));
      expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    }
  });
});
