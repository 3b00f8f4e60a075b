/**
 * Last line of defence against secrets in records: sensors hash tokens and redact configured fields, but a value
 * that still looks like a credential (a JWT, a bearer header, a long key) is replaced before the record is published.
 */
const JWT = /^eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*$/;
const BEARER = /^(bearer|basic)\s+\S{8,}$/i;
const SECRET_NAME = /(pass(word)?|secret|token|api[_-]?key|authorization|session[_-]?key|private[_-]?key|credential)/i;

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
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
