import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { MeshwardError } from '../core/errors.js';
import { type ConfigOverrides, loadConfig, resolveConfig } from './load.js';
import { MeshwardConfig } from './schema.js';

/**
 * Whatever the document (and the env/CLI overrides), the loader either returns a config that passes the schema or
 * fails with MW_ERR_CONFIG_INVALID naming where the problem is: never a TypeError, never a half-valid config.
 */

interface Leaf {
  path: string;
  schema: Record<string, unknown>;
}

/** every leaf of the config schema, found by walking it (so new keys are covered without editing this test) */
function leaves(schema: Record<string, unknown>, at = ''): Leaf[] {
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (schema.type !== 'object' || !props) return at ? [{ path: at, schema }] : [];
  return Object.entries(props).flatMap(([k, s]) => leaves(s, `${at}/${k}`));
}

/** a value of the wrong type for a leaf, or undefined when the leaf takes anything */
function wrongValueFor(schema: Record<string, unknown>): unknown {
  if (Array.isArray(schema.anyOf)) return '__not_one_of_these__';
  switch (schema.type) {
    case 'string':
      return 12345;
    case 'integer':
    case 'number':
      return 'not-a-number';
    case 'boolean':
      return 'yes please';
    case 'array':
      return 'not-a-list';
    case 'object':
      return 42;
    default:
      return undefined;
  }
}

/** a complete, valid document: every optional section present, so a leaf anywhere can be made wrong */
const FULL = {
  bus: {
    kind: 'kafka',
    kafka: { brokers: ['kafka-1:9092'], sasl: { mechanism: 'plain', username: 'u', password_file: '/run/pw' } },
  },
  store: { kind: 'redis', url: 'redis://127.0.0.1:6379' },
  api: { oidc: { issuer: 'https://idp.test', audience: 'meshward' }, api_keys_file: '/run/keys' },
  collector: { sensor_tokens_file: '/run/tokens' },
  detectors: {},
};

function setAt(doc: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('/').slice(1);
  let o = doc;
  for (const k of keys.slice(0, -1)) {
    o[k] = o[k] !== null && typeof o[k] === 'object' ? o[k] : {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
}

const LEAVES = leaves(MeshwardConfig as unknown as Record<string, unknown>).filter(
  (l) => wrongValueFor(l.schema) !== undefined,
);
const SECTIONS = Object.keys((MeshwardConfig as unknown as { properties: Record<string, unknown> }).properties);

const overrides: fc.Arbitrary<ConfigOverrides> = fc.record(
  {
    kafka: fc.oneof(fc.constantFrom('k1:9092,k2:9092', 'k1:9092', ' , ', 'no-port'), fc.string({ maxLength: 20 })),
    redis: fc.constantFrom('redis://127.0.0.1:6379', 'rediss://x:1/2'),
    dataDir: fc.string({ minLength: 1, maxLength: 20 }),
    apiListen: fc.constantFrom('127.0.0.1:0', '0.0.0.0:7070', 'nonsense'),
    collectorListen: fc.constantFrom('127.0.0.1:0', '[::1]:80', ''),
  },
  { requiredKeys: [] },
);

/** any value, including the shapes YAML produces for a hand-edited file gone wrong */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  // copies: fc.constantFrom hands out the same {} / [] each time, which the loader's defaults could write into
  fc.constantFrom(null, [], {}, '', 0, -1, 1e300, true, '127.0.0.1:99999').map((v) => structuredClone(v)),
  fc.anything({ withNullPrototype: true, maxDepth: 2 }),
);

/** a document made of the schema's own section and key names (so values get validated deep), plus strangers */
const doc: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.dictionary(
      fc.oneof(fc.constantFrom(...SECTIONS, '__proto__', 'constructor', 'prototype'), fc.string({ maxLength: 8 })),
      fc.oneof(
        anyValue,
        fc.dictionary(
          fc.oneof(
            fc.constantFrom(...LEAVES.map((l) => l.path.split('/')[2]).filter(Boolean), '__proto__'),
            fc.string({ maxLength: 8 }),
          ),
          anyValue,
          { maxKeys: 6 },
        ),
      ),
      { maxKeys: 6 },
    ),
    fc.boolean(),
  )
  // as JSON.parse / YAML give it: `__proto__` an own key, not the prototype
  .map(([d, viaJson]) => (viaJson ? (JSON.parse(JSON.stringify(d) ?? '{}') as Record<string, unknown>) : d));

const protoSnapshot = () => Object.getOwnPropertyNames(Object.prototype).sort().join(',');

function expectValidOrConfigInvalid(run: () => unknown): 'valid' | 'invalid' {
  let config: unknown;
  try {
    config = run();
  } catch (err) {
    expect(err, String((err as Error)?.stack ?? err)).toBeInstanceOf(MeshwardError);
    expect((err as MeshwardError).code, (err as Error).message).toBe('MW_ERR_CONFIG_INVALID');
    // names a place: a dotted key of the document (`collector.listen: …`) or the document itself
    expect((err as Error).message).toMatch(/: \S+: |: the top level must be a mapping|cannot read|not valid YAML/);
    return 'invalid';
  }
  expect(Value.Check(MeshwardConfig, config), JSON.stringify([...Value.Errors(MeshwardConfig, config)][0])).toBe(true);
  const c = config as { bus: { kind: string; kafka?: unknown }; store: { kind: string; url?: string } };
  if (c.bus.kind === 'kafka') expect(c.bus.kafka).toBeDefined();
  if (c.store.kind === 'redis') expect(c.store.url).toBeTruthy();
  return 'valid';
}

describe('config loader under random documents (property)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-cfg-prop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the walked schema has leaves to test and the full document is valid', () => {
    expect(LEAVES.length).toBeGreaterThan(40);
    expect(expectValidOrConfigInvalid(() => resolveConfig(structuredClone(FULL)))).toBe('valid');
  });

  it('a wrong-typed value at any leaf is MW_ERR_CONFIG_INVALID naming that leaf', () => {
    fc.assert(
      fc.property(fc.constantFrom(...LEAVES), (leaf) => {
        const d = structuredClone(FULL) as Record<string, unknown>;
        setAt(d, leaf.path, wrongValueFor(leaf.schema));
        let message = '';
        try {
          resolveConfig(d);
        } catch (err) {
          expect((err as MeshwardError).code).toBe('MW_ERR_CONFIG_INVALID');
          message = (err as Error).message;
        }
        // named as the file names it: `/collector/listen` is `collector.listen`
        expect(message, leaf.path).toContain(`${leaf.path.slice(1).replaceAll('/', '.')}: `);
      }),
      { numRuns: LEAVES.length * 3 },
    );
  });

  it('any document with any overrides gives a valid config or MW_ERR_CONFIG_INVALID, and leaves its input alone', () => {
    const proto = protoSnapshot();
    const outcomes = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(doc, overrides, (d, o) => {
        const before = JSON.stringify(d);
        outcomes[expectValidOrConfigInvalid(() => resolveConfig(d, o))]++;
        expect(JSON.stringify(d)).toBe(before);
        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 1500 },
    );
    expect(outcomes.valid).toBeGreaterThan(20);
    expect(outcomes.invalid).toBeGreaterThan(20);
  });

  it('any YAML file (random, mangled, hostile) gives a valid config or MW_ERR_CONFIG_INVALID', () => {
    const file = join(dir, 'meshward.yaml');
    const proto = protoSnapshot();
    const validText = toYaml(FULL);
    const yamlText = fc.oneof(
      doc.map((d) => {
        try {
          return toYaml(d);
        } catch {
          return '{}';
        }
      }),
      fc.string({ maxLength: 200 }),
      fc.string({ maxLength: 200, unit: 'binary' }),
      // a valid file with a few characters spliced in
      fc
        .tuple(fc.nat(validText.length), fc.string({ minLength: 1, maxLength: 4 }))
        .map(([at, junk]) => validText.slice(0, at) + junk + validText.slice(at)),
      fc.constantFrom(
        '%YAML 1.1\n---\nbus: !!binary aGVsbG8=\n',
        '%YAML 1.1\n---\ncollector: !!set { a, b }\n',
        '%YAML 1.1\n---\ncorrelator: { window_seconds: 2001-12-14 }\n',
        'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
        `bus: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
        `bus: ${'{a: '.repeat(3000)}1${'}'.repeat(3000)}\n`,
        'bus: !!js/function "function () { return 1 }"\n',
        '__proto__: { polluted: true }\nbus: { __proto__: { polluted: true } }\n',
        '<<: { bus: { kind: kafka } }\n',
        '? [complex, key]\n: value\n',
        '- just\n- a\n- list\n',
        'just a string',
        '42',
        '',
        '\ufeffbus: { kind: memory }\n',
        'bus:\n\tkind: memory\n',
        'api:\n',
      ),
    );
    fc.assert(
      fc.property(yamlText, overrides, (text, o) => {
        writeFileSync(file, text);
        expectValidOrConfigInvalid(() => loadConfig(file, o));
        expect(protoSnapshot()).toBe(proto);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });
});
