import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../core/record.js';
import { boundRecord } from '../core/record-bounds.js';
import '../detectors/all.js';
import { compileDetectors } from '../detectors/registry.js';
import { runReplayFile } from './replay-file.js';
import { replay } from './replay.js';
import { shardOptionsOf } from './shard-options.js';
import { steadyTraffic } from './testdata/records.js';

/**
 * `meshward replay` reads whatever a file holds: every non-blank line is either a record (passed on, in order) or a
 * counted rejection; the first rejection names its line; nothing throws. The alerts equal a replay of exactly the
 * valid records.
 */

const START = Date.UTC(2026, 0, 5, 8, 0, 0);
// real traffic with an error burst, so lines carry alert-producing records
const TRAFFIC = steadyTraffic({
  start: START,
  minutes: 40,
  perMinute: 6,
  services: ['orders', 'users'],
  failing: (service, minute) => service === 'orders' && minute >= 30 && minute < 34,
});

type Line = { bytes: Buffer; kind: 'record' | 'bad' | 'blank' };

const record = (i: number): Line => ({ bytes: Buffer.from(JSON.stringify(TRAFFIC[i])), kind: 'record' });
const bad = (text: string | Buffer): Line => ({ bytes: Buffer.from(text), kind: 'bad' });

/** the same line by the reference decision: UTF-8 text, JSON, then the schema */
function classify(bytes: Buffer): Line['kind'] {
  const text = bytes.toString('utf8');
  if (!text.trim()) return 'blank';
  try {
    return Value.Check(ApiCallRecordSchema, boundRecord(JSON.parse(text))) ? 'record' : 'bad';
  } catch {
    return 'bad';
  }
}

const noBreaks = (s: string) => s.replace(/[\r\n\u2028\u2029]/g, ' ');

const smallJunk: fc.Arbitrary<Line> = fc.oneof(
  fc.string({ maxLength: 80 }).map((s) => bad(noBreaks(s))),
  fc.string({ maxLength: 80, unit: 'binary' }).map((s) => bad(noBreaks(s))),
  fc
    .uint8Array({ minLength: 1, maxLength: 60 })
    .map((b) => bad(Buffer.from(b.map((x) => (x === 10 || x === 13 ? 32 : x))))),
  // a record with a field broken, cut short, or with bytes that are not UTF-8 inside a string
  fc
    .tuple(
      fc.nat(TRAFFIC.length - 1),
      fc.constantFrom('status', 'ts', 'reqBytes', 'id', 'source', 'extra', '__proto__'),
    )
    .map(([i, field]) => {
      const r = { ...TRAFFIC[i] } as Record<string, unknown>;
      r[field] = field === 'id' ? '' : field === '__proto__' ? { polluted: true } : -1;
      return bad(JSON.stringify(r).replace('"__proto__"', '"__proto__"'));
    }),
  fc.tuple(fc.nat(TRAFFIC.length - 1), fc.nat(400)).map(([i, cut]) => {
    const text = JSON.stringify(TRAFFIC[i]);
    return bad(text.slice(0, Math.min(cut, text.length - 1)));
  }),
  fc.nat(TRAFFIC.length - 1).map((i) => {
    const b = Buffer.from(JSON.stringify({ ...TRAFFIC[i], id: `${TRAFFIC[i].id}-dup` }));
    const at = b.indexOf('"path":"') + 8;
    return {
      bytes: Buffer.concat([b.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff]), b.subarray(at)]),
      kind: 'record' as const,
    };
  }),
  fc.constantFrom(' ', '\t', '').map((s) => ({ bytes: Buffer.from(s), kind: 'blank' as const })),
  fc.constantFrom(bad('NaN'), bad('{"__proto__":{"polluted":true}}'), bad('\ufeff{}'), bad('[]'), bad('null')),
);

/** junk lines; rarely a big one: deep nesting, a line of a megabyte */
const junk: fc.Arbitrary<Line> = fc.oneof(
  { weight: 100, arbitrary: smallJunk },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      bad(`{"id":${'['.repeat(50_000)}${']'.repeat(50_000)}}`),
      bad(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`),
      bad(`"${'x'.repeat(1024 * 1024)}"`),
    ),
  },
);

/** the traffic in order (a few records dropped), with junk lines between */
const file: fc.Arbitrary<Line[]> = fc
  .array(fc.tuple(fc.array(junk, { maxLength: 1 }), fc.nat(19)), {
    minLength: TRAFFIC.length,
    maxLength: TRAFFIC.length,
  })
  .map((slots) => slots.flatMap(([before, roll], i) => (roll === 0 ? before : [...before, record(i)])));

const protoSnapshot = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');

describe('replay file parser under hostile files (property)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-replay-prop-'));
  const config = join(dir, 'meshward.yaml');
  writeFileSync(config, 'correlator: { window_seconds: 60, lateness_seconds: 5 }\n');
  const c = resolveConfig({ correlator: { window_seconds: 60, lateness_seconds: 5 } }).correlator;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('cuts a long params or tags key as the collector does: the line is a record, not a rejection', async () => {
    const input = join(dir, 'long-keys.jsonl');
    const out = join(dir, 'long-keys-alerts.jsonl');
    const line = { ...TRAFFIC[0], params: { ['p'.repeat(300)]: 1 }, tags: { ['t'.repeat(200)]: 'x' } };
    writeFileSync(input, `${JSON.stringify(line)}\n`);
    expect(Value.Check(ApiCallRecordSchema, line)).toBe(false);
    expect(await runReplayFile({ input, out, config })).toMatchObject({ records: 1, rejected: 0 });
  });

  it('passes exactly the valid lines on, in order, counts the rest, names the first bad line, never throws', async () => {
    const proto = protoSnapshot();
    let alertsSeen = 0;
    const seen = { record: 0, bad: 0, blank: 0 };
    await fc.assert(
      fc.asyncProperty(file, fc.constantFrom('\n', '\r\n'), async (lines, eol) => {
        const input = join(dir, 'records.jsonl');
        const out = join(dir, 'alerts.jsonl');
        writeFileSync(
          input,
          Buffer.concat(lines.flatMap((l, i) => (i === 0 ? [l.bytes] : [Buffer.from(eol), l.bytes]))),
        );
        const kinds = lines.map((l) => classify(l.bytes));
        for (const k of kinds) seen[k]++;

        const result = await runReplayFile({ input, out, config });

        const valid = lines.filter((_, i) => kinds[i] === 'record');
        expect(result.records).toBe(valid.length);
        expect(result.rejected).toBe(kinds.filter((k) => k === 'bad').length);
        const firstBad = kinds.indexOf('bad');
        if (firstBad === -1) expect(result.firstRejection).toBeUndefined();
        else expect(result.firstRejection).toMatch(new RegExp(`^line ${firstBad + 1}: `));

        const written = readFileSync(out, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { id: string });
        expect(written).toHaveLength(result.alerts);
        const expected = await replay(
          valid.map((l) => JSON.parse(l.bytes.toString('utf8')) as ApiCallRecord),
          {
            detectors: compileDetectors(undefined).create(),
            windowMs: c.window_seconds * 1000,
            latenessMs: c.lateness_seconds * 1000,
            endpointSeries: c.endpoint_series,
            maxSeries: c.max_series_per_partition,
            resolveAfterMs: c.resolve_after_minutes * 60_000,
            // one shard sees the whole file: root causes are folded across services
            rootCause: { across_services: true },
          },
        );
        expect(written).toEqual(JSON.parse(JSON.stringify(expected)));
        alertsSeen += written.length;
        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 30 },
    );
    expect(alertsSeen).toBeGreaterThan(0);
    expect(seen.record).toBeGreaterThan(100);
    expect(seen.bad).toBeGreaterThan(100);
    expect(seen.blank).toBeGreaterThan(5);
  }, 120_000);

  it('a missing input file is an error that names it, not a crash of the process', async () => {
    const missing = join(dir, 'no-such-file.jsonl');
    await expect(runReplayFile({ input: missing, out: join(dir, 'x.jsonl'), config })).rejects.toThrow(
      /no-such-file\.jsonl/,
    );
  });
});

describe('replay shard settings', () => {
  it("take the config's correlator section and decide auto as its correlator would, so alerts equal the deployment's", () => {
    const embedded = shardOptionsOf(resolveConfig({ correlator: { window_seconds: 30 } }));
    expect(embedded).toMatchObject({ windowMs: 30_000, rootCause: { enabled: true, across_services: true } });
    const kafka = shardOptionsOf(resolveConfig({ bus: { kind: 'kafka', kafka: { brokers: ['k:9092'] } } }));
    expect(kafka.rootCause).toMatchObject({ across_services: false });
    const off = shardOptionsOf(resolveConfig({ correlator: { root_cause: { across_services: false } } }));
    expect(off.rootCause).toMatchObject({ across_services: false });
  });
});
