/**
 * Splits a syslog TCP stream into messages (RFC 6587): octet counting (`LEN SP MSG`) and non-transparent framing
 * (messages ended by LF). The method is detected per frame: a frame starting with a digit is octet-counted.
 * Bounded: a frame longer than `maxBytes` is skipped (counted as too_large) without buffering it. At the end of the
 * stream (`end`), a message still waiting for its LF is a message (the connection's end ends it, as senders that
 * close after their last line expect), and an octet-counted frame cut short is counted as truncated_frame.
 */
export type FrameIssue = 'too_large' | 'bad_frame' | 'truncated_frame';

export interface FramerEvents {
  onMessage(msg: Buffer): void;
  onIssue(issue: FrameIssue): void;
}

const SP = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const MAX_LEN_DIGITS = 10;

export class TcpFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** bytes still to discard from an oversized octet-counted frame */
  private skipBytes = 0;
  /** discarding an oversized LF-framed message until its LF */
  private skipToLf = false;
  private broken = false;

  constructor(
    private readonly maxBytes: number,
    private readonly events: FramerEvents,
  ) {}

  /** false once the stream is unrecoverable (a bad length prefix): the caller closes the connection */
  push(chunk: Buffer): boolean {
    if (this.broken) return false;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length === 0) return true;
      if (this.skipBytes > 0) {
        const n = Math.min(this.skipBytes, this.buf.length);
        this.skipBytes -= n;
        this.buf = this.buf.subarray(n);
        continue;
      }
      if (this.skipToLf) {
        const lf = this.buf.indexOf(LF);
        if (lf < 0) {
          this.buf = Buffer.alloc(0);
          return true;
        }
        this.skipToLf = false;
        this.buf = this.buf.subarray(lf + 1);
        continue;
      }
      const first = this.buf[0];
      if (first === LF || first === CR || first === 0) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      if (first >= 0x30 && first <= 0x39) {
        if (!this.octetCounted()) return !this.broken;
      } else if (!this.lfFramed()) return true;
    }
  }

  /** the stream ended (the connection closed): what is buffered is a last message or a counted issue, never dropped */
  end(): void {
    let rest = this.buf;
    this.buf = Buffer.alloc(0);
    // a broken stream was counted when it broke; an oversized frame being skipped was counted when it began
    if (this.broken || this.skipBytes > 0 || this.skipToLf) return;
    let start = 0;
    while (start < rest.length && (rest[start] === LF || rest[start] === CR || rest[start] === 0)) start++;
    rest = rest.subarray(start);
    if (rest.length === 0) return;
    if (rest[0] >= 0x30 && rest[0] <= 0x39) this.events.onIssue('truncated_frame');
    else this.events.onMessage(trimEnd(rest));
  }

  /** true when a frame was consumed; false when more bytes are needed (or the stream broke) */
  private octetCounted(): boolean {
    const sp = this.buf.indexOf(SP);
    const limit = Math.min(this.buf.length, MAX_LEN_DIGITS + 1);
    if (sp < 0 || sp > MAX_LEN_DIGITS) {
      if (sp < 0 && this.buf.length <= MAX_LEN_DIGITS && /^\d*$/.test(this.buf.subarray(0, limit).toString('latin1')))
        return false; // the length prefix is still arriving
      this.fail();
      return false;
    }
    const lenText = this.buf.subarray(0, sp).toString('latin1');
    if (!/^[1-9]\d*$/.test(lenText)) {
      this.fail();
      return false;
    }
    const len = Number(lenText);
    if (len > this.maxBytes) {
      this.events.onIssue('too_large');
      this.buf = this.buf.subarray(sp + 1);
      this.skipBytes = len;
      return true;
    }
    if (this.buf.length < sp + 1 + len) return false;
    const msg = this.buf.subarray(sp + 1, sp + 1 + len);
    this.buf = this.buf.subarray(sp + 1 + len);
    this.events.onMessage(trimEnd(msg));
    return true;
  }

  private lfFramed(): boolean {
    const lf = this.buf.indexOf(LF);
    if (lf < 0) {
      if (this.buf.length > this.maxBytes) {
        this.events.onIssue('too_large');
        this.buf = Buffer.alloc(0);
        this.skipToLf = true;
      }
      return false;
    }
    if (lf > this.maxBytes) {
      this.events.onIssue('too_large');
    } else {
      this.events.onMessage(trimEnd(this.buf.subarray(0, lf)));
    }
    this.buf = this.buf.subarray(lf + 1);
    return true;
  }

  private fail(): void {
    this.broken = true;
    this.buf = Buffer.alloc(0);
    this.events.onIssue('bad_frame');
  }
}

function trimEnd(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && (b[end - 1] === LF || b[end - 1] === CR || b[end - 1] === 0)) end--;
  return end === b.length ? b : b.subarray(0, end);
}
