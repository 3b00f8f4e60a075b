import { readFile } from 'node:fs/promises';
import { mwError } from '../../pipeline/core/errors.js';
import type { HttpEndpoint } from './http-json.js';

/**
 * Read an API credential or CA from a file at call time (mounted secrets rotate, e.g. Kubernetes projected service
 * account tokens). A missing file is a configuration error; the contents are never logged.
 */
export async function readSecretFile(path: string | undefined, what: string): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw mwError('CONFIG_INVALID', `cannot read ${what} file ${path}`, undefined, err);
  }
}

/** an endpoint with its credentials loaded now */
export async function endpointWith(
  baseUrl: string,
  timeoutMs: number,
  auth: { tokenFile?: string; header: string; scheme?: string; caFile?: string },
): Promise<HttpEndpoint> {
  const token = await readSecretFile(auth.tokenFile, 'token');
  const ca = await readSecretFile(auth.caFile, 'CA');
  const headers: Record<string, string> = {};
  if (token) headers[auth.header] = auth.scheme ? `${auth.scheme} ${token}` : token;
  return ca === undefined ? { baseUrl, timeoutMs, headers } : { baseUrl, timeoutMs, headers, ca };
}
