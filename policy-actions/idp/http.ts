import { readSecretFile } from '../../pipeline/config/secret-file.js';
import { mwError } from '../../pipeline/core/errors.js';

/** What the IdP answered; the body is parsed as JSON when it is JSON, else kept as text. */
export interface IdpResponse {
  status: number;
  body: unknown;
}

/**
 * One HTTP call to an identity provider with a timeout. Network failures, timeouts, 429 and 5xx are retryable
 * (ADAPTER_FAILED); 401/403 mean the adapter's own credentials are wrong (CONFIG_INVALID, not retried); other
 * statuses are returned for the adapter to judge. Messages name the operation, never a credential.
 */
export async function idpFetch(
  op: string,
  url: string,
  init: RequestInit & { timeoutMs: number },
): Promise<IdpResponse> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs) });
  } catch (err) {
    throw mwError(
      'ADAPTER_FAILED',
      `${op}: ${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message}`,
      undefined,
      err,
    );
  }
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (res.status === 429 || res.status >= 500) throw mwError('ADAPTER_FAILED', `${op}: HTTP ${res.status}`);
  if (res.status === 401 || res.status === 403) {
    throw mwError('CONFIG_INVALID', `${op}: HTTP ${res.status}, check the adapter's credentials`);
  }
  return { status: res.status, body };
}

/** a secret given inline or as a file (the file wins, read as every secret file is: readSecretFile) */
export function readSecret(inline: string | undefined, file: string | undefined, name: string): string {
  if (file) return readSecretFile(file, `${name}_file`);
  if (inline) return inline;
  throw mwError('CONFIG_INVALID', `${name} or ${name}_file is required`);
}

export const basicAuth = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export const FORM = 'application/x-www-form-urlencoded';
