import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { dottedKey, itemName, schemaProblems } from './schema-problems.js';

describe('schema problems', () => {
  it('name each bad key as a config file does, dotted under where the value sits', () => {
    expect(dottedKey('detectors.enumeration', '/min_distinct')).toBe('detectors.enumeration.min_distinct');
    expect(dottedKey('actions.idp/okta', '/auth/0')).toBe('actions.idp/okta.auth.0');
    expect(dottedKey('', '/a~1b/c~0d')).toBe('a/b.c~d');
    expect(dottedKey('', '/')).toBe('""');
    expect(dottedKey('', '')).toBe('(root)');
  });

  it('list at most max problems, each with its message', () => {
    const schema = Type.Object(
      { a: Type.Integer(), b: Type.String(), c: Type.Boolean() },
      { additionalProperties: false },
    );
    expect(schemaProblems(schema, { a: 'x', b: 1, c: 2 }, 'sec')).toEqual([
      'sec.a: Expected integer',
      'sec.b: Expected string',
      'sec.c: Expected boolean',
    ]);
    expect(schemaProblems(schema, { a: 'x', b: 1, c: 2 }, '', 1)).toEqual(['a: Expected integer']);
    expect(schemaProblems(schema, { a: 1, b: '', c: true })).toEqual([]);
    expect(schemaProblems(schema, 7)).toEqual(['(root): Expected an object, got a number']);
  });

  it("say which named list item a key is in (a rule's name), the innermost", () => {
    const rule = Type.Object({ name: Type.String(), threshold: Type.Integer({ minimum: 1 }) });
    const schema = Type.Object({
      rules: Type.Array(rule),
      groups: Type.Array(Type.Object({ rules: Type.Array(rule) })),
    });
    const doc = {
      rules: [
        { name: 'ok', threshold: 1 },
        { name: 'admin-deletes', threshold: 0 },
      ],
      groups: [{ name: 'outer', rules: [{ name: 'inner', threshold: 0 }, { threshold: 0 }] }],
    };
    expect(schemaProblems(schema, doc, 'sec')).toEqual([
      'sec.rules.1.threshold (admin-deletes): Expected integer to be greater or equal to 1',
      'sec.groups.0.rules.0.threshold (inner): Expected integer to be greater or equal to 1',
      'sec.groups.0.rules.1.name (outer): Expected required property',
      'sec.groups.0.rules.1.name (outer): Expected string',
      'sec.groups.0.rules.1.threshold (outer): Expected integer to be greater or equal to 1',
    ]);
    // a name that is not text to echo, or a map's entry (not a list item), names nothing
    expect(itemName({ rules: [{ name: 'a\nb' }] }, '/rules/0/threshold')).toBeUndefined();
    expect(itemName({ rules: { x: { name: 'y' } } }, '/rules/x/threshold')).toBeUndefined();
    expect(itemName({ rules: [{ name: 'r' }] }, '/rules/0')).toBe('r');
  });

  it('list the allowed values of a union of literals, not "Expected union value"', () => {
    const schema = Type.Object({
      level: Type.Union(['info', 'warn'].map((l) => Type.Literal(l))),
      either: Type.Union([Type.String(), Type.Number()]),
    });
    expect(schemaProblems(schema, { level: 'verbose', either: true })).toEqual([
      'level: Expected one of: info, warn',
      'either: Expected union value',
    ]);
  });
});
