import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { ApiCallRecordSchema, PARAM_KEY_MAX, TAG_KEY_MAX } from './record.js';
import { type BoundedKeyField, boundRecordKeys } from './record-keys.js';

const check = TypeCompiler.Compile(ApiCallRecordSchema);

const record = (extra: Record<string, unknown> = {}) => ({
  id: 'r1',
  ts: 1,
  durationMs: 1,
  sensor: { kind: 'test', id: 's1' },
  service: 'orders',
  method: 'GET',
  host: 'orders.svc',
  path: '/v1/orders',
  status: 200,
  reqBytes: 0,
  respBytes: 0,
  source: {},
  ...extra,
});

function cutsOf(value: unknown) {
  const cuts: [BoundedKeyField, number, number][] = [];
  const out = boundRecordKeys(value, (field, truncated, dropped) => void cuts.push([field, truncated, dropped]));
  return { out: out as { params?: Record<string, unknown>; tags?: Record<string, unknown> }, cuts };
}

describe('ApiCallRecord params and tags keys', () => {
  it('states the key bounds in the schema, so the compiled check and the published JSON Schema agree', () => {
    const schema = JSON.parse(JSON.stringify(ApiCallRecordSchema));
    expect(schema.properties.params).toMatchObject({
      patternProperties: { [`^[\\s\\S]{0,${PARAM_KEY_MAX}}$`]: {} },
      additionalProperties: false,
      maxProperties: 256,
    });
    expect(schema.properties.tags).toMatchObject({
      patternProperties: { [`^[\\s\\S]{0,${TAG_KEY_MAX}}$`]: {} },
      additionalProperties: false,
    });
    expect(check.Check(record({ params: { ['p'.repeat(PARAM_KEY_MAX)]: 1, '': 2, 'a\nb': 3 } }))).toBe(true);
    expect(check.Check(record({ params: { ['p'.repeat(PARAM_KEY_MAX + 1)]: 1 } }))).toBe(false);
    expect(check.Check(record({ tags: { ['t'.repeat(TAG_KEY_MAX + 1)]: 'x' } }))).toBe(false);
  });

  it('hands back the very value, no copy and no call, when every key is within its bound', () => {
    const params = { ['p'.repeat(PARAM_KEY_MAX)]: 1, q: 'x' };
    const tags = { ['t'.repeat(TAG_KEY_MAX)]: 'x' };
    const value = record({ params, tags });
    const { out, cuts } = cutsOf(value);
    expect(out).toBe(value);
    expect(out.params).toBe(params);
    expect(out.tags).toBe(tags);
    expect(cuts).toEqual([]);
    for (const v of [null, 1, 'x', [], record({ params: ['x'.repeat(300)] }), record({ tags: null })])
      expect(boundRecordKeys(v)).toBe(v);
  });

  it('cuts a long param name and tag key to the bound, in order, leaving the value handed in as it was', () => {
    const long = 'p'.repeat(300);
    const value = record({ params: { a: 1, [long]: 'v', z: null }, tags: { ['t'.repeat(200)]: 'x', env: 'prod' } });
    const before = JSON.stringify(value);
    const { out, cuts } = cutsOf(value);
    expect(Object.entries(out.params ?? {})).toEqual([
      ['a', 1],
      ['p'.repeat(PARAM_KEY_MAX), 'v'],
      ['z', null],
    ]);
    expect(out.tags).toEqual({ ['t'.repeat(TAG_KEY_MAX)]: 'x', env: 'prod' });
    expect(cuts).toEqual([
      ['params', 1, 0],
      ['tags', 1, 0],
    ]);
    expect(check.Check(out)).toBe(true);
    expect(JSON.stringify(value)).toBe(before);
  });

  it('keeps the first of two keys that are one once cut, and counts the other as dropped', () => {
    const value = record({
      params: { ['a'.repeat(300)]: 'first', ['a'.repeat(PARAM_KEY_MAX)]: 'exact', ['a'.repeat(400)]: 'third', b: 2 },
    });
    const { out, cuts } = cutsOf(value);
    expect(out.params).toEqual({ ['a'.repeat(PARAM_KEY_MAX)]: 'first', b: 2 });
    expect(cuts).toEqual([['params', 2, 2]]);
  });

  it('never cuts through a surrogate pair, and keeps a `__proto__` key as a key', () => {
    const key = `${'p'.repeat(PARAM_KEY_MAX - 1)}😀tail`;
    const value = JSON.parse(`{"params":{"__proto__":1,${JSON.stringify(key)}:2}}`);
    const { out } = cutsOf(value);
    expect(Object.keys(out.params ?? {})).toEqual(['__proto__', 'p'.repeat(PARAM_KEY_MAX - 1)]);
    expect(Object.getPrototypeOf(out.params)).toBe(Object.prototype);
  });
});
