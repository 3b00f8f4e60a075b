import { describe, expect, it } from 'vitest';
import { decodeRows } from '../../pipeline/core/record-rows.js';
import { encodeBatch, rowsEncoder } from './encode-batch.js';

const record = (i: number) => ({
  v: 1,
  id: `r${i}`,
  path: `/ünï/${i}?q="x"\\`,
  durationMs: i / 7,
  user: { sub: '用户' },
});

describe('encodeBatch', () => {
  it.each([0, 1, 99, 100, 101, 250, 500])('is byte for byte JSON.stringify of a %i-record batch', (n) => {
    const batch = Array.from({ length: n }, (_, i) => record(i));
    const bytes = encodeBatch(batch);
    expect(bytes.equals(Buffer.from(JSON.stringify(batch), 'utf8'))).toBe(true);
    expect(JSON.parse(bytes.toString('utf8'))).toHaveLength(n);
  });

  it('joins slices of any size', () => {
    const batch = Array.from({ length: 23 }, (_, i) => record(i));
    for (const slice of [1, 2, 5, 22, 23]) {
      expect(encodeBatch(batch, slice).toString('utf8')).toBe(JSON.stringify(batch));
    }
  });
});

describe('rowsEncoder', () => {
  it('writes a rows document the collector decodes into the records', () => {
    const encode = rowsEncoder(['id', 'user.sub'], { v: 1, sensor: { kind: 'k', id: 'i' } });
    const rows = Array.from({ length: 230 }, (_, i) => [`r${i}`, i % 2 ? null : 'ünï"\\'] as unknown[]);
    const doc = JSON.parse(encode(rows).toString('utf8'));
    const records = decodeRows(doc) as { id: string; user?: { sub: string } }[];
    expect(records).toHaveLength(230);
    expect(records[0]).toEqual({ v: 1, sensor: { kind: 'k', id: 'i' }, id: 'r0', user: { sub: 'ünï"\\' } });
    expect(records[229]).toEqual({ v: 1, sensor: { kind: 'k', id: 'i' }, id: 'r229' });
  });
});
