import { readSecretFile } from '../../pipeline/config/secret-file.js';
import { checkSharedSecret } from '../../pipeline/config/shared-secret.js';
import { mwError } from '../../pipeline/core/errors.js';

/**
 * Where a Node sensor or receiver gets the key of its token hashes: `token_hash_key_file` (a secret file, preferred)
 * or `token_hash_key` inline. There is no built-in key: hashes under a published key could be reversed by anyone
 * holding a candidate token, and would never match the other sensors' hashes of the same token.
 */
export interface TokenHashKeySource {
  token_hash_key?: string;
  token_hash_key_file?: string;
}

/** what is wrong with a key source (neither or both options given), undefined when it names exactly one key */
export function tokenHashKeyProblem(source: TokenHashKeySource): string | undefined {
  if (source.token_hash_key && source.token_hash_key_file) {
    return 'token_hash_key and token_hash_key_file: give one of them, not both';
  }
  if (!source.token_hash_key && !source.token_hash_key_file) {
    return 'token_hash_key_file (or token_hash_key) is required: the key all meshward sensors hash tokens with';
  }
  return undefined;
}

/**
 * The key of a valid source: the inline value, or the file's first line that is neither blank nor a `#` comment,
 * trimmed, as the Envoy and nginx entrypoints read the same secret file (deploy/compose), so every sensor hashes a
 * token alike (the file is read as every secret file is: readSecretFile), at least 16 characters as an inline key
 * (SharedSecret). Throws MW_ERR_CONFIG_INVALID prefixed by `where` (the component), naming the option and the file,
 * never the key.
 */
export function readTokenHashKey(source: TokenHashKeySource, where: string): string {
  const problem = tokenHashKeyProblem(source);
  if (problem) throw mwError('CONFIG_INVALID', `${where}: ${problem}`);
  const file = source.token_hash_key_file;
  if (!file) return source.token_hash_key as string;
  const key = readSecretFile(file, `${where}.token_hash_key_file`)
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line && !line.startsWith('#'));
  if (!key) throw mwError('CONFIG_INVALID', `${where}.token_hash_key_file: ${file} holds no key`);
  return checkSharedSecret(key, `${where}.token_hash_key_file`, file);
}
