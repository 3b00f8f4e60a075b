import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sensitiveParam, sensitiveParams } from './sensitive-params.js';

const cases = JSON.parse(
  readFileSync(join(import.meta.dirname, 'testdata', 'sensitive-params.json'), 'utf8'),
) as Record<string, string[]>;

describe('sensitive parameter names', () => {
  it.each(Object.entries(cases).flatMap(([kind, names]) => names.map((name) => [name, kind])))(
    '%s is %s',
    (name, kind) => {
      expect(sensitiveParam(name)).toBe(kind === 'none' ? null : kind);
    },
  );

  it("groups an endpoint's names by kind, in their order, leaving out kinds it has none of", () => {
    expect(sensitiveParams(['q', 'email', 'api_key', 'pageToken', 'phone', 'cvv'])).toEqual({
      personal: ['email', 'phone'],
      credential: ['api_key'],
      payment: ['cvv'],
    });
    expect(sensitiveParams(['limit', 'offset'])).toEqual({});
  });
});
