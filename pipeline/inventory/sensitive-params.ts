/**
 * Parameter names that carry what must not travel in a URL (CWE-598): URLs are kept in proxy and server logs, browser
 * history and Referer headers, so a credential, personal or payment datum in a query string leaks where a body or a
 * header would not. By name only: the sensors never keep such values (they redact them), the name says the client
 * sends them.
 */
export const SENSITIVE_KINDS = ['credential', 'personal', 'payment'] as const;
export type SensitiveKind = (typeof SENSITIVE_KINDS)[number];

/** a name lower-cased without separators: `access_token`, `accessToken`, `Access-Token` → accesstoken */
const normal = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** the names, by what they carry */
const NAMES: Record<SensitiveKind, string[]> = {
  credential: [
    'password',
    'passwd',
    'pwd',
    'pass',
    'secret',
    'token',
    'apikey',
    'key',
    'jwt',
    'bearer',
    'auth',
    'authorization',
    'sessionid',
    'sid',
    'session',
    'privatekey',
    'clientsecret',
  ],
  personal: [
    'email',
    'emailaddress',
    'phone',
    'phonenumber',
    'mobile',
    'msisdn',
    'ssn',
    'socialsecuritynumber',
    'dob',
    'dateofbirth',
    'birthdate',
    'passport',
    'passportnumber',
    'nationalid',
    'taxid',
  ],
  payment: [
    'cardnumber',
    'ccnumber',
    'creditcard',
    'pan',
    'cvv',
    'cvc',
    'cvv2',
    'iban',
    'accountnumber',
    'routingnumber',
  ],
};
const EXACT = new Map(
  (Object.entries(NAMES) as [SensitiveKind, string[]][]).flatMap(([kind, names]) =>
    names.map((n) => [n, kind] as const),
  ),
);

/** endings that make a credential (`accesstoken`, `xapikey`, `userpassword`, `clientsecret`) */
const CREDENTIAL_ENDINGS = ['password', 'passwd', 'secret', 'token', 'apikey', 'sessionid'];
/**
 * tokens that are not credentials: paging and sync cursors (`pageToken`, AWS `NextToken`), anti-CSRF tokens, and the
 * one-time OAuth `code` of a redirect (by design in its URL)
 */
const NOT_CREDENTIALS = ['pagetoken', 'nexttoken', 'continuationtoken', 'synctoken', 'resumptiontoken', 'csrftoken'];

/** what a parameter name says it carries, or null */
export function sensitiveParam(name: string): SensitiveKind | null {
  const n = normal(name);
  if (n.length === 0 || n.length > 64) return null;
  const exact = EXACT.get(n);
  if (exact) return exact;
  if (NOT_CREDENTIALS.some((e) => n.endsWith(e))) return null;
  if (CREDENTIAL_ENDINGS.some((e) => n.endsWith(e))) return 'credential';
  if (n.endsWith('email')) return 'personal';
  return null;
}

/** the names among `names` that say they carry a credential, personal or payment datum, by kind (kinds with none left out) */
export function sensitiveParams(names: readonly string[]): Partial<Record<SensitiveKind, string[]>> {
  const out: Partial<Record<SensitiveKind, string[]>> = {};
  for (const name of names) {
    const kind = sensitiveParam(name);
    if (kind) out[kind] = [...(out[kind] ?? []), name];
  }
  return out;
}
