import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { metricSum, protoSnapshot } from '../../test/harness/metrics.js';
import { type Bus, type OutMessage, TOPICS } from '../bus/bus.js';
import { MeshwardError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../core/record.js';
import { boundRecord } from '../core/record-bounds.js';
import { createRecordIngest, type DeadLetter } from './record-ingest.js';

/**
 * Hostile input to the one ingest path every receiver uses: whatever an item is (parsed JSON, raw bytes, objects a
 * receiver built), ingest must classify it, never throw, never pollute Object.prototype, and every rejection must be
 * a catalogue code, a counter increment and a dead letter.
 */

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const SKEW = 10 * 60_000;

/** a bus that keeps what is published, per topic */
class CapturingBus implements Bus {
  readonly kind = 'memory' as const;
  readonly got = new Map<string, OutMessage[]>();
  async publish(topic: string, messages: OutMessage[]): Promise<void> {
    const list = this.got.get(topic) ?? [];
    list.push(...messages);
    this.got.set(topic, list);
  }
  async subscribe(): Promise<never> {
    throw new Error('not used');
  }
  healthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
  take(topic: string): OutMessage[] {
    const list = this.got.get(topic) ?? [];
    this.got.delete(topic);
    return list;
  }
}

// ---- arbitraries ---------------------------------------------------------------------------------------------

const text = (maxLength: number, minLength = 0) =>
  fc.oneof(fc.string({ minLength, maxLength }), fc.string({ minLength, maxLength, unit: 'binary' }));

const paramValue = fc.oneof(
  text(40),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

const validRecord: fc.Arbitrary<ApiCallRecord> = fc.record(
  {
    id: text(64, 1),
    ts: fc.integer({ min: 0, max: NOW + SKEW }),
    durationMs: fc.double({ min: 0, max: 86_400_000, noNaN: true }),
    sensor: fc.record({ kind: text(64, 1), id: text(64, 1) }),
    service: text(40, 1),
    method: fc.constantFrom('GET', 'POST', 'DELETE', 'PATCH'),
    host: text(40),
    path: text(80, 1),
    status: fc.integer({ min: 0, max: 999 }),
    reqBytes: fc.nat(),
    respBytes: fc.nat(),
    source: fc.record({ ip: text(40), mtls: fc.boolean() }, { requiredKeys: [] }),
    params: fc.dictionary(text(20), paramValue, { maxKeys: 5 }),
    tags: fc.dictionary(text(20), text(40), { maxKeys: 3 }),
  },
  {
    requiredKeys: [
      'id',
      'ts',
      'durationMs',
      'sensor',
      'service',
      'method',
      'host',
      'path',
      'status',
      'reqBytes',
      'respBytes',
      'source',
    ],
  },
);

/** nested `depth` levels deep: arrays or objects (printed short in counterexamples) */
const deep = (depth: number, kind: 'array' | 'object'): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  Object.defineProperty(v, fc.toStringMethod, { value: () => `deep(${depth}, ${kind})`, enumerable: false });
  return v;
};

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -1,
    -0.5,
    -1e9,
    1e300,
    2 ** 53 + 2,
    0.5,
    '',
    null,
    undefined,
    true,
    [],
  ),
  fc.string({ minLength: 5000, maxLength: 9000 }),
  fc.constantFrom(deep(50, 'array'), deep(50, 'object'), deep(50_000, 'array'), deep(50_000, 'object')),
  fc.anything({ withNullPrototype: true, withBigInt: true, withSparseArray: true, maxDepth: 3 }),
);

/**
 * Values no receiver builds (boxed primitives, Dates, Maps, typed arrays): as whole items they must be rejected
 * cleanly. Inside a record they are out of scope: the schema sees `new Number(1)` as an empty object, JSON writes 1.
 */
const exoticItem = fc.anything({
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withBoxedValues: true,
  maxDepth: 3,
});

const FIELDS = [
  'id',
  'ts',
  'durationMs',
  'sensor',
  'sensor.kind',
  'service',
  'method',
  'host',
  'path',
  'status',
  'reqBytes',
  'respBytes',
  'source',
  'source.ip',
  'params',
  'params.p',
  'tags',
  'tags.t',
  'user',
  'user.sub',
  'v',
] as const;

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const [head, tail] = path.split('.');
  if (tail === undefined) {
    target[head] = value;
    return;
  }
  const inner = target[head];
  const obj = inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : {};
  obj[tail] = value;
  target[head] = obj;
}

/** a record with one field replaced by a hostile value */
const mutatedRecord = fc.tuple(validRecord, fc.constantFrom(...FIELDS), hostileValue).map(([r, field, value]) => {
  const copy = structuredClone(r) as Record<string, unknown>;
  setPath(copy, field, value);
  return copy;
});

/** own `__proto__` / `constructor` / `prototype` keys, as JSON.parse creates them, anywhere in a record */
const protoKeyRecord = fc
  .tuple(
    validRecord,
    fc.constantFrom('', 'params', 'tags', 'source', 'sensor', 'user'),
    fc.constantFrom('__proto__', 'constructor', 'prototype'),
    fc.constantFrom('{"polluted":true}', '"x"', '{"toString":1}', '[1]', '{"__proto__":{"polluted":true}}'),
  )
  .map(([r, where, key, json]) => {
    const text = JSON.stringify(r);
    if (where === '') return `{"${key}":${json},${text.slice(1)}`;
    const obj = JSON.parse(text) as Record<string, unknown>;
    obj[where] ??= {};
    const inner = JSON.stringify(obj[where]);
    obj[where] = '@@';
    const prefix = inner === '{}' ? `{"${key}":${json}}` : `{"${key}":${json},${inner.slice(1)}`;
    return JSON.stringify(obj).replace('"@@"', prefix);
  });

const farFutureRecord = fc
  .tuple(validRecord, fc.integer({ min: NOW + SKEW + 1, max: 8_640_000_000_000_000 }))
  .map(([r, ts]) => ({ ...r, ts }));

/** JSON text with bytes that are not UTF-8 spliced in */
const invalidUtf8 = fc
  .tuple(validRecord, fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat())
  .map(([r, junk, at]) => {
    const bytes = Buffer.from(JSON.stringify(r));
    const bad = Buffer.from(junk.map((b) => 0x80 | (b & 0x7f)));
    const i = at % bytes.length;
    return Buffer.concat([bytes.subarray(0, i), bad, bytes.subarray(i)]);
  });

/** the JSON text a sensor would send for a value (too deep for JSON.stringify: a deep text instead) */
function jsonText(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)) ?? 'undefined';
  } catch {
    return `{"id":${'['.repeat(60_000)}${']'.repeat(60_000)}}`;
  }
}

const item: fc.Arbitrary<unknown> = fc.oneof(
  validRecord,
  mutatedRecord,
  farFutureRecord,
  protoKeyRecord,
  protoKeyRecord.map((s) => Buffer.from(s)),
  mutatedRecord.map(jsonText),
  validRecord.map((r) => Buffer.from(JSON.stringify(r))),
  invalidUtf8,
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.constantFrom('[[[[[[[[', `${'['.repeat(60_000)}${']'.repeat(60_000)}`, 'NaN', 'Infinity', '-1', '{}', 'null'),
  hostileValue,
  exoticItem,
);

/** what ingest must decide for one item: the reference is the interpreted schema check, not the compiled one */
function expectedOutcome(it: unknown): 'accept' | 'MW_ERR_RECORD_PARSE' | 'MW_ERR_RECORD_INVALID' {
  let value = it;
  if (typeof it === 'string' || Buffer.isBuffer(it)) {
    try {
      value = JSON.parse(Buffer.from(it).toString('utf8'));
    } catch {
      return 'MW_ERR_RECORD_PARSE';
    }
  }
  // long params/tags keys are cut before the check, never a reason to refuse
  if (!Value.Check(ApiCallRecordSchema, boundRecord(value))) return 'MW_ERR_RECORD_INVALID';
  if ((value as ApiCallRecord).ts > NOW + SKEW) return 'MW_ERR_RECORD_INVALID';
  return 'accept';
}

describe('record ingest under hostile input (property)', () => {
  it('classifies every item: accepted ones are valid and published, each rejection has a code, a counter and a dead letter', async () => {
    const bus = new CapturingBus();
    const ingest = createRecordIngest({ bus, logger: silentLogger, clock: () => NOW, maxFutureSkewMs: SKEW });
    const proto = protoSnapshot();
    const seen = { accept: 0, MW_ERR_RECORD_PARSE: 0, MW_ERR_RECORD_INVALID: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(item, { maxLength: 12 }), async (items) => {
        const expected = items.map(expectedOutcome);
        for (const e of expected) seen[e]++;
        const rawOf = items.map((x) => (typeof x === 'string' || Buffer.isBuffer(x) ? Buffer.from(x) : undefined));
        const before = {
          parse: await metricSum('meshward_collector_rejected_total', {
            receiver: 'prop',
            code: 'MW_ERR_RECORD_PARSE',
          }),
          invalid: await metricSum('meshward_collector_rejected_total', {
            receiver: 'prop',
            code: 'MW_ERR_RECORD_INVALID',
          }),
          dlq: await metricSum('meshward_collector_dlq_total', { receiver: 'prop' }),
          accepted: await metricSum('meshward_collector_accepted_total', { receiver: 'prop' }),
        };

        const result = await ingest.ingest(items, { receiver: 'prop', key: 'prop', sensorId: 'fuzzer' });

        const rejectedAt = new Map(result.rejected.map((r) => [r.index, r]));
        expect(result.accepted + result.rejected.length).toBe(items.length);
        expect(result.ids).toHaveLength(result.accepted);
        for (let i = 0; i < items.length; i++) {
          const r = rejectedAt.get(i);
          if (expected[i] === 'accept') expect(r, `item ${i} should be accepted`).toBeUndefined();
          else {
            expect(r?.code, `item ${i}`).toBe(expected[i]);
            expect(r?.reason.length).toBeGreaterThan(0);
          }
        }

        const calls = bus.take(TOPICS.calls);
        const letters = bus.take(TOPICS.callsDlq).map((m) => JSON.parse(String(m.value)) as DeadLetter);
        expect(calls).toHaveLength(result.accepted);
        for (const m of calls) {
          const rec = JSON.parse(String(m.value)) as ApiCallRecord;
          expect(Value.Check(ApiCallRecordSchema, rec)).toBe(true);
          expect(rec.v).toBe(1);
          expect(m.key).toBe(rec.service);
        }
        expect(letters.map((l) => l.code)).toEqual(result.rejected.map((r) => r.code));
        result.rejected.forEach((r, j) => {
          expect(letters[j]).toMatchObject({
            receiver: 'prop',
            receiverKey: 'prop',
            sensorId: 'fuzzer',
            reason: r.reason,
          });
          const raw = rawOf[r.index];
          // the original bytes reach the dead-letter topic intact (up to its 256 KiB cap) unless a span was redacted
          if (raw && letters[j].scrubbed === undefined)
            expect(Buffer.from(letters[j].rawBase64, 'base64').equals(raw.subarray(0, 256 * 1024))).toBe(true);
        });

        const count = (code: string) => result.rejected.filter((r) => r.code === code).length;
        expect(
          await metricSum('meshward_collector_rejected_total', { receiver: 'prop', code: 'MW_ERR_RECORD_PARSE' }),
        ).toBe(before.parse + count('MW_ERR_RECORD_PARSE'));
        expect(
          await metricSum('meshward_collector_rejected_total', { receiver: 'prop', code: 'MW_ERR_RECORD_INVALID' }),
        ).toBe(before.invalid + count('MW_ERR_RECORD_INVALID'));
        expect(await metricSum('meshward_collector_dlq_total', { receiver: 'prop' })).toBe(
          before.dlq + result.rejected.length,
        );
        expect(await metricSum('meshward_collector_accepted_total', { receiver: 'prop' })).toBe(
          before.accepted + result.accepted,
        );

        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    // the generators reach every outcome
    expect(seen.accept).toBeGreaterThan(50);
    expect(seen.MW_ERR_RECORD_PARSE).toBeGreaterThan(50);
    expect(seen.MW_ERR_RECORD_INVALID).toBeGreaterThan(50);
  });

  it('never lets a secret-looking value reach the bus, whatever its name or place', async () => {
    const bus = new CapturingBus();
    const ingest = createRecordIngest({ bus, logger: silentLogger, clock: () => NOW });
    const marker = fc.stringMatching(/^[A-Za-z0-9_-]{8,20}$/).map((s) => `S3CR3T${s}`);
    const secret = fc.oneof(
      // a JWT under any name
      fc.tuple(text(20, 1), marker).map(([name, m]) => ({ name, value: `eyJhbGciOiJIUzI1NiJ9.${m}.c2ln` })),
      // a bearer or basic credential under any name
      fc
        .tuple(text(20, 1), fc.constantFrom('Bearer', 'bearer', 'Basic'), marker)
        .map(([name, scheme, m]) => ({ name, value: `${scheme} ${m}` })),
      // anything under a secret-looking name
      fc
        .tuple(
          fc.constantFrom(
            'password',
            'api_key',
            'X-Api-Key',
            'access_token',
            'client_secret',
            'Authorization',
            'sessionKey',
          ),
          marker,
        )
        .map(([name, value]) => ({ name, value })),
    );
    await fc.assert(
      fc.asyncProperty(
        validRecord,
        fc.array(fc.tuple(fc.constantFrom('params', 'tags', 'query'), secret), { minLength: 1, maxLength: 6 }),
        async (base, secrets) => {
          const r = structuredClone(base) as ApiCallRecord;
          r.path = '/v1/things';
          const query: string[] = [];
          for (const [where, s] of secrets) {
            if (where === 'query') query.push(`${encodeURIComponent(s.name)}=${encodeURIComponent(s.value)}`);
            else if (where === 'params') r.params = { ...(r.params ?? {}), [s.name]: s.value };
            else r.tags = { ...(r.tags ?? {}), [s.name]: s.value };
          }
          if (query.length) r.path += `?${query.join('&')}`;
          // the same record three ways: valid, invalid as a value, and cut short as bytes (both dead letters)
          const invalid = { ...structuredClone(r), ts: 'yesterday' };
          const cut = Buffer.from(JSON.stringify(r).slice(0, -1));
          const result = await ingest.ingest([r, invalid, cut], {
            receiver: 'prop-secrets',
            key: 'prop-secrets',
            sensorId: 'fuzzer',
          });
          expect(result.accepted).toBe(1);
          expect(result.rejected.map((x) => x.code)).toEqual(['MW_ERR_RECORD_INVALID', 'MW_ERR_RECORD_PARSE']);
          const published = bus.take(TOPICS.calls).map((m) => String(m.value));
          expect(published).toHaveLength(1);
          expect(published[0]).not.toContain('S3CR3T');
          const letters = bus.take(TOPICS.callsDlq).map((m) => JSON.parse(String(m.value)) as DeadLetter);
          expect(letters).toHaveLength(2);
          for (const l of letters) {
            expect(l.raw).not.toContain('S3CR3T');
            expect(Buffer.from(l.rawBase64, 'base64').toString('latin1')).not.toContain('S3CR3T');
            expect(l.scrubbed).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('publishes no record when the dead-letter topic is down, so the retried batch repeats none', async () => {
    const bus = new CapturingBus();
    const publish = bus.publish.bind(bus);
    let dlqDown = true;
    bus.publish = async (topic, messages) => {
      if (topic === TOPICS.callsDlq && dlqDown) throw new Error('dlq partition offline');
      await publish(topic, messages);
    };
    const ingest = createRecordIngest({ bus, logger: silentLogger, clock: () => NOW });
    await fc.assert(
      fc.asyncProperty(
        fc.array(validRecord, { minLength: 1, maxLength: 5 }),
        fc.array(fc.jsonValue({ maxDepth: 1 }), { minLength: 1, maxLength: 3 }),
        async (good, junk) => {
          dlqDown = true;
          const batch = [...good, ...junk.map((j) => ({ junk: j }))];
          const err = await ingest
            .ingest(batch, { receiver: 'prop', key: 'prop', sensorId: 'fuzzer' })
            .catch((e: unknown) => e);
          expect((err as MeshwardError).code).toBe('MW_ERR_BUS_UNAVAILABLE');
          expect(bus.take(TOPICS.calls)).toHaveLength(0);
          dlqDown = false;
          const retried = await ingest.ingest(batch, { receiver: 'prop', key: 'prop', sensorId: 'fuzzer' });
          expect(retried.accepted).toBe(good.length);
          expect(bus.take(TOPICS.calls)).toHaveLength(good.length);
          expect(bus.take(TOPICS.callsDlq)).toHaveLength(junk.length);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('answers BUS_UNAVAILABLE (retryable, nothing accepted) when the bus throws something that is not a MeshwardError', async () => {
    const bus = new CapturingBus();
    bus.publish = async () => {
      throw new Error('socket hang up');
    };
    const ingest = createRecordIngest({ bus, logger: silentLogger, clock: () => NOW });
    await fc.assert(
      fc.asyncProperty(fc.array(validRecord, { minLength: 1, maxLength: 5 }), async (records) => {
        const err = await ingest
          .ingest(records, { receiver: 'prop', key: 'prop', sensorId: 'fuzzer' })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MeshwardError);
        expect((err as MeshwardError).code).toBe('MW_ERR_BUS_UNAVAILABLE');
        expect((err as MeshwardError).retryable).toBe(true);
      }),
      { numRuns: 20 },
    );
  });
});
