import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { protoSnapshot } from '../../../test/harness/metrics.js';
import { ApiCallRecordSchema } from '../../core/record.js';
import { type MapContext, mapAccessLog } from './access-log.js';
import { parseSyslog } from './syslog-header.js';

/**
 * The nginx and HAProxy log line parsers with hostile lines: any syslog header, any JSON (numbers past a double,
 * number-like strings, prototype keys, deep nesting, control characters), any text. Whatever the line, parsing never
 * throws, a line that maps gives a schema-valid record, and one that does not gives one of the known reasons the
 * receiver counts.
 */

const check = TypeCompiler.Compile(ApiCallRecordSchema);
const HEADER_REASONS = new Set(['no_pri', 'bad_header']);
const MAP_REASONS = new Set(['not_json', 'not_object', 'unknown_format', 'missing_field', 'field_type']);

const numberLike = fc.constantFrom(
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '-1e400',
  '1e308',
  '-0',
  '0x1F',
  ' 200 ',
  '2e2',
  '9007199254740993',
  '',
  '-',
  '.5',
  '1_000',
);
/** a JSON value as text: numbers JSON can write but a double cannot hold are written out by hand */
const hostile = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  numberLike.map((s) => JSON.stringify(s)),
  fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '-0', '0.0000000000000000000001'),
  fc.string({ maxLength: 30, unit: 'binary' }).map((s) => JSON.stringify(s)),
  fc.nat({ max: 10_000 }).map((n) => JSON.stringify('w'.repeat(n))),
  fc.constantFrom(`${'['.repeat(5_000)}${']'.repeat(5_000)}`, `${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`),
);
const FIELDS = [
  'msec',
  'request_time',
  'ts',
  'ta',
  'tt',
  'method',
  'host',
  'uri',
  'status',
  'request_length',
  'bytes_sent',
  'bytes_in',
  'bytes_out',
  'remote_addr',
  'client_ip',
  'ssl_client_verify',
  'ssl_client_s_dn',
  'ssl_c_verify',
  'ssl_c_s_dn',
  'traceparent',
  'token_hash',
  'user',
  'backend',
  'request_id',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
];
/** a JSON object written as text, so duplicate keys and `__proto__` keys reach the parser as a gateway would send them */
const logObject = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 8 })), hostile), { maxLength: 14 })
  .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
/** a well-formed line's fields, one of them hostile: most lines map, so the record side is exercised too */
const nearlyGood = fc.tuple(fc.constantFrom(...FIELDS), hostile, fc.boolean()).map(([k, v, nginx]) => {
  const base: Record<string, string> = nginx
    ? { msec: '1700000000.5', request_time: '0.01', method: '"GET"', uri: '"/x"', status: '"200"' }
    : { ts: '1700000000000', ta: '3', method: '"GET"', uri: '"/x"', status: '200' };
  base[k] = v;
  return `{${Object.entries(base)
    .map(([key, value]) => `${JSON.stringify(key)}:${value}`)
    .join(',')}}`;
});
const header = fc.constantFrom(
  '<134>Nov 22 08:00:00 haproxy[1]: ',
  '<190>Nov  2 08:00:00 nginx: ',
  '<134>1 2026-01-01T10:00:00Z lb haproxy - - - ',
  '<134>1 - - - - - [a b="c\\]"] ',
  '<134>1 +275760-09-13T00:00:00.001Z h a - - - ',
  '<134>Nov 22 08:00:00 ',
  '<134>',
  '<999>',
  '<13>1 x',
  '',
);
const line = fc.oneof(
  fc.tuple(header, fc.oneof(logObject, nearlyGood)).map(([h, body]) => `${h}${body}`),
  fc.tuple(header, fc.string({ maxLength: 200, unit: 'binary' })).map(([h, s]) => `${h}${s}`),
  fc.string({ maxLength: 200 }),
);

describe('nginx / HAProxy log line parsing (property)', () => {
  it('never throws: a line maps to a schema-valid record or fails with a reason the receiver counts', () => {
    const proto = protoSnapshot();
    const seen = { record: 0, header: 0, map: 0 };
    fc.assert(
      fc.property(
        line,
        fc.constantFrom<MapContext['format']>('auto', 'nginx_json', 'haproxy_json'),
        fc.constantFrom<MapContext['serviceFrom']>('host', 'fixed', 'backend'),
        (text, format, serviceFrom) => {
          const h = parseSyslog(text.trimEnd());
          if (!h.ok) {
            seen.header++;
            expect(HEADER_REASONS.has(h.reason)).toBe(true);
            return;
          }
          const r = mapAccessLog(h.value.msg, {
            format,
            sensorId: 'prop',
            serviceFrom,
            serviceName: 'fallback',
            headerTs: h.value.ts,
          });
          if (r.ok) {
            seen.record++;
            expect(check.Check(r.record), JSON.stringify([...check.Errors(r.record)].slice(0, 2))).toBe(true);
          } else {
            seen.map++;
            expect(MAP_REASONS.has(r.reason), r.reason).toBe(true);
          }
        },
      ),
      { seed: 20_260_101, numRuns: 2000 },
    );
    expect(protoSnapshot()).toBe(proto);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // the generators reach every outcome
    expect(seen.record).toBeGreaterThan(100);
    expect(seen.header).toBeGreaterThan(100);
    expect(seen.map).toBeGreaterThan(100);
  });
});
