/**
 * Last line of defence against secrets in records: sensors hash tokens and redact configured fields, but a value
 * that still looks like a credential (a JWT, a bearer header, a long key) is replaced before the record is published.
 */
const JWT = /^eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*$/;
const BEARER = /^(bearer|basic)\s+\S{8,}$/i;
/** words that make a field or parameter name secret-like (the one list every pattern below is built from) */
const SECRET_WORDS = 'pass(?:word)?|secret|token|api[_-]?key|authorization|session[_-]?key|private[_-]?key|credential';
const SECRET_NAME = new RegExp(`(${SECRET_WORDS})`, 'i');

export const REDACTED = '[redacted]';

export function looksSecret(name: string, value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0 || value === REDACTED) return false;
  return JWT.test(value) || BEARER.test(value) || SECRET_NAME.test(name);
}

/** replaces secret-looking param and tag values in place; returns how many were replaced */
export function scrubSecrets(record: { params?: Record<string, unknown>; tags?: Record<string, string> }): number {
  let n = 0;
  for (const bag of [record.params, record.tags]) {
    if (!bag) continue;
    for (const k of Object.keys(bag)) {
      if (looksSecret(k, bag[k])) {
        (bag as Record<string, unknown>)[k] = REDACTED;
        n++;
      }
    }
  }
  return n;
}

/** redacts secret-named query parameters inside a raw path (e.g. `?access_token=…`) */
export function scrubPathQuery(path: string): string {
  const q = path.indexOf('?');
  if (q === -1) return path;
  let changed = false;
  const parts = path
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      const name = safeDecode(pair.slice(0, eq));
      const value = safeDecode(pair.slice(eq + 1));
      if (!looksSecret(name, value)) return pair;
      changed = true;
      return `${pair.slice(0, eq)}=${encodeURIComponent(REDACTED)}`;
    });
  return changed ? `${path.slice(0, q)}?${parts.join('&')}` : path;
}

function safeDecode(s: string): string {
  // most names and values have nothing to decode
  if (!s.includes('%') && !s.includes('+')) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

// Patterns for text that did not parse as a record (dead letters): every quantifier is bounded or runs over a
// character class the next token cannot start with, so a 256 KiB letter is scanned in linear time.
const RAW_JWT = /eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;
const RAW_AUTH_SCHEME = /\b(bearer|basic)(\s+|%20|\+)[^\s"',;&]{8,}/gi;
const RAW_SECRET_FIELD = new RegExp(
  `("[^"\\\\]{0,64}?(?:${SECRET_WORDS}|cookie)[^"\\\\]{0,64}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`,
  'gi',
);
const RAW_SECRET_QUERY = new RegExp(`([?&][^=&\\s"]{0,64}?(?:${SECRET_WORDS}|code)[^=&\\s"]{0,64}=)[^&\\s"'#]+`, 'gi');

/**
 * Redacts credential-looking spans in raw text that could not be read as a record (a dead letter): JWTs,
 * `Bearer` / `Basic` credentials, JSON string values under secret-like names, secret query parameters.
 * Returns the text and how many spans were replaced.
 */
export function scrubRawText(text: string): { text: string; replaced: number } {
  let replaced = 0;
  const count = (replacement: string) => () => {
    replaced++;
    return replacement;
  };
  const out = text
    .replace(RAW_SECRET_FIELD, (_m, head: string) => {
      replaced++;
      return `${head}"${REDACTED}"`;
    })
    .replace(RAW_JWT, count(REDACTED))
    .replace(RAW_AUTH_SCHEME, (_m, scheme: string, space: string) => {
      replaced++;
      return `${scheme}${space}${REDACTED}`;
    })
    .replace(RAW_SECRET_QUERY, (_m, head: string) => {
      replaced++;
      return `${head}${encodeURIComponent(REDACTED)}`;
    });
  return { text: out, replaced };
}
