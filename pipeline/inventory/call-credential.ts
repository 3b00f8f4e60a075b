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

/**
 * the api_discovery inventory and the unauthenticated_access tracker both ask for the record in hand: the last answer
 * is kept (records are not changed once published)
 */
let lastRecord: ApiCallRecord | undefined;
let lastCredential: CallCredential = 'none';

export function credentialOf(r: ApiCallRecord): CallCredential {
  if (r !== lastRecord) {
    lastCredential = carried(r);
    lastRecord = r;
  }
  return lastCredential;
}

function carried(r: ApiCallRecord): CallCredential {
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

/** accepted calls by credential, all 0 (an ApiEntry's `auth` before its first count) */
export const noCredentials = (): Record<CallCredential, number> => ({ token: 0, mtls: 0, key: 0, none: 0 });

/**
 * Which sensors have shown a credential on some call. A sensor that never has may be one that cannot see them (an
 * nginx or HAProxy access log without the Authorization hash), so its calls without one are not evidence of anonymous
 * access: `judge` says unknown for them until the sensor reports a credentialed call. Looked up by the record's own
 * strings (sensor kind, then id: nothing built per call); bounded: past `maxSensors` it starts again empty (a sensor
 * is then unknown until its next credentialed call).
 */
export class CredentialSight {
  private readonly byKind = new Map<string, Set<string>>();
  private count = 0;

  constructor(private readonly maxSensors = 10_000) {}

  private sees(kind: string, id: string): boolean {
    return this.byKind.get(kind)?.has(id) === true;
  }

  private add(kind: string, id: string): void {
    if (this.count >= this.maxSensors) {
      this.byKind.clear();
      this.count = 0;
    }
    let ids = this.byKind.get(kind);
    if (!ids) {
      ids = new Set();
      this.byKind.set(kind, ids);
    }
    ids.add(id);
    this.count++;
  }

  /** a call's credential as evidence: its own when the sensor can see credentials, else undefined (unknown) */
  judge(r: ApiCallRecord, credential: CallCredential): CallCredential | undefined {
    const { kind, id } = r.sensor;
    if (credential !== 'none') {
      if (!this.sees(kind, id)) this.add(kind, id);
      return credential;
    }
    return this.sees(kind, id) ? 'none' : undefined;
  }

  /** the sensors seen with a credential, as `kind\0id` (for checkpoints) */
  dump(): string[] {
    return [...this.byKind].flatMap(([kind, ids]) => [...ids].map((id) => `${kind}\u0000${id}`));
  }

  load(keys: unknown): void {
    this.byKind.clear();
    this.count = 0;
    if (!Array.isArray(keys)) return;
    for (const k of keys) {
      if (typeof k !== 'string') continue;
      const sep = k.indexOf('\u0000');
      if (sep > 0) this.add(k.slice(0, sep), k.slice(sep + 1));
    }
  }
}
