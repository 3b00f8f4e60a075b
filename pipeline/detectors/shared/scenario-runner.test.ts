import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ApiCallRecord, ApiCallRecordSchema } from '../../core/record.js';
import { CapturingContext, groupSignals } from './capture.js';
import { checkConfig } from './detector-kit.js';
import { TRACKER_FACTORIES } from './trackers.js';

/**
 * Replays every tracker's scenario cases (testdata/<case>/config.yaml, records.jsonl, expected.json) through the
 * detector with a capturing context, and compares the alert groups (kind, service, endpoint, subject, count).
 * Each case runs twice: straight through, and with a JSON snapshot/restore into a fresh detector half-way.
 */
const here = dirname(fileURLToPath(import.meta.url));
const folderOf = (type: string) => join(here, '..', type.replace(/_/g, '-'));

interface Expected {
  description: string;
  alerts: {
    kind: string;
    service: string;
    endpoint?: string;
    subject?: { type: string; value: string };
    count?: number;
  }[];
}

const key = (a: { kind: string; service: string; endpoint?: string; subject?: { type: string; value: string } }) =>
  `${a.kind} ${a.service} ${a.endpoint ?? '-'} ${a.subject ? `${a.subject.type}:${a.subject.value}` : '-'}`;

for (const factory of TRACKER_FACTORIES) {
  const testdata = join(folderOf(factory.type), 'testdata');
  describe(`${factory.type} scenarios`, () => {
    it('has at least one scenario case', () => {
      expect(existsSync(testdata) && readdirSync(testdata).length > 0).toBe(true);
    });
    for (const name of existsSync(testdata) ? readdirSync(testdata) : []) {
      const dir = join(testdata, name);
      const config = checkConfig(
        factory.type,
        factory.configSchema,
        parse(readFileSync(join(dir, 'config.yaml'), 'utf8')) ?? {},
      );
      const records = readFileSync(join(dir, 'records.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as ApiCallRecord);
      const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
      const want = expected.alerts
        .map((a) => ({ key: key(a), count: a.count }))
        .sort((a, b) => a.key.localeCompare(b.key));
      const compare = (ctx: CapturingContext) => {
        const got = groupSignals(ctx.signals)
          .map((g) => ({ key: key(g), count: g.count }))
          .sort((a, b) => a.key.localeCompare(b.key));
        expect(got.map((g) => g.key)).toEqual(want.map((w) => w.key));
        want.forEach((w, i) => {
          if (w.count !== undefined) expect(got[i].count, w.key).toBe(w.count);
        });
      };

      it(`${name}: records are valid ApiCallRecords`, () => {
        for (const r of records) expect(Value.Check(ApiCallRecordSchema, r), r.id).toBe(true);
      });

      it(`${name}: ${expected.description}`, () => {
        const d = factory.create(config);
        const ctx = new CapturingContext();
        for (const r of records) d.observe?.(r, ctx);
        compare(ctx);
        for (const s of ctx.signals) {
          expect(s.summary.length).toBeGreaterThan(10);
          expect(s.recordIds.length).toBeGreaterThan(0);
          expect(s.expected).toBeTruthy();
          expect(s.observed).toBeTruthy();
        }
      });

      it(`${name}: same alerts across a snapshot/restore half-way`, () => {
        const ctx = new CapturingContext();
        const first = factory.create(config);
        const half = Math.floor(records.length / 2);
        for (const r of records.slice(0, half)) first.observe?.(r, ctx);
        const second = factory.create(config);
        second.restore(JSON.parse(JSON.stringify(first.snapshot())));
        for (const r of records.slice(half)) second.observe?.(r, ctx);
        compare(ctx);
      });
    }
  });
}
