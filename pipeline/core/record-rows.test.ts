import { describe, expect, it } from 'vitest';
import { decodeRows, rowDecoder } from './record-rows.js';

const fields = ['id', 'status', 'source.ip', 'user.sub', 'user.tokenHash', 'params'];
const common = { v: 1, sensor: { kind: 'fastify', id: 'gw-1' }, source: {} };

describe('rows encoding of record batches', () => {
  it('makes one record per row: common fields first, null values left out, dotted fields inside their object', () => {
    const items = decodeRows({
      fields,
      common,
      rows: [
        ['a', 200, '10.0.0.1', 'alice', 'h1:x', { expand: 'items' }],
        ['b', 404, null, null, null, null],
      ],
    });
    expect(items).toEqual([
      {
        v: 1,
        sensor: { kind: 'fastify', id: 'gw-1' },
        source: { ip: '10.0.0.1' },
        id: 'a',
        status: 200,
        user: { sub: 'alice', tokenHash: 'h1:x' },
        params: { expand: 'items' },
      },
      { v: 1, sensor: { kind: 'fastify', id: 'gw-1' }, source: {}, id: 'b', status: 404 },
    ]);
  });

  it('gives every record its own copy of the common object fields', () => {
    const [a, b] = decodeRows({
      fields,
      common,
      rows: [
        ['a', 1, '1.1.1.1', null, null, null],
        ['b', 2, null, null, null, null],
      ],
    }) as {
      source: { ip?: string };
      sensor: { id: string };
    }[];
    a.sensor.id = 'changed';
    expect(b.sensor.id).toBe('gw-1');
    expect(b.source.ip).toBeUndefined();
    expect(common.source).toEqual({});
  });

  it('keeps a row of the wrong shape as it is, so the collector rejects just that one', () => {
    const items = decodeRows({ fields: ['id'], rows: [['a'], ['b', 'extra'], 'junk', null] });
    expect(items).toEqual([{ id: 'a' }, ['b', 'extra'], 'junk', null]);
  });

  it.each([
    ['not an object', [['a']]],
    ['no rows', { fields: ['id'] }],
    ['rows not an array', { fields: ['id'], rows: {} }],
    ['no fields', { rows: [] }],
    ['empty fields', { fields: [], rows: [] }],
    ['a field reaching the prototype', { fields: ['__proto__.polluted'], rows: [[true]] }],
    ['a constructor field', { fields: ['constructor.prototype'], rows: [[1]] }],
    ['a field two levels deep', { fields: ['a.b.c'], rows: [[1]] }],
    ['a field that is not a string', { fields: [1], rows: [[1]] }],
    ['too many fields', { fields: Array.from({ length: 65 }, (_, i) => `f${i}`), rows: [] }],
    ['common not an object', { fields: ['id'], common: [1], rows: [['a']] }],
    ['a common key reaching the prototype', { fields: ['id'], common: JSON.parse('{"__proto__":{"x":1}}'), rows: [] }],
  ])('turns a malformed envelope (%s) into one item, unchanged', (_name, doc) => {
    expect(decodeRows(doc)).toEqual([doc]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses to build a decoder for an invalid field list', () => {
    expect(() => rowDecoder(['ok', 'not-ok'])).toThrow(/invalid row fields/);
    expect(rowDecoder(['a', 'b.c'])(undefined, [1, 2])).toEqual({ a: 1, b: { c: 2 } });
  });
});
