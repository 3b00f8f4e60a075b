import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FrameIssue, TcpFramer } from './tcp-framer.js';

function run(chunks: Buffer[], max = 100) {
  const msgs: string[] = [];
  const issues: FrameIssue[] = [];
  const f = new TcpFramer(max, { onMessage: (m) => msgs.push(m.toString('utf8')), onIssue: (i) => issues.push(i) });
  let alive = true;
  for (const c of chunks) alive = f.push(c) && alive;
  return { msgs, issues, alive };
}

const octet = (s: string) => `${Buffer.byteLength(s)} ${s}`;

describe('TcpFramer (RFC 6587)', () => {
  it('splits octet-counted and newline-framed messages, mixed on one stream', () => {
    const stream = `${octet('<1>a b\nc')}${octet('<2>second')}<3>third\n<4>fourth\r\n`;
    expect(run([Buffer.from(stream)]).msgs).toEqual(['<1>a b\nc', '<2>second', '<3>third', '<4>fourth']);
  });

  it('gives the same messages however the stream is cut into chunks', () => {
    const stream = Buffer.from(`${octet('<1>één')}<2>two\n${octet('<3>three')}`);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 6 }), (cuts) => {
        const sorted = [...cuts].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const c of [...sorted, stream.length]) {
          chunks.push(stream.subarray(prev, c));
          prev = c;
        }
        const r = run(chunks);
        return r.issues.length === 0 && JSON.stringify(r.msgs) === JSON.stringify(['<1>één', '<2>two', '<3>three']);
      }),
    );
  });

  it('skips an oversized octet-counted frame without buffering it and carries on', () => {
    const big = 'x'.repeat(500);
    const r = run([
      Buffer.from(`${octet(big).slice(0, 200)}`),
      Buffer.from(`${octet(big).slice(200)}${octet('<1>ok')}`),
    ]);
    expect(r).toEqual({ msgs: ['<1>ok'], issues: ['too_large'], alive: true });
  });

  it('skips an oversized newline-framed message up to its newline', () => {
    const r = run([Buffer.from('<1>'), Buffer.from('y'.repeat(300)), Buffer.from('y\n<2>after\n')]);
    expect(r).toEqual({ msgs: ['<2>after'], issues: ['too_large'], alive: true });
  });

  it('declares the stream broken on a bad length prefix', () => {
    expect(run([Buffer.from('12345678901234 x')])).toMatchObject({ issues: ['bad_frame'], alive: false });
    expect(run([Buffer.from('0 ')])).toMatchObject({ issues: ['bad_frame'], alive: false });
    expect(run([Buffer.from('12x <1>a')])).toMatchObject({ issues: ['bad_frame'], alive: false });
  });

  it('waits for a length prefix split across chunks', () => {
    expect(run([Buffer.from('1'), Buffer.from('0 <1>5678901')]).msgs).toEqual(['<1>5678901']);
  });

  it('at the end of the stream, takes a message still waiting for its LF as the last message', () => {
    const msgs: string[] = [];
    const issues: FrameIssue[] = [];
    const f = new TcpFramer(100, { onMessage: (m) => msgs.push(m.toString('utf8')), onIssue: (i) => issues.push(i) });
    f.push(Buffer.from('<1>first\n<2>last\r'));
    expect(msgs).toEqual(['<1>first']);
    f.end();
    expect({ msgs, issues }).toEqual({ msgs: ['<1>first', '<2>last'], issues: [] });
    f.end(); // nothing left
    expect(msgs).toHaveLength(2);
  });

  it('at the end of the stream, counts an octet-counted frame cut short, or a length with no message', () => {
    for (const tail of [`${octet('<1>whole')}20 <2>cut`, `${octet('<1>whole')}\n42`]) {
      const msgs: string[] = [];
      const issues: FrameIssue[] = [];
      const f = new TcpFramer(100, { onMessage: (m) => msgs.push(m.toString()), onIssue: (i) => issues.push(i) });
      f.push(Buffer.from(tail));
      f.end();
      expect({ msgs, issues }).toEqual({ msgs: ['<1>whole'], issues: ['truncated_frame'] });
    }
  });

  it('at the end of the stream, adds nothing for a frame already counted or a stream already broken', () => {
    const ends = (chunks: string[]) => {
      const seen: string[] = [];
      const f = new TcpFramer(100, {
        onMessage: (m) => seen.push(m.toString()),
        onIssue: (i) => seen.push(`issue:${i}`),
      });
      for (const c of chunks) f.push(Buffer.from(c));
      f.end();
      return seen;
    };
    expect(ends(['<1>', 'y'.repeat(300)])).toEqual(['issue:too_large']);
    expect(ends([`500 ${'x'.repeat(300)}`])).toEqual(['issue:too_large']);
    expect(ends(['12x <1>a'])).toEqual(['issue:bad_frame']);
    expect(ends(['\n\r\u0000'])).toEqual([]);
  });
});
