import { readFile } from 'node:fs/promises';
import { readSecretFileAsync } from '../../pipeline/config/secret-file.js';
import { mwError } from '../../pipeline/core/errors.js';
import { callJson, type HttpAnswer, type HttpEndpoint, statusError } from './http-json.js';
import { withRetry } from './retry.js';

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

/** what an API-based gateway's config (Consul, Kong, Istio) says about reaching its control plane, besides where */
export interface ControlPlaneConfig {
  token_file?: string;
  ca_file?: string;
  timeout_ms: number;
  retries: number;
  retry_base_ms: number;
}

/** a gateway's control plane: its base URL, the header its token goes in (with a scheme, e.g. `Bearer`), its config */
export interface ControlPlane {
  url: string;
  header: string;
  scheme?: string;
  config: ControlPlaneConfig;
}

/**
 * One JSON call to a control plane with its credentials loaded now (endpointWith), retried with jittered backoff while
 * it fails in transport or is answered 429 or 5xx (`retries`, `retry_base_ms`); any other status is the caller's.
 */
export async function callControlPlane(
  plane: ControlPlane,
  method: string,
  path: string,
  opts: { body?: unknown; contentType?: string } = {},
): Promise<HttpAnswer> {
  const { config } = plane;
  const ep = await endpointWith(plane.url, config.timeout_ms, {
    tokenFile: config.token_file,
    header: plane.header,
    scheme: plane.scheme,
    caFile: config.ca_file,
  });
  return withRetry(
    async () => {
      const answer = await callJson(ep, method, path, opts);
      if (answer.status === 429 || answer.status >= 500) throw statusError(`${method} ${path}`, answer);
      return answer;
    },
    { retries: config.retries, baseMs: config.retry_base_ms },
  );
}
