import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTokenHashKey, tokenHashKeyProblem } from './token-hash-key.js';

const dir = mkdtempSync(join(tmpdir(), 'meshward-key-'));
const fileWith = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('token hash key', () => {
  it('needs exactly one of token_hash_key_file and token_hash_key: there is no built-in key', () => {
    expect(tokenHashKeyProblem({})).toMatch(/^token_hash_key_file \(or token_hash_key\) is required/);
    expect(tokenHashKeyProblem({ token_hash_key: 'k', token_hash_key_file: '/k' })).toMatch(/not both/);
    expect(tokenHashKeyProblem({ token_hash_key_file: '/k' })).toBeUndefined();
    expect(() => readTokenHashKey({}, 'kong')).toThrow(/^configuration is invalid: kong: token_hash_key_file/);
    expect(readTokenHashKey({ token_hash_key: 'inline-key-0123456789' }, 'kong')).toBe('inline-key-0123456789');
  });

  it('reads a secret file as the Envoy and nginx entrypoints do: the first line not blank nor a # comment', () => {
    const demo = join(import.meta.dirname, '../../deploy/compose/demo-secrets/token-hash-key');
    expect(readTokenHashKey({ token_hash_key_file: demo }, 'idp')).toBe('demo-token-hash-key-not-secret-000000');
    const f = fileWith('key', '\n  # the key\n  s3cret-key-0123456789 \r\nsecond-line\n');
    expect(readTokenHashKey({ token_hash_key_file: f }, 'idp')).toBe('s3cret-key-0123456789');
  });

  it('names the option and the file when the file cannot give a key, never a key', () => {
    const empty = fileWith('empty', '# only a comment\n\n');
    expect(() => readTokenHashKey({ token_hash_key_file: empty }, 'gw')).toThrow(
      `configuration is invalid: gw.token_hash_key_file: ${empty} holds no key`,
    );
    expect(() => readTokenHashKey({ token_hash_key_file: join(dir, 'missing') }, 'gw')).toThrow(
      /gw\.token_hash_key_file: cannot read .*missing: ENOENT/,
    );
  });
});
