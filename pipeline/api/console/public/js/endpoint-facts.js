import { fmtNumber, h, severityBadge } from './dom.js';

/** @typedef {import('./review-dialog.js').ApiEntry} ApiEntry */

/** the credentials an accepted call can carry (the server's call-credential.ts), anonymous first */
export const CREDENTIALS = /** @type {const} */ (['none', 'token', 'mtls', 'key']);
/** what a parameter name can say it carries (the server's sensitive-params.ts), most urgent first */
export const DATA_KINDS = /** @type {const} */ (['credential', 'payment', 'personal']);

/** @param {NonNullable<ApiEntry['auth']>} a */
export const credentialCounts = (a) =>
  CREDENTIALS.filter((c) => a[c] > 0)
    .map((c) => `${c} ${fmtNumber(a[c])}`)
    .join(' · ');

/**
 * The credentials an endpoint's accepted calls carried, as shares (anonymous first, marked): `none 30% · token 70%`.
 * @param {ApiEntry} e
 */
export function authOf(e) {
  const a = e.auth;
  const total = a ? CREDENTIALS.reduce((n, c) => n + a[c], 0) : 0;
  if (!a || total === 0) return h('span', { class: 'dim', title: 'no accepted call yet' }, '–');
  const parts = CREDENTIALS.filter((c) => a[c] > 0).map((c) => {
    const pct = Math.round((a[c] / total) * 100);
    // a share that rounds to 0 or 100 beside others says so (`none <1% · token >99%`), so the shares add up
    const shown = pct === 0 ? '<1' : pct === 100 && a[c] < total ? '>99' : pct;
    return h('span', { class: c === 'none' ? 'auth-none' : null }, `${c} ${shown}%`);
  });
  return h(
    'span',
    { title: `accepted calls by credential: ${credentialCounts(a)}` },
    parts.flatMap((p, i) => (i ? [' · ', p] : [p])),
  );
}

/**
 * the kinds of data its parameter names say it takes, most urgent first (`payment`, with the names in the tooltip)
 * @param {ApiEntry} e
 */
export function dataOf(e) {
  const kinds = DATA_KINDS.filter((k) => e.sensitive?.[k]?.length);
  if (kinds.length === 0) return h('span', { class: 'dim' }, '–');
  return kinds.map((k) => {
    const names = e.sensitive?.[k] ?? [];
    return h('span', { class: `data-kind data-${k}`, title: `${k}: ${names.join(', ')}` }, k);
  });
}

/**
 * its risk: the score and its level, coloured as severities; the tooltip lists the factors with their points
 * @param {ApiEntry} e
 */
export function riskOf(e) {
  const r = e.risk;
  if (!r) return h('span', { class: 'dim' }, '–');
  const why = r.factors.length ? r.factors.map((f) => `+${f.points} ${f.detail}`).join('\n') : 'no risk factor';
  return h(
    'span',
    { class: 'risk-score', title: `risk ${r.score} of 100 (${r.level})\n${why}` },
    h('span', { class: 'num' }, String(r.score)),
    ' ',
    severityBadge(r.level),
  );
}
