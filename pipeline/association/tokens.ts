/**
 * Tokenisation of API attributes: identifiers are split on camelCase, snake_case, kebab-case, dots and digits
 * boundaries, lower-cased, and stop words and placeholders dropped. Pure functions; no state.
 */

const STOP = new Set(
  (
    'a an and are as at be by for from has have in is it its of on or that the this to was were will with ' +
    'api apis v1 v2 v3 v4 com org net io www http https json xml get post put patch delete head options id ids ' +
    'you your can all any via use used using returns return list lists new one which when where not only'
  ).split(' '),
);

/** placeholder segments such as `{id}`, `:id`, `<id>` */
const PLACEHOLDER = /^(\{[^}]*\}|:[\w-]+|<[^>]*>)$/;
const VERSION = /^v\d+(\.\d+)*$/i;
const WORD = /[A-Za-z]+/g;

const CACHE_MAX = 50_000;
let cache = new Map<string, string[]>();

/** splits one identifier: `getUserAccounts` → user accounts (get is a stop word); `HTTPServer` → http server */
export function splitIdentifier(text: string): string[] {
  const hit = cache.get(text);
  if (hit) return hit;
  const out = split(text);
  // identifiers repeat a lot across APIs; a bounded memo (dropped whole when full) keeps featurising cheap
  if (cache.size >= CACHE_MAX) cache = new Map();
  if (text.length <= 64) cache.set(text, out);
  return out;
}

function split(text: string): string[] {
  const spaced = text
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/[_\-.~/\\:]+/g, ' ');
  const out: string[] = [];
  for (const m of spaced.matchAll(WORD)) {
    const w = m[0].toLowerCase();
    if (w.length < 2 || w.length > 40 || STOP.has(w)) continue;
    out.push(w);
  }
  return out;
}

/** HTML tags, entities and URLs carry no topic (`<p>`, `&amp;`, links to docs) */
const MARKUP = /<[^>]*>|&[a-z]+;|&#\d+;|https?:\/\/\S+/gi;

/** tokens of free text (titles, descriptions, summaries); markup and URLs are dropped */
export function textTokens(text: string | undefined | null, max = 400): string[] {
  if (!text) return [];
  const out: string[] = [];
  const plain = text.includes('<') || text.includes('&') || text.includes('://') ? text.replace(MARKUP, ' ') : text;
  for (const m of plain.matchAll(/[A-Za-z][A-Za-z0-9_-]*/g)) {
    for (const t of splitIdentifier(m[0])) {
      out.push(stem(t));
      if (out.length >= max) return out;
    }
  }
  return out;
}

/** tokens of a URL path: placeholders and version segments skipped, segments split */
export function pathTokens(path: string): string[] {
  const q = path.indexOf('?');
  const p = q === -1 ? path : path.slice(0, q);
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (!seg || PLACEHOLDER.test(seg) || VERSION.test(seg)) continue;
    for (const t of splitIdentifier(seg)) out.push(stem(t));
  }
  return out;
}

/** the labels of a host or URL's host name, lower case; server variables dropped (`{region}.api.example.com`) */
function hostLabels(host: string): string[] {
  let h = host.toLowerCase();
  const scheme = h.indexOf('://');
  if (scheme !== -1) h = h.slice(scheme + 3);
  const slash = h.indexOf('/');
  if (slash !== -1) h = h.slice(0, slash);
  // an IPv6 address names nothing (and an IPv4 address no provider: registrableDomain)
  if (h.startsWith('[')) return [];
  const colon = h.indexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  // `{region}.api.example.com`, `api.ebay.com{basePath}`: server variables are dropped wherever they sit
  return h
    .replace(/\{[^}]*\}?/g, '')
    .split('.')
    .filter((l) => l.length > 0);
}

/**
 * the name of an internal host that names a service (`orders.shop.svc.cluster.local`, `ledger.internal`, `orders`,
 * from a host or URL, lower case): a host with no registrable domain that is neither a documentation placeholder
 * (`*.example`, `*.test`, `*.invalid`, `example.com`: catalogues use them for unrelated APIs) nor loopback or an
 * address. null otherwise
 */
export function internalHostName(host: string): string | null {
  const labels = hostLabels(host);
  const n = labels.length;
  if (n === 0 || registrableDomain(labels) !== null) return null;
  if (PLACEHOLDER_TLD.has(labels[n - 1]) || (n >= 2 && RESERVED_DOMAIN.has(labels.slice(-2).join('.')))) return null;
  if (labels[n - 1] === 'localhost' || /^\d+$/.test(labels[n - 1])) return null;
  return labels.join('.');
}

/** how many trailing labels of a host are a documentation placeholder (`example.com`: 2, `*.test`: 1), else 0 */
function placeholderLabels(labels: readonly string[]): number {
  const n = labels.length;
  if (n >= 2 && RESERVED_DOMAIN.has(labels.slice(-2).join('.'))) return 2;
  return n >= 1 && PLACEHOLDER_TLD.has(labels[n - 1]) ? 1 : 0;
}

/**
 * tokens of a host name: labels split; the registrable part is also kept whole (`adyen.com`). A documentation
 * placeholder's own labels say nothing of the API (`petstore.example.com`: `petstore` only), so APIs documented
 * on `example.com` are not alike for it
 */
export function hostTokens(host: string): string[] {
  const labels = hostLabels(host);
  if (labels.length === 0) return [];
  const out: string[] = [];
  const domain = registrableDomain(labels);
  if (domain) out.push(`@${domain}`);
  const own = labels.length - placeholderLabels(labels);
  for (let i = 0; i < own; i++) out.push(...splitIdentifier(labels[i]));
  return out;
}

/** second-level labels under a country code that are public suffixes (`gov.in`, `co.uk`, `com.cn`) */
const SECOND_LEVEL = new Set(['co', 'com', 'gov', 'org', 'net', 'ac', 'edu', 'go', 'or', 'ne', 'gob', 'govt', 'nic']);

/**
 * hosting platforms that give each customer a subdomain (`myshop.herokuapp.com`, `x.p.rapidapi.com`): the customer's
 * label belongs to the provider, as in the private section of the Public Suffix List. Not amazonaws.com or
 * azure.com: their hosts name the vendor's own services (`ec2.{region}.amazonaws.com`)
 */
const SHARED_HOSTING = new Set([
  'herokuapp.com',
  'appspot.com',
  'azurewebsites.net',
  'cloudfunctions.net',
  'firebaseapp.com',
  'web.app',
  'github.io',
  'gitlab.io',
  'netlify.app',
  'vercel.app',
  'pages.dev',
  'workers.dev',
  'onrender.com',
  'fly.dev',
  'glitch.me',
  'ngrok.io',
  'pythonanywhere.com',
  'p.rapidapi.com',
  'a.run.app',
  'azure-api.net',
  'azurestaticapps.net',
  'apigee.net',
]);

/**
 * regional platforms that give each customer a subdomain: `{id}.execute-api.{region}.amazonaws.com` (API Gateway),
 * `{id}.lambda-url.{region}.on.aws`, keyed `service label|domain`; the provider is the customer's label with the rest.
 * Amazon's own services stay amazonaws.com (`execute-api.{region}.amazonaws.com` has no customer label)
 */
const REGIONAL_HOSTING = new Set(['execute-api|amazonaws.com', 'lambda-url|on.aws']);

/** the reserved names for documentation and testing (RFC 2606), as opposed to those for local use */
const PLACEHOLDER_TLD = new Set(['example', 'test', 'invalid']);
/** names reserved for documentation and local use (RFC 2606, RFC 6761, RFC 6762): no provider */
const RESERVED_TLD = new Set([...PLACEHOLDER_TLD, 'local', 'localhost', 'internal']);
const RESERVED_DOMAIN = new Set(['example.com', 'example.net', 'example.org']);

/**
 * the provider's domain: the last two labels, three under a country-code public suffix (`apisetu.gov.in`), one more
 * under a shared hosting platform (`myshop.herokuapp.com`), the customer's label and the platform's under a regional
 * one (`abc123.execute-api.us-east-1.amazonaws.com`); null for reserved names (`example.com`, `*.local`) and addresses
 */
export function registrableDomain(labels: readonly string[]): string | null {
  const n = labels.length;
  if (n < 2 || RESERVED_TLD.has(labels[n - 1]) || /^\d+$/.test(labels[n - 1])) return null;
  if (n >= 5 && REGIONAL_HOSTING.has(`${labels[n - 4]}|${labels[n - 2]}.${labels[n - 1]}`))
    return labels.slice(-5).join('.');
  for (const len of [3, 2]) {
    if (n > len && SHARED_HOSTING.has(labels.slice(-len).join('.'))) return labels.slice(-len - 1).join('.');
  }
  const two = labels.slice(-2).join('.');
  if (RESERVED_DOMAIN.has(two)) return null;
  if (n >= 3 && labels[n - 1].length === 2 && SECOND_LEVEL.has(labels[n - 2])) return labels.slice(-3).join('.');
  return two;
}

/** a light suffix stemmer (plural and common verb forms) so `orders`/`order`, `payments`/`payment` meet */
export function stem(w: string): string {
  if (w.length <= 4) return w;
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (w.endsWith('ss') || w.endsWith('us') || w.endsWith('is')) return w;
  if (w.endsWith('s')) return w.slice(0, -1);
  return w;
}
