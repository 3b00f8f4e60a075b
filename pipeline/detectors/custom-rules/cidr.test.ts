import { describe, expect, it } from 'vitest';
import { CidrMatcher, CidrMatchers } from './cidr.js';

describe('CidrMatcher', () => {
  it('finds an IPv4 address in its ranges, and not one outside them', () => {
    const m = new CidrMatcher(['10.0.0.0/8', '192.168.1.0/24']);
    expect(['10.1.2.3', '10.255.255.255', '192.168.1.77'].map((a) => m.contains(a))).toEqual([true, true, true]);
    expect(['11.0.0.1', '192.168.2.1', '9.255.255.255'].map((a) => m.contains(a))).toEqual([false, false, false]);
  });

  it('finds an IPv6 address, however it is spelt, and an IPv4-mapped IPv6 address in an IPv4 range', () => {
    const m = new CidrMatcher(['fd00::/8', '2001:db8::1', '10.0.0.0/8', '203.0.113.7']);
    expect(m.contains('fd12:3456::1')).toBe(true);
    expect(m.contains('fe80::1')).toBe(false);
    // one address, written otherwise than in the list
    expect(m.contains('2001:DB8:0:0::1')).toBe(true);
    expect(m.contains('2001:db8::2')).toBe(false);
    expect(m.contains('::ffff:10.9.8.7')).toBe(true);
    expect(m.contains('::ffff:203.0.113.7')).toBe(true);
    expect(m.contains('::ffff:11.9.8.7')).toBe(false);
    // an IPv6 address is not in an IPv4 range; an IPv4 address is in an IPv6 range only as its mapped form
    // (::ffff:a.b.c.d, which Node's BlockList compares it as): in ::/0, never in fd00::/8
    expect(new CidrMatcher(['0.0.0.0/0']).contains('2001:db8::1')).toBe(false);
    expect(new CidrMatcher(['fd00::/8']).contains('10.1.2.3')).toBe(false);
    expect(new CidrMatcher(['::/0']).contains('10.1.2.3')).toBe(true);
  });

  it('takes an entry without a prefix, or with /32 or /128, as one address', () => {
    const m = new CidrMatcher(['10.1.2.3', '10.1.2.4/32', '2001:db8::5/128']);
    expect(['10.1.2.3', '10.1.2.4', '2001:db8::5'].map((a) => m.contains(a))).toEqual([true, true, true]);
    expect(['10.1.2.5', '2001:db8::6'].map((a) => m.contains(a))).toEqual([false, false]);
  });

  it('answers the same for an address seen again, past the bound of the answers it keeps', () => {
    const m = new CidrMatcher(['10.0.0.0/16']);
    const addresses = Array.from({ length: 3000 }, (_, i) => `10.${i % 2}.${(i >> 8) & 255}.${i & 255}`);
    const first = addresses.map((a) => m.contains(a));
    expect(first.filter(Boolean)).toHaveLength(1500);
    expect(addresses.map((a) => m.contains(a))).toEqual(first);
  });

  it('is false for what is not an address: empty, a name, an address with a port', () => {
    const m = new CidrMatcher(['0.0.0.0/0', '::/0']);
    expect(['', 'localhost', '10.1.2.3:8080', '10.1.2', '[::1]'].map((a) => m.contains(a))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('refuses an entry that is neither a range nor an address, naming it', () => {
    for (const bad of [
      '10.0.0.0/33',
      'fd00::/129',
      '10.0.0.300/8',
      '10.0.0.0/',
      '10.0.0.0/8/8',
      'office',
      '10.0.0.0/-1',
      '',
    ])
      expect(() => new CidrMatcher([bad]), bad).toThrow(`not a CIDR range or an address: ${JSON.stringify(bad)}`);
  });
});

describe('CidrMatchers', () => {
  it('makes a range or a literal list once, and a named list once by its identity', () => {
    const cidrs = new CidrMatchers();
    expect(cidrs.of('10.0.0.0/8')).toBe(cidrs.of('10.0.0.0/8'));
    // a literal list is a new array at each evaluation: the same text, the same matcher
    expect(cidrs.of(['10.0.0.0/8', 'fd00::/8'])).toBe(cidrs.of(['10.0.0.0/8', 'fd00::/8']));
    expect(cidrs.of(['10.0.0.0/8'])).not.toBe(cidrs.of('10.0.0.0/8'));
    const office = Object.freeze(['192.168.0.0/16']);
    cidrs.prepareList(office);
    expect(cidrs.of(office)).toBe(cidrs.of(office));
    expect(cidrs.of(office).contains('192.168.3.4')).toBe(true);
    expect(() => cidrs.of('not-a-range')).toThrow(/not a CIDR range/);
    // a named (frozen) list not prepared at load, reached through an expression: by its identity, not its text
    const lab = Object.freeze(['10.20.0.0/16']);
    const first = cidrs.of(lab);
    expect(cidrs.of(lab)).toBe(first);
    expect(cidrs.of(['10.20.0.0/16'])).not.toBe(first);
    expect(first.contains('10.20.1.2')).toBe(true);
  });
});
