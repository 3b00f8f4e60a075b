/** The placeholder that replaces every redacted value. */
export const REDACTED = '[redacted]';

/** parameter and header names redacted by default (case-insensitive) */
export const DEFAULT_REDACT_NAMES = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api_key',
  'apikey',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'password',
  'passwd',
  'secret',
  'client_secret',
  'code',
];

const JWT = /^eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/;
const BEARER = /^\s*(bearer|basic|token)\s+\S{8,}/i;
const LONG_HEX = /^[0-9a-fA-F]{32,}$/;
const LONG_B64 = /^[A-Za-z0-9+/_-]{32,}={0,2}$/;
const KNOWN_PREFIX =
  /^(sk|pk|rk)_(live|test)_[A-Za-z0-9]{8,}|^gh[pousr]_[A-Za-z0-9]{20,}|^AKIA[0-9A-Z]{16}$|^xox[abprs]-[A-Za-z0-9-]{10,}/;
const HAS_DIGIT = /\d/;
const HAS_ALPHA = /[A-Za-z]/;

/**
 * True when a value looks like a credential: a JWT, an Authorization-style `Bearer <x>`, a long hex or base64 key,
 * or a well-known API key prefix. Long base64 needs both letters and digits so long plain words are not flagged.
 */
export function looksSecret(value: string): boolean {
  if (value.length < 16) return false;
  if (JWT.test(value) || BEARER.test(value) || KNOWN_PREFIX.test(value)) return true;
  if (LONG_HEX.test(value)) return true;
  return LONG_B64.test(value) && HAS_DIGIT.test(value) && HAS_ALPHA.test(value);
}

export interface RedactOptions {
  /** names (params, headers) whose values are always redacted, case-insensitive */
  names?: readonly string[];
  /** also redact values that look like credentials, whatever their name */
  detectSecrets?: boolean;
}

export interface Redactor {
  /** true when values under this name are always redacted */
  isRedactedName(name: string): boolean;
  /** the value to keep for `name`: REDACTED when the name is configured or the value looks secret */
  value<T>(name: string, value: T): T | typeof REDACTED;
  /** a copy of a name → value map with values redacted (non-string values pass through unless the name matches) */
  map<T>(values: Record<string, T>): Record<string, T | typeof REDACTED>;
}

/** compile the configured names once (at registration), so the per-request cost is a Set lookup */
export function createRedactor(opts: RedactOptions = {}): Redactor {
  const names = new Set((opts.names ?? DEFAULT_REDACT_NAMES).map((n) => n.toLowerCase()));
  const detect = opts.detectSecrets ?? true;
  const isRedactedName = (name: string): boolean => names.has(name.toLowerCase());
  const value = <T>(name: string, v: T): T | typeof REDACTED => {
    if (isRedactedName(name)) return REDACTED;
    if (detect && typeof v === 'string' && looksSecret(v)) return REDACTED;
    return v;
  };
  return {
    isRedactedName,
    value,
    map<T>(values: Record<string, T>) {
      const out: Record<string, T | typeof REDACTED> = {};
      for (const k of Object.keys(values)) out[k] = value(k, values[k]);
      return out;
    },
  };
}
