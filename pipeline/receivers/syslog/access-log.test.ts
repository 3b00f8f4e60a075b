import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiCallRecordSchema } from '../../core/record.js';
import { type MapContext, mapAccessLog } from './access-log.js';
import { parseSyslog } from './syslog-header.js';

const check = TypeCompiler.Compile(ApiCallRecordSchema);
const ctx: MapContext = { format: 'auto', sensorId: 't', serviceFrom: 'host', serviceName: 'fallback' };
const lines = (f: string) =>
  readFileSync(join(import.meta.dirname, 'testdata', f), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** header, then body: what the receiver does per message */
function map(line: string, c: MapContext = ctx) {
  const h = parseSyslog(line);
  if (!h.ok) return { ok: false as const, reason: h.reason };
  return mapAccessLog(h.value.msg, { ...c, headerTs: h.value.ts });
}

describe('syslog JSON access logs → records', () => {
  it.each(lines('messages.jsonl'))('maps $name', ({ line, expect: want }) => {
    const r = map(line);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(check.Check(r.record)).toBe(true);
    expect(r.record).toMatchObject(want);
  });

  it.each(lines('malformed.jsonl'))('rejects $name as $reason', ({ line, reason }) => {
    const r = map(line);
    expect(r).toMatchObject({ ok: false, reason });
  });

  it('maps the service from a fixed name or the HAProxy backend', () => {
    const line = lines('messages.jsonl')[1].line as string;
    const fixed = map(line, { ...ctx, serviceFrom: 'fixed', serviceName: 'billing' });
    const backend = map(line, { ...ctx, serviceFrom: 'backend' });
    expect(fixed.ok && fixed.record.service).toBe('billing');
    expect(backend.ok && backend.record.service).toBe('payments');
  });

  it('truncates giant fields to the schema limits and tags the record', () => {
    const msg = JSON.stringify({
      ts: 1,
      tt: 1,
      method: 'GET',
      host: 'h'.repeat(5000),
      uri: `/${'a'.repeat(100_000)}`,
      status: 200,
    });
    const r = mapAccessLog(msg, ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.record.path).toHaveLength(8192);
    expect(r.record.host).toHaveLength(512);
    expect(r.record.tags).toEqual({ truncated: 'true' });
    expect(check.Check(r.record)).toBe(true);
  });

  it('ignores a token_hash that is not a meshward hash (never passes arbitrary header text on)', () => {
    const msg = JSON.stringify({ ts: 1, tt: 1, method: 'GET', uri: '/', status: 200, token_hash: 'Bearer abc' });
    const r = mapAccessLog(msg, ctx);
    expect(r.ok && r.record.user).toBeUndefined();
  });

  it('property: any message either maps to a schema-valid record or fails with a known reason, never throws', () => {
    const reasons = new Set([
      'no_pri',
      'bad_header',
      'not_json',
      'not_object',
      'unknown_format',
      'missing_field',
      'field_type',
    ]);
    const field = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant('-'),
      fc.object(),
    );
    const body = fc.oneof(
      fc.record(
        {
          ts: field,
          ta: field,
          tt: field,
          method: field,
          host: field,
          uri: field,
          status: field,
          bytes_in: field,
          client_ip: field,
          token_hash: field,
          traceparent: field,
        },
        { requiredKeys: [] },
      ),
      fc.record(
        {
          msec: field,
          request_time: field,
          method: field,
          host: field,
          uri: field,
          status: field,
          request_length: field,
          bytes_sent: field,
          remote_addr: field,
          ssl_client_verify: field,
          user: field,
        },
        { requiredKeys: [] },
      ),
    );
    const message = fc.oneof(
      body.map((b) => `<134>Nov 22 08:00:00 haproxy[1]: ${JSON.stringify(b)}`),
      body.map((b) => `<134>1 2024-05-01T10:00:00Z h a - - - ${JSON.stringify(b)}`),
      body.map((b) => `<134>Nov 22 08:00:00 haproxy[1]: ${JSON.stringify(b).slice(0, -3)}`),
      fc.string().map((s) => `<134>Nov 22 08:00:00 x: ${s}`),
      fc.string(),
    );
    fc.assert(
      fc.property(message, (line) => {
        const r = map(line);
        if (r.ok) return check.Check(r.record);
        return reasons.has(r.reason);
      }),
      { numRuns: 1000 },
    );
  });
});
