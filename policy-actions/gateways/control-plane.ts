import { readFile } from 'node:fs/promises';
import { readSecretFileAsync } from '../../pipeline/config/secret-file.js';
import { mwError } from '../../pipeline/core/errors.js';
import type { HttpEndpoint } from './http-json.js';

/**
 * Read a CA from a file at call time (mounted secrets rotate). A missing file is a configuration error. Not a secret,
 * and a CA bundle may be large: it is not read as the token is (readSecretFileAsync).
 */
async function readCaFile(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw mwError('CONFIG_INVALID', `cannot read CA file ${path}`, undefined, err);
  }
}

/**
 * an endpoint with its credentials loaded now: the API token read at each call (Kubernetes projected service account
 * tokens rotate), as every secret file is read, never logged
 */
export async function endpointWith(
  baseUrl: string,
  timeoutMs: number,
  auth: { tokenFile?: string; header: string; scheme?: string; caFile?: string },
): Promise<HttpEndpoint> {
  const token = auth.tokenFile ? await readSecretFileAsync(auth.tokenFile, 'token_file') : undefined;
  const ca = await readCaFile(auth.caFile);
  const headers: Record<string, string> = {};
  if (token) headers[auth.header] = auth.scheme ? `${auth.scheme} ${token}` : token;
  return ca === undefined ? { baseUrl, timeoutMs, headers } : { baseUrl, timeoutMs, headers, ca };
}
