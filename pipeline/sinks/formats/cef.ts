import type { Alert, Severity } from '../../core/alert.js';

const CEF_SEVERITY: Record<Severity, number> = { info: 1, low: 3, medium: 5, high: 8, critical: 10 };

/** CEF header fields escape backslash and pipe; newlines are not allowed there */
const header = (s: string) =>
  s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ');
/** CEF extension values escape backslash, equals and newlines */
const ext = (s: string) => s.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r?\n/g, '\\n').replace(/\r/g, '\\r');

/** ArcSight Common Event Format line for one alert change (without syslog framing) */
export function toCef(a: Alert, version = '0.1.0'): string {
  const fields: [string, string | number | undefined][] = [
    ['rt', a.updatedAt],
    ['start', a.firstSeen],
    ['end', a.lastSeen],
    ['cnt', a.count],
    ['externalId', a.id],
    ['outcome', a.state],
    ['cs1Label', 'service'],
    ['cs1', a.service],
    ['cs2Label', 'endpoint'],
    ['cs2', a.endpoint],
    ['cs3Label', 'subjectType'],
    ['cs3', a.subject?.type],
    ['src', a.subject?.type === 'ip' ? a.subject.value : undefined],
    ['suser', a.subject?.type === 'user' ? a.subject.value : undefined],
    ['cs4Label', 'subject'],
    ['cs4', a.subject?.value],
    ['msg', a.summary],
  ];
  const extension = fields
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${ext(String(v))}`)
    .join(' ');
  return `CEF:0|meshward|meshward|${header(version)}|${header(a.kind)}|${header(a.summary)}|${CEF_SEVERITY[a.severity]}|${extension}`;
}
