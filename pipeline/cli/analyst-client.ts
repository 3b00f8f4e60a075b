import { readSecretFile } from '../config/secret-file.js';
import { ERRORS, type ErrorName, type MeshwardError, mwError } from '../core/errors.js';

/** where the analyst API is and the credential to call it with */
export interface AnalystConnection {
  url: string;
  key: string;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:7070';

/**
 * the connection of the analyst commands: `--api` or MESHWARD_API_URL (default the embedded server's), and the key
 * from `--key-file` (a file holding it, or `.data/demo-credentials.json`, whose adminKey is taken; read as every
 * secret file is, readSecretFile: trimmed, and an empty, unreadable or oversized file refused naming it) or
 * MESHWARD_API_KEY. Never from a flag: a key on the command line lands in shell history and the process list.
 */
export function analystConnection(
  flags: { api?: string; keyFile?: string },
  env: NodeJS.ProcessEnv = process.env,
): AnalystConnection {
  const url = (flags.api ?? env.MESHWARD_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url)) throw mwError('CONFIG_INVALID', `--api must be an http(s) URL, not ${url}`);
  let key = env.MESHWARD_API_KEY?.trim();
  if (flags.keyFile) {
    const text = readSecretFile(flags.keyFile, '--key-file');
    key = text.startsWith('{') ? keyFromCredentials(text, flags.keyFile) : text;
  }
  if (!key)
    throw mwError(
      'CONFIG_INVALID',
      'no API key: set MESHWARD_API_KEY or pass --key-file <file> (the demo: --key-file .data/demo-credentials.json)',
    );
  return { url, key };
}

/** the key of a JSON credentials file (the demo's): its adminKey */
function keyFromCredentials(text: string, path: string): string {
  try {
    const doc = JSON.parse(text) as { adminKey?: unknown };
    if (typeof doc.adminKey === 'string' && doc.adminKey) return doc.adminKey;
  } catch {
    // reported below
  }
  throw mwError('CONFIG_INVALID', `--key-file: ${path} holds JSON without an adminKey (the demo credentials hold one)`);
}

/**
 * one call of the analyst API: the JSON answer, or the API's error (its catalogue code and message) as a
 * MeshwardError; an unreachable server says where it looked
 */
export async function callApi<T>(
  c: AnalystConnection,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const text = await callApiText(c, method, path, body);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** the same call, its answer as the text the API sent (a YAML document, say) */
export async function callApiText(
  c: AnalystConnection,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${c.url}${path}`, {
      method,
      headers: {
        'x-api-key': c.key,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw mwError('API_UNAVAILABLE', `${c.url} (${(err as Error).message})`);
  }
  const text = await res.text();
  if (res.ok) return text;
  let doc: { code?: string; message?: string } | undefined;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  throw apiError(res.status, doc);
}

/** the API's error answer as the catalogue error it names (its message once, not prefixed twice) */
function apiError(status: number, body: { code?: string; message?: string } | undefined): MeshwardError {
  const name = (Object.keys(ERRORS) as ErrorName[]).find((n) => ERRORS[n].code === body?.code);
  if (!name) return mwError(status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', `HTTP ${status}: ${body?.message ?? ''}`);
  const prefix = `${ERRORS[name].message}: `;
  const message = body?.message ?? '';
  if (message === ERRORS[name].message) return mwError(name);
  return mwError(name, message.startsWith(prefix) ? message.slice(prefix.length) : message);
}
