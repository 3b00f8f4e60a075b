import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import type { IHeaders } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../pipeline/core/record.js';
import { compileMapping, loadMappingFile } from './mapping.js';
import { RequestPairing } from './request-pairing.js';
import { headerText } from './tapped-message.js';

/**
 * Whatever the applications put on the tapped topics (any header names and values, null values, repeated headers,
 * replies before, without or after their request, redeliveries), the message-bus sensor never throws, every record
 * it emits is schema-valid, and every request is accounted for: recorded (one-way, reply, timeout, evicted), counted
 * as a duplicate, or still waiting for its reply; neither waiting requests nor early replies pass max_pending.
 */

const check = TypeCompiler.Compile(ApiCallRecordSchema);
const mapping = compileMapping(loadMappingFile(join(import.meta.dirname, 'testdata', 'mapping.yaml')));
const REQUEST_TOPICS = ['orders.requests', 'payments.requests', 'audit.events'];
const REPLY_TOPICS = ['orders.replies', 'payments.replies'];
const T0 = Date.UTC(2026, 0, 1);

const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ maxLength: 20, unit: 'binary' }),
  fc.constantFrom('c-1', 'c-2', 'c-3', '200', '404', '99', '1e3', '-5', '', '__proto__', 'x'.repeat(400)),
  fc.constant('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'),
);
/** a header value as kafkajs hands it over: text, bytes (any, not only UTF-8), null, or a repeated header's list */
const value = fc.oneof(
  text,
  fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
  fc.constant(null),
  fc.array(fc.oneof(text, fc.constant(null)), { maxLength: 3 }),
);
const headerName = fc.oneof(
  fc.constantFrom('correlation-id', 'x-operation', 'x-caller', 'x-user', 'x-status', 'traceparent'),
  fc.string({ maxLength: 10 }),
  fc.constantFrom('__proto__', 'constructor', 'toString'),
);
/** a correlation id from a few, so replies, requests and redeliveries meet */
const correlation = fc.tuple(
  fc.constant('correlation-id'),
  fc.oneof(fc.constantFrom('c-1', 'c-2', 'c-3', 'c-4', 'c-5'), value),
);
const headers = fc
  .tuple(fc.option(correlation, { freq: 3 }), fc.array(fc.tuple(headerName, value), { maxLength: 5 }))
  .map(([c, rest]) => (c ? [c, ...rest] : rest))
  // as kafkajs's decoder builds them: own properties, whatever the name
  .map((pairs) => {
    const h: Record<string, unknown> = {};
    for (const [k, v] of pairs) Object.defineProperty(h, k, { value: v, enumerable: true, configurable: true });
    return h as IHeaders;
  });

const step = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('message' as const),
      topic: fc.constantFrom(...REQUEST_TOPICS, ...REPLY_TOPICS, 'unmapped.topic'),
      offsetMs: fc.integer({ min: -1_000, max: 86_400_000 * 2 }),
      headers,
      size: fc.nat({ max: 10_000_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const), advanceMs: fc.nat({ max: 1_000 }) }) },
);

describe('message-bus sensor pairing (property)', () => {
  it('never throws, emits only schema-valid records, and accounts for every request', () => {
    fc.assert(
      // small bounds, so that they fill: the cases where what is evicted matters
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (steps, maxPending) => {
        let now = T0;
        const out: ApiCallRecord[] = [];
        const pairing = new RequestPairing(
          mapping,
          { sensorId: 'bus-prop', maxPending },
          (r) => out.push(r),
          () => now,
        );
        let requests = 0;
        for (const s of steps) {
          if (s.kind === 'sweep') {
            now += s.advanceMs;
            pairing.sweep();
            continue;
          }
          if (REQUEST_TOPICS.includes(s.topic)) requests++;
          pairing.onMessage({
            topic: s.topic,
            timestamp: T0 + s.offsetMs,
            headers: headerText(s.headers),
            size: s.size,
          });
        }
        for (const r of out) expect(check.Check(r), JSON.stringify([...check.Errors(r)].slice(0, 2))).toBe(true);
        const st = pairing.stats();
        expect(st.oneWay + st.replied + st.timeouts + st.evicted).toBe(out.length);
        // every request is recorded, pending, or a duplicate (a count shared with redelivered early replies)
        const recordedOrPending = st.oneWay + st.replied + st.timeouts + st.evicted + st.pending;
        expect(recordedOrPending).toBeLessThanOrEqual(requests);
        expect(recordedOrPending + st.duplicates).toBeGreaterThanOrEqual(requests);
        expect(st.pending).toBeLessThanOrEqual(maxPending);
        expect(st.earlyReplies).toBeLessThanOrEqual(maxPending);
      }),
      { seed: 20_260_101, numRuns: 500 },
    );
  });
});
