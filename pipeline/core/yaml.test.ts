import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MAX_YAML_DEPTH, parseYamlBounded, yamlDepth } from './yaml.js';

const nested = (depth: number) => ({
  flowSeq: `${'['.repeat(depth)}1${']'.repeat(depth)}`,
  flowMap: `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`,
  compactSeq: `${'- '.repeat(depth)}1\n`,
  blockMap: `${Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} 1\n`,
});

describe('bounded YAML parsing', () => {
  it('refuses nesting past the limit in every YAML style, before composing the document', () => {
    for (const [style, text] of Object.entries(nested(MAX_YAML_DEPTH + 20))) {
      expect(yamlDepth(text), style).toBeGreaterThan(MAX_YAML_DEPTH);
      expect(() => parseYamlBounded(text), style).toThrow(`nested deeper than ${MAX_YAML_DEPTH} levels`);
    }
    // far past what the recursive composer survives: refused the same way, not a stack overflow
    expect(() => parseYamlBounded(`${'['.repeat(50_000)}${']'.repeat(50_000)}`)).toThrow(/nested deeper/);
  });

  it('parses documents within the limit exactly as yaml does', () => {
    for (const [style, text] of Object.entries(nested(MAX_YAML_DEPTH / 2 - 10))) {
      expect(parseYamlBounded(text), style).toEqual(parse(text));
    }
    const doc = 'a: 1\nb: [x, { y: z }]\nc:\n  - d: &anchor { e: 1 }\n  - f: *anchor\n';
    expect(parseYamlBounded(doc, { maxAliasCount: 10 })).toEqual(parse(doc));
    expect(yamlDepth('a: 1')).toBeLessThan(5);
  });

  it('refuses a document with warnings (unresolved tags) unless told to keep yaml reading of it, never printing them', async () => {
    const printed: unknown[] = [];
    const onWarning = (w: unknown) => printed.push(w);
    process.on('warning', onWarning);
    try {
      expect(() => parseYamlBounded('a: !Ref other\n')).toThrow(/Unresolved tag: !Ref/);
      expect(() => parseYamlBounded('f: !!js/function "() => 1"\n')).toThrow(/Unresolved tag/);
      expect(parseYamlBounded('a: !Ref other\n', { warnings: 'ignore' })).toEqual({ a: 'other' });
      expect(() => parseYamlBounded('a: 1\n---\nb: 2\n')).toThrow(/multiple documents/);
      expect(parseYamlBounded('')).toBeNull();
      // process warnings are emitted on a later tick
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(printed).toEqual([]);
  });

  it('says what is wrong and where in one line, without quoting the document', () => {
    for (const text of ['rules: [\n', 'a: 1\n b: 2\n', 'a: !Ref other\n']) {
      let message = '';
      try {
        parseYamlBounded(text);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, text).toMatch(/ at line \d+, column \d+$/);
      expect(message, text).not.toContain('\n');
    }
  });
});
