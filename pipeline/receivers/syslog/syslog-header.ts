/**
 * Syslog message headers: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) and the BSD format of RFC 3164
 * (`<PRI>Mmm dd hh:mm:ss [HOST] TAG[PID]: MSG`, as nginx and HAProxy send it). Only what the receiver needs is kept.
 */
export interface SyslogMessage {
  facility: number;
  severity: number;
  /** epoch ms from the header when it carries a full date (RFC 5424), else undefined */
  ts?: number;
  hostname?: string;
  app?: string;
  msg: string;
}

export type HeaderResult = { ok: true; value: SyslogMessage } | { ok: false; reason: 'no_pri' | 'bad_header' };

const PRI = /^<(\d{1,3})>/;
// VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
const RFC5424 = /^(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /;
const RFC3164_TS = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) /;
const TAG = /^([^\s:[\]]{1,64})(?:\[[^\]\s]{1,32}\])?: ?/;
const HOST_TAG = /^(\S+) ([^\s:[\]]{1,64})(?:\[[^\]\s]{1,32}\])?: ?/;

const nil = (s: string): string | undefined => (s === '-' ? undefined : s);

/** skip the structured data of an RFC 5424 message ('-' or [..][..]), honouring \] escapes; -1 when malformed */
function skipStructuredData(s: string, i: number): number {
  if (s[i] === '-') return i + 1;
  if (s[i] !== '[') return -1;
  while (s[i] === '[') {
    i++;
    let inQuotes = false;
    for (; ; i++) {
      if (i >= s.length) return -1;
      const c = s[i];
      if (c === '\\' && inQuotes) {
        i++;
        continue;
      }
      if (c === '"') inQuotes = !inQuotes;
      else if (c === ']' && !inQuotes) break;
    }
    i++;
  }
  return i;
}

export function parseSyslog(line: string): HeaderResult {
  const p = PRI.exec(line);
  if (!p) return { ok: false, reason: 'no_pri' };
  const pri = Number(p[1]);
  if (pri > 191) return { ok: false, reason: 'bad_header' };
  const facility = pri >> 3;
  const severity = pri & 7;
  const rest = line.slice(p[0].length);

  const m5 = RFC5424.exec(rest);
  if (m5 && m5[1] !== '0') {
    const sdStart = m5[0].length;
    const sdEnd = skipStructuredData(rest, sdStart);
    if (sdEnd < 0) return { ok: false, reason: 'bad_header' };
    let msg = rest.slice(rest[sdEnd] === ' ' ? sdEnd + 1 : sdEnd);
    if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1); // BOM
    const tsText = nil(m5[2]);
    const ts = tsText ? Date.parse(tsText) : Number.NaN;
    return {
      ok: true,
      value: {
        facility,
        severity,
        ts: Number.isFinite(ts) ? ts : undefined,
        hostname: nil(m5[3]),
        app: nil(m5[4]),
        msg,
      },
    };
  }

  const m3 = RFC3164_TS.exec(rest);
  if (m3) {
    const after = rest.slice(m3[0].length);
    // the message proper may follow directly (no tag), e.g. when it is a JSON object
    if (after.startsWith('{')) return { ok: true, value: { facility, severity, msg: after } };
    const t = TAG.exec(after);
    if (t) return { ok: true, value: { facility, severity, app: t[1], msg: after.slice(t[0].length) } };
    const ht = HOST_TAG.exec(after);
    if (!ht) return { ok: false, reason: 'bad_header' };
    return { ok: true, value: { facility, severity, hostname: ht[1], app: ht[2], msg: after.slice(ht[0].length) } };
  }
  // no timestamp at all: `<PRI>TAG: MSG` or `<PRI>MSG` (tolerated, RFC 3164 4.3.3)
  if (rest.startsWith('{')) return { ok: true, value: { facility, severity, msg: rest } };
  const t = TAG.exec(rest);
  if (t) return { ok: true, value: { facility, severity, app: t[1], msg: rest.slice(t[0].length) } };
  return { ok: false, reason: 'bad_header' };
}
