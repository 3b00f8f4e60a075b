import type { ApiCallRecord } from '../core/record.js';
import { sensitiveParam } from './sensitive-params.js';

/**
 * What credential a call carried, as the sensors saw it: `token` (an Authorization credential, hashed, or an
 * identified user or OAuth client), `mtls` (a peer certificate: a workload's identity), `key` (a credential-named
 * parameter such as `api_key` or `access_token`), `none`. By presence only: whether the credential was valid is the
 * answer's status (a call accepted without one is what matters here).
 */
export const CALL_CREDENTIALS = ['token', 'mtls', 'key', 'none'] as const;
export type CallCredential = (typeof CALL_CREDENTIALS)[number];

/** each parameter name of a raw path's query string (`?a=1&b` → a, b), up to 128 characters, until `visit` says stop */
export function forEachQueryName(path: string, visit: (name: string) => boolean | undefined): void {
  let from = path.indexOf('?') + 1;
  if (from === 0) return;
  while (from <= path.length) {
    let amp = path.indexOf('&', from);
    if (amp === -1) amp = path.length;
    let eq = path.indexOf('=', from);
    if (eq === -1 || eq > amp) eq = amp;
    if (eq > from && eq - from <= 128 && visit(path.slice(from, eq)) === false) return;
    from = amp + 1;
  }
}

const isCredentialName = (name: string): boolean => sensitiveParam(name) === 'credential';

export function credentialOf(r: ApiCallRecord): CallCredential {
  const u = r.user;
  if (u && (u.tokenHash || u.sub || u.clientId)) return 'token';
  if (r.source.mtls === true || r.source.principal) return 'mtls';
  if (r.params) for (const name in r.params) if (isCredentialName(name)) return 'key';
  let key = false;
  forEachQueryName(r.path, (name) => {
    key = isCredentialName(name);
    return !key;
  });
  return key ? 'key' : 'none';
}
