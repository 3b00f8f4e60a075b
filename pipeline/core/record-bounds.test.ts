import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import {
  ApiCallRecordSchema,
  HOST_MAX,
  PARAM_KEY_MAX,
  PARAM_VALUE_MAX,
  PARAMS_MAX,
  PATH_MAX,
  TAG_KEY_MAX,
  TAG_VALUE_MAX,
  TAGS_MAX,
} from './record.js';
import { type BoundedField, boundRecord, type CutKind } from './record-bounds.js';

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
  const cuts: [BoundedField, CutKind, number][] = [];
  const out = boundRecord(value, (field, kind, n) => void cuts.push([field, kind, n]));
  type Out = { params?: Record<string, unknown>; tags?: Record<string, unknown>; path?: string; host?: string };
  return { out: out as Out, cuts };
}

describe('ApiCallRecord bounds on what a caller writes', () => {
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

  it('hands back the very value, no copy and no call, when everything is within its bound', () => {
    const params: Record<string, unknown> = { ['p'.repeat(PARAM_KEY_MAX)]: 1, q: 'x'.repeat(PARAM_VALUE_MAX) };
    for (let i = 2; i < PARAMS_MAX; i++) params[`p${i}`] = i;
    const tags: Record<string, string> = { ['t'.repeat(TAG_KEY_MAX)]: 'x'.repeat(TAG_VALUE_MAX) };
    for (let i = 1; i < TAGS_MAX; i++) tags[`t${i}`] = 'v';
    const value = record({ params, tags, path: `/${'a'.repeat(PATH_MAX - 1)}`, host: 'h'.repeat(HOST_MAX) });
    expect(check.Check(value)).toBe(true);
    const { out, cuts } = cutsOf(value);
    expect(out).toBe(value);
    expect(out.params).toBe(params);
    expect(out.tags).toBe(tags);
    expect(cuts).toEqual([]);
    const wrongTypes = [record({ params: ['x'.repeat(300)] }), record({ tags: null }), record({ path: 1, host: [] })];
    for (const v of [null, 1, 'x', [], ...wrongTypes]) expect(boundRecord(v)).toBe(v);
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
      ['params', 'key', 1],
      ['tags', 'key', 1],
    ]);
    expect(check.Check(out)).toBe(true);
    expect(JSON.stringify(value)).toBe(before);
  });

  it('keeps the first of two keys that are one once cut, and counts the others as dropped repeats', () => {
    const value = record({
      params: { ['a'.repeat(300)]: 'first', ['a'.repeat(PARAM_KEY_MAX)]: 'exact', ['a'.repeat(400)]: 'third', b: 2 },
    });
    const { out, cuts } = cutsOf(value);
    expect(out.params).toEqual({ ['a'.repeat(PARAM_KEY_MAX)]: 'first', b: 2 });
    expect(cuts).toEqual([
      ['params', 'key', 2],
      ['params', 'repeat', 2],
    ]);
  });

  it('never cuts through a surrogate pair, and keeps a `__proto__` key as a key', () => {
    const key = `${'p'.repeat(PARAM_KEY_MAX - 1)}😀tail`;
    const value = JSON.parse(`{"params":{"__proto__":1,${JSON.stringify(key)}:2}}`);
    const { out } = cutsOf(value);
    expect(Object.keys(out.params ?? {})).toEqual(['__proto__', 'p'.repeat(PARAM_KEY_MAX - 1)]);
    expect(Object.getPrototypeOf(out.params)).toBe(Object.prototype);
  });

  it('keeps the first PARAMS_MAX params and TAGS_MAX tags in order, and counts the others as dropped excess', () => {
    const params: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) params[`p${i}`] = i;
    const tags: Record<string, string> = {};
    for (let i = 0; i < 70; i++) tags[`t${i}`] = 'v';
    const value = record({ params, tags });
    expect(check.Check(value)).toBe(false);
    const { out, cuts } = cutsOf(value);
    expect(Object.keys(out.params ?? {})).toEqual(Object.keys(params).slice(0, PARAMS_MAX));
    expect(Object.keys(out.tags ?? {})).toEqual(Object.keys(tags).slice(0, TAGS_MAX));
    expect(cuts).toEqual([
      ['params', 'excess', 300 - PARAMS_MAX],
      ['tags', 'excess', 70 - TAGS_MAX],
    ]);
    expect(check.Check(out)).toBe(true);
    expect(Object.keys(params)).toHaveLength(300);
  });

  it('cuts a long path, host, param value and tag value to the bound, leaving other fields as they came', () => {
    const value = record({
      path: `/${'a'.repeat(9_999)}`,
      host: 'h'.repeat(600),
      params: { q: 'x'.repeat(5_000), n: 1, ok: 'short' },
      tags: { ua: 'u'.repeat(2_000) },
    });
    const before = JSON.stringify(value);
    const { out, cuts } = cutsOf(value);
    expect(out.path).toBe(`/${'a'.repeat(PATH_MAX - 1)}`);
    expect(out.host).toBe('h'.repeat(HOST_MAX));
    expect(out.params).toEqual({ q: 'x'.repeat(PARAM_VALUE_MAX), n: 1, ok: 'short' });
    expect(out.tags).toEqual({ ua: 'u'.repeat(TAG_VALUE_MAX) });
    expect(cuts).toEqual([
      ['params', 'value', 1],
      ['tags', 'value', 1],
      ['path', 'value', 1],
      ['host', 'value', 1],
    ]);
    expect(check.Check(out)).toBe(true);
    expect(JSON.stringify(value)).toBe(before);
  });

  it('cuts a long path at its last segment or parameter within the bound, so no piece of a token stays', () => {
    const segment = `/v1/users/${'a'.repeat(100)}/files`;
    const inPath = cutsOf(record({ path: `${segment}/${'t'.repeat(9_000)}` }));
    expect(inPath.out.path).toBe(segment);
    const query = `/search?q=${'x'.repeat(3_000)}&page=2`;
    const inQuery = cutsOf(record({ path: `${query}&api_key=${'k'.repeat(9_000)}` }));
    expect(inQuery.out.path).toBe(query);
    expect(inQuery.cuts).toEqual([['path', 'value', 1]]);
  });

  it('never cuts a value through a surrogate pair', () => {
    const value = record({
      path: `/${'a'.repeat(PATH_MAX - 2)}😀tail`,
      params: { q: `${'x'.repeat(PARAM_VALUE_MAX - 1)}😀` },
    });
    const { out } = cutsOf(value);
    expect(out.path).toBe(`/${'a'.repeat(PATH_MAX - 2)}`);
    expect(out.params?.q).toBe('x'.repeat(PARAM_VALUE_MAX - 1));
    expect(check.Check(out)).toBe(true);
  });

  it('leaves what a sensor writes as it came: a long service or id still fails the check', () => {
    const value = record({ service: 's'.repeat(300), id: 'i'.repeat(100) });
    expect(boundRecord(value)).toBe(value);
    expect(check.Check(value)).toBe(false);
  });
});
