import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTraceparent } from './traceparent.js';

/** the first implementation (one regex on the trimmed, lower-cased value): the fast path must agree with it */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
function reference(header: string | string[] | undefined) {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v || v.length > 128) return undefined;
  const m = TRACEPARENT.exec(v.trim().toLowerCase());
  if (!m || m[1] === 'ff' || m[2] === '0'.repeat(32) || m[3] === '0'.repeat(16)) return undefined;
  return { traceId: m[2], parentSpanId: m[3] };
}

const hex = (n: number, chars = '0123456789abcdefABCDEF') =>
  fc.array(fc.constantFrom(...chars), { minLength: n, maxLength: n }).map((a) => a.join(''));

describe('parseTraceparent', () => {
  it('parses valid headers and refuses version ff, zero ids and malformed values', () => {
    const ok = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(parseTraceparent(ok)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
    });
    expect(parseTraceparent([` ${ok.toUpperCase()} `])).toEqual(parseTraceparent(ok));
    expect(parseTraceparent(`ff${ok.slice(2)}`)).toBeUndefined();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(parseTraceparent(`00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`)).toBeUndefined();
    expect(parseTraceparent(ok.replace('-00f0', '_00f0'))).toBeUndefined();
    expect(parseTraceparent('')).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });

  it('agrees with the regex implementation on generated headers', () => {
    const header = fc.oneof(
      fc
        .tuple(
          hex(2),
          hex(32, '0f'),
          hex(16, '0a'),
          hex(2),
          fc.constantFrom('-', '_', ' '),
          fc.constantFrom('', ' ', '\t'),
        )
        .map(([v, t, s, f, sep, pad]) => `${pad}${v}-${t}${sep}${s}-${f}${pad}`),
      fc.string({ maxLength: 60 }),
      fc.string({ minLength: 120, maxLength: 140 }),
    );
    fc.assert(
      fc.property(header, (h) => {
        expect(parseTraceparent(h)).toEqual(reference(h));
      }),
      { numRuns: 3_000 },
    );
  });
});
