/** What a parameter value looks like: its type, number, length, character classes and injection shape. */

export const T_NUMBER = 1;
export const T_STRING = 2;
export const T_BOOL = 4;
export const T_NULL = 8;

export const C_DIGIT = 1;
export const C_LOWER = 2;
export const C_UPPER = 4;
export const C_SPACE = 8;
/** `- _ . , : @ / +` and other characters common in ordinary values */
export const C_PUNCT = 16;
/** `< > ' " ; | & $ ( ) { } [ ] \ %` and backticks: the characters injections need */
export const C_RISKY = 32;

const NUMERIC = /^-?\d+(\.\d+)?$/;

export const typeBit = (v: unknown): number =>
  v === null
    ? T_NULL
    : typeof v === 'number'
      ? T_NUMBER
      : typeof v === 'boolean'
        ? T_BOOL
        : NUMERIC.test(String(v))
          ? T_NUMBER
          : T_STRING;

export function charClasses(s: string): number {
  let m = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) m |= C_DIGIT;
    else if (c >= 97 && c <= 122) m |= C_LOWER;
    else if (c >= 65 && c <= 90) m |= C_UPPER;
    else if (c === 32 || c === 9) m |= C_SPACE;
    else if (
      c === 60 ||
      c === 62 ||
      c === 39 ||
      c === 34 ||
      c === 59 ||
      c === 124 ||
      c === 38 ||
      c === 36 ||
      c === 40 ||
      c === 41 ||
      c === 123 ||
      c === 125 ||
      c === 91 ||
      c === 93 ||
      c === 92 ||
      c === 37 ||
      c === 96
    )
      m |= C_RISKY;
    else m |= C_PUNCT;
  }
  return m;
}

/** injection shapes, checked in order; compiled once */
export const INJECTION_PATTERNS: { name: string; re: RegExp }[] = [
  {
    name: 'sql_injection',
    re: /('|%27)\s*(or|and)\s*('|%27|\d|true)|\bunion(\s|\+|%20|\/\*.*?\*\/)+(all\s+)?select\b|;\s*(drop|delete|insert|update|alter|truncate)\s|\b(sleep|benchmark|pg_sleep|waitfor\s+delay)\s*\(|('|%27)\s*;|('|%27)\s*--/i,
  },
  {
    name: 'script_injection',
    re: /<\s*script\b|<\s*\/?\s*(img|svg|iframe|body|object|embed)\b[^>]*\bon[a-z]+\s*=|javascript\s*:|\bon(error|load|mouseover|focus)\s*=/i,
  },
  {
    name: 'path_traversal',
    re: /(\.\.|%2e%2e)(\/|\\|%2f|%5c)|\.\.\.\.\/\/|\/etc\/(passwd|shadow|hosts)\b|\bwin\.ini\b|%00/i,
  },
  {
    name: 'command_injection',
    re: /[;|&`]\s*(cat|ls|id|nc|ncat|curl|wget|bash|sh|rm|whoami|uname|ping|python|perl)\b|\$\([^)]*\)|`[^`]+`|\|\|\s*\w/i,
  },
];

export function injectionShape(s: string): string | undefined {
  for (const p of INJECTION_PATTERNS) if (p.re.test(s)) return p.name;
  return undefined;
}

const SENSITIVE = /pass|secret|token|key|auth|cookie|session|card|cvv|ssn/i;

/** a value as it may appear in an alert: truncated, and never for a parameter whose name suggests a secret */
export const displayValue = (name: string, v: unknown): string =>
  SENSITIVE.test(name)
    ? '[redacted]'
    : JSON.stringify(typeof v === 'string' && v.length > 80 ? `${v.slice(0, 80)}…` : v);
