/**
 * Turns a raw path (query included) into a route template: value-like segments become typed placeholders so
 * `/users/123` and `/users/456` are one endpoint, while words stay literal (`/v1/users/me`, `/orders/search`).
 * Placeholders: {id} (integers, mixed letter/digit ids), {num} (decimals), {uuid}, {hash} (hex digests, object ids),
 * {date}, {email}, {ip}, {token} (base64 / JWT-like opaque values). Segments already templated (`{petId}`) are kept.
 * Segments of real words with a high number of distinct values (usernames, slugs) are left to RouteLearner.
 */
import { ClearingMemo } from '../core/clearing-memo.js';

const INTEGER = /^[-+]?\d+$/;
const DECIMAL = /^[-+]?\d+\.\d+$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]+$/i;
const DATE =
  /^(\d{4}-\d{2}-\d{2}|\d{4}\/\d{2}\/\d{2}|\d{2}-\d{2}-\d{4})([tT ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}:?\d{2})?)?$/;
const EMAIL = /^[^@\s/]+@[^@\s/]+\.[A-Za-z]{2,}$/;
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;
const IPV6 = /^[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}$/i;
/** a segment that is already a template parameter: `{id}`, `:id`, `<id>` */
export const TEMPLATED = /^(\{[^}]*\}|:[A-Za-z_]\w*|<[^>]+>)$/;
/** word + small number: oauth2, sha256, utf8, s3, ec2, x509, h264, base64 */
const WORD_NUMBER = /^[a-z]{1,12}\d{1,3}$/i;
/** api versions: v1, v2.1, v1beta1, v2alpha, Google's point releases v3p1beta1 */
const VERSION = /^v\d+([._]\d+)*(p\d+)?([a-z]+\d*)?$/i;
/** file-like: name.ext with a short alphabetic extension */
const FILE = /^[A-Za-z][\w-]*\.[A-Za-z]{1,5}$/;
/** letters only with separators: words, slugs, camelCase */
const WORDS = /^[A-Za-z]+([-_.~][A-Za-z]+)*$/;
const TOKEN_CHARS = /^[A-Za-z0-9_\-+=.]+$/;
const JWT = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$/;
/**
 * a lower-case dotted name whose labels start with a letter: `networking.k8s.io`, `web01.example.com`,
 * `com.example.app` (never a JWT or base64 value: those mix cases)
 */
const DOTTED_NAME = /^[a-z][a-z\d-]*(\.[a-z][a-z\d-]*)+$/;

function safeDecode(s: string): string {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** a capitalised word of four or more letters inside a name (`…Buckets`, `…Availability`) */
const CAMEL_WORD = /[a-z\d][A-Z][a-z]{3,}/;
const ALNUM = /^[A-Za-z][A-Za-z\d]*$/;
/**
 * letters, one or two digits, letters, four characters at most: `k8s`, `b2b`, `G2M`, `i18n` (longer, `x7k2m` or
 * `ab3def`, reads as a short random id as often as a name)
 */
const NUMERONYM = /^(?=.{3,4}$)[A-Za-z]+\d{1,2}[A-Za-z]+$/;

/** the placeholder for one segment, or null when it is literal */
export function classifySegment(rawSegment: string): string | null {
  const seg = safeDecode(rawSegment);
  if (seg === '') return null;
  const fast = plainSegmentAnswer(seg, 0, seg.length);
  if (fast !== undefined) return fast;
  if (TEMPLATED.test(seg)) return null;
  if (INTEGER.test(seg))
    return seg.length === 8 &&
      DATE.test(`${seg.slice(0, 4)}-${seg.slice(4, 6)}-${seg.slice(6)}`) &&
      /^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/.test(seg)
      ? '{date}'
      : '{id}';
  if (DECIMAL.test(seg)) return IPV4.test(seg) ? '{ip}' : '{num}';
  if (IPV4.test(seg)) return '{ip}';
  if (UUID.test(seg)) return '{uuid}';
  if (DATE.test(seg)) return '{date}';
  if (EMAIL.test(seg)) return '{email}';
  if (VERSION.test(seg) || WORD_NUMBER.test(seg)) return null;
  if (WORDS.test(seg)) return seg.length >= 24 && isOpaqueLetters(seg) ? '{token}' : null;
  if (FILE.test(seg) && !/\d/.test(seg)) return null;
  if (seg.includes(':') && IPV6.test(seg) && /\d/.test(seg)) return '{ip}';
  const digits = countDigits(seg);
  if (HEX.test(seg) && digits > 0 && seg.length >= 8 && /[a-f]/i.test(seg)) return '{hash}';
  if (JWT.test(seg)) return '{token}';
  // a host, API group or package name reads as words, as `example.com` does: literal, left to the route learner
  // (Kubernetes' `/apis/networking.k8s.io/v1`); a label with three or more digits is an id's (`abc123.json`)
  if (DOTTED_NAME.test(seg) && seg.split('.').every((l) => countDigits(l) <= 2)) return null;
  // a long camelCase name with a digit whose every part is a word (`oauth2PermissionGrants`,
  // `p2sVpnServerConfigurations`): random case changes make short parts, so a token never reads so
  if (digits <= 2 && CAMEL_WORD.test(seg) && ALNUM.test(seg) && isWordShaped(seg.replace(/\d/g, 'x'))) return null;
  if (TOKEN_CHARS.test(seg) && seg.length >= 20 && digits > 0 && /[A-Za-z]/.test(seg)) return '{token}';
  if (digits > 0 && /[A-Za-z]/.test(seg)) {
    // mixed letters and digits: an id unless it reads as word+number (handled above), a version-like name, a
    // numeronym (`k8s`, `b2b`, `i18n`) or a camelCase name with a digit in it (`s3Buckets`,
    // `get3dsAvailability`, `ec2Instances`)
    if (NUMERONYM.test(seg)) return null;
    if (digits <= 2 && CAMEL_WORD.test(seg) && ALNUM.test(seg)) return null;
    if (digits >= 3 || letterDigitTransitions(seg) >= 2 || /\d{2,}/.test(seg)) return '{id}';
    return null;
  }
  if (digits > 0 && !/[A-Za-z]/.test(seg)) return '{id}';
  return null;
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function letterDigitTransitions(s: string): number {
  let n = 0;
  for (let i = 1; i < s.length; i++) {
    const a = /\d/.test(s[i - 1]);
    const b = /\d/.test(s[i]);
    if (a !== b && /[A-Za-z\d]/.test(s[i - 1]) && /[A-Za-z\d]/.test(s[i])) n++;
  }
  return n;
}

/** camelCase parts: acronyms (`DASH` before `Streaming`, `URL` at the end), capitalised and lower-case words */
const CAMEL_PARTS = /[A-Z]{2,}(?=[A-Z][a-z]|$)|[A-Z]?[a-z]+|[A-Z]+/g;

/** a name made of words: every camelCase part an acronym of two or more capitals or a word of three or more letters */
function isWordShaped(s: string): boolean {
  const parts = s.match(CAMEL_PARTS);
  return parts?.every((w) => w.length >= 3 || (w.length === 2 && w === w.toUpperCase())) ?? false;
}

/** long letter-only values without word shape: random case changes (base64 of letters) rather than camelCase */
function isOpaqueLetters(s: string): boolean {
  if (!/^[A-Za-z]+$/.test(s) || isWordShaped(s)) return false;
  let changes = 0;
  for (let i = 1; i < s.length; i++)
    if (/[A-Z]/.test(s[i]) && /[a-z]/.test(s[i - 1]) && /[A-Z]/.test(s[i + 1] ?? 'a')) changes++;
  const upper = s.replace(/[^A-Z]/g, '').length;
  return changes >= 2 || (upper / s.length > 0.3 && /[a-z]/.test(s));
}

/** split off query, fragment and matrix parameters; collapse duplicate slashes and drop a trailing slash */
export function pathOnly(rawPath: string): string {
  let end = rawPath.length;
  const q = rawPath.indexOf('?');
  if (q !== -1) end = q;
  const h = rawPath.indexOf('#');
  if (h !== -1 && h < end) end = h;
  let path = end === rawPath.length ? rawPath : rawPath.slice(0, end);
  const scheme = path.indexOf('://');
  if (scheme !== -1) {
    const slash = path.indexOf('/', scheme + 3);
    path = slash === -1 ? '/' : path.slice(slash);
  }
  if (path.includes('//')) path = path.replace(/\/{2,}/g, '/');
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path.startsWith('/') ? path : `/${path}`;
}

/**
 * The correlator templates each record's path for its endpoint series and again in the API inventory: the last
 * answer is kept, so the second call for the same path costs a comparison.
 */
let lastPath: string | undefined;
let lastTemplate = '/';

export function templatePath(rawPath: string): string {
  if (rawPath === lastPath) return lastTemplate;
  lastTemplate = computeTemplate(rawPath);
  lastPath = rawPath;
  return lastTemplate;
}

/**
 * The template of a path without splitting it: segments are classified in place (plain words and plain integers
 * without even a substring), and the output is built only from the first segment that changes. Same answers as
 * splitting on `/`, cutting each segment at `;`, classifying it and joining (path-template.test.ts checks both).
 */
function computeTemplate(rawPath: string): string {
  const p = pathOnly(rawPath);
  let out = '';
  /** p[0, flushed) is already in `out` */
  let flushed = 0;
  let semi = p.indexOf(';');
  for (let s = 1; s <= p.length; ) {
    let e = p.indexOf('/', s);
    if (e === -1) e = p.length;
    if (semi !== -1 && semi < s) semi = p.indexOf(';', s);
    const end = semi !== -1 && semi < e ? semi : e;
    const ph = classifyRange(p, s, end);
    if (ph !== null || end !== e) {
      out += p.slice(flushed, s) + (ph ?? p.slice(s, end));
      flushed = e;
    }
    s = e + 1;
  }
  if (flushed === 0) return p;
  return out + p.slice(flushed);
}

/**
 * The fast paths for the commonest segments, same answers as classifySegment's rules: a short plain word is literal
 * (null), a plain integer other than an 8-digit date is `{id}`; undefined when p[s, end) needs the rules. Letters and
 * digits only hold no `%`, so decoding first would change nothing.
 */
function plainSegmentAnswer(p: string, s: number, end: number): string | null | undefined {
  let letters = 0;
  let digits = 0;
  let i = s;
  for (; i < end; i++) {
    const c = p.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) letters++;
    else if (c >= 48 && c <= 57) digits++;
    else return undefined;
  }
  if (digits === 0 && end - s < 24) return null;
  if (letters === 0 && end - s !== 8) return '{id}';
  return undefined;
}

/** classifySegment of p[s, end), answering the commonest segments (plain words, plain integers) without a substring */
function classifyRange(p: string, s: number, end: number): string | null {
  if (end === s) return null;
  const fast = plainSegmentAnswer(p, s, end);
  return fast !== undefined ? fast : segmentAnswers.get(p.slice(s, end));
}

/** classifySegment answers for segments that need the rules (`v2`, `oauth2`, ...) */
const segmentAnswers = new ClearingMemo(classifySegment);

/** a template with every placeholder made the same (`{}`), to compare `/pets/{petId}` with `/pets/{id}` */
export function matchKey(template: string): string {
  return pathOnly(template)
    .split('/')
    .map((s) => (TEMPLATED.test(s) ? '{}' : s.toLowerCase()))
    .join('/');
}
