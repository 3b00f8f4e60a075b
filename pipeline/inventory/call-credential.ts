import { LRUCache } from 'lru-cache';
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

/**
 * Which sensors have shown a credential on some call. A sensor that never has may be one that cannot see them (an
 * nginx or HAProxy access log without the Authorization hash), so its calls without one are not evidence of anonymous
 * access: `sees` is false for it until it reports a credentialed call. Bounded (least recently used sensor first).
 */
export class CredentialSight {
  private readonly sensors: LRUCache<string, true>;

  constructor(maxSensors = 10_000) {
    this.sensors = new LRUCache({ max: maxSensors });
  }

  private static key(r: ApiCallRecord): string {
    return `${r.sensor.kind}\u0000${r.sensor.id}`;
  }

  /** a call's credential as evidence: its own when the sensor can see credentials, else undefined (unknown) */
  judge(r: ApiCallRecord, credential: CallCredential): CallCredential | undefined {
    const key = CredentialSight.key(r);
    if (credential !== 'none') {
      // most calls carry one: a sensor known already is only refreshed (no set, which reorders on every call)
      if (this.sensors.get(key) === undefined) this.sensors.set(key, true);
      return credential;
    }
    return this.sensors.get(key) ? 'none' : undefined;
  }

  /** the sensors seen with a credential, least recently used first (for checkpoints) */
  dump(): string[] {
    return [...this.sensors.rkeys()];
  }

  load(keys: unknown): void {
    this.sensors.clear();
    if (Array.isArray(keys)) for (const k of keys) if (typeof k === 'string') this.sensors.set(k, true);
  }
}
