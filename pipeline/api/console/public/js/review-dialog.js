import { api } from './api.js';
import { DIMENSIONS } from './association.js';
import { absTime, fmtNumber, h, kv, showDialog, toast } from './dom.js';
import { credentialCounts } from './endpoint-facts.js';

/** @typedef {import('./association.js').Label} Label */
/**
 * @typedef {object} ApiEntry
 * @property {string} id
 * @property {string} service
 * @property {string} method
 * @property {string} route
 * @property {string} state
 * @property {number} firstSeen
 * @property {number} lastSeen
 * @property {number} count
 * @property {string[]} [hosts]
 * @property {string[]} [callers]
 * @property {string[]} [params]
 * @property {Record<string, number>} [statusMix]
 * @property {{ token: number, mtls: number, key: number, none: number }} [auth]
 * @property {string | null} [catalogueId]
 * @property {Record<string, Label>} labels
 * @property {Partial<Record<'credential' | 'personal' | 'payment', string[]>>} [sensitive] parameter names that say
 *   they carry such a datum
 * @property {EndpointRisk} [risk] its risk score, level and factors (largest first)
 */
/**
 * @typedef {object} EndpointRisk
 * @property {number} score 0 to 100
 * @property {'low' | 'medium' | 'high'} level
 * @property {{ factor: string, points: number, detail: string }[]} factors
 */

/**
 * What traffic showed of an endpoint, for its reviewer: calls and status classes, when, from which hosts and callers,
 * with which parameter names, and its catalogue entry.
 * @param {ApiEntry} e
 */
function evidenceOf(e) {
  const list = (/** @type {string[] | undefined} */ xs) => (xs?.length ? xs.join(', ') : '–');
  const status = Object.entries(e.statusMix ?? {})
    .sort()
    .map(([cls, n]) => `${cls} ${fmtNumber(n)}`)
    .join(' · ');
  return h(
    'dl',
    { class: 'kv evidence' },
    kv('Calls', `${fmtNumber(e.count)}${status ? ` (${status})` : ''}`),
    kv('Seen', `${absTime(e.firstSeen)} – ${absTime(e.lastSeen)}`),
    kv('Hosts', list(e.hosts)),
    kv('Callers', list(e.callers)),
    kv('Params', list(e.params)),
    e.auth ? kv('Credentials', `${credentialCounts(e.auth) || '–'} (accepted)`) : null,
    e.catalogueId ? kv('Catalogue', h('code', null, e.catalogueId)) : null,
  );
}

/**
 * Asks for the confirmed or corrected label values. Resolves with `{ dim: value }` or null when cancelled.
 * @param {ApiEntry} e
 * @returns {Promise<Record<string, string> | null>}
 */
async function reviewDialog(e) {
  const dims = [...new Set([...Object.keys(e.labels ?? {}), ...DIMENSIONS])];
  const inputs = dims.map((dim) => {
    const l = e.labels?.[dim];
    return h('input', {
      id: `review-${dim}`,
      name: dim,
      value: l && l.value !== 'unassigned' ? l.value : '',
      placeholder: l?.candidate ?? '',
      autocomplete: 'off',
    });
  });
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: 'review-title' }, 'Review ', h('code', null, `${e.method} ${e.route}`)),
    h('p', { class: 'muted small' }, `${e.service} · leave a field empty to leave that label unset.`),
    evidenceOf(e),
    dims.map((dim, i) => {
      const l = e.labels?.[dim];
      return h(
        'div',
        { class: 'field' },
        h(
          'label',
          { for: `review-${dim}`, class: 'field-label' },
          dim,
          l
            ? h(
                'span',
                { class: 'muted small' },
                l.value === 'unassigned'
                  ? ` (unassigned${l.candidate ? `; best class ${l.candidate}` : ''}, ${Math.round(l.probability * 100)} %)`
                  : ` (predicted ${l.value}, ${Math.round(l.probability * 100)} %)`,
              )
            : null,
        ),
        inputs[i],
        l && (l.because?.length || l.neighbours?.length)
          ? h(
              'p',
              { class: 'muted small why' },
              [
                l.because?.length ? `because ${l.because.join(', ')}` : '',
                l.neighbours?.length ? `neighbours ${l.neighbours.slice(0, 5).join(', ')}` : '',
              ]
                .filter(Boolean)
                .join(' · '),
            )
          : null,
      );
    }),
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn ghost', value: 'cancel' }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary' }, 'Confirm labels'),
    ),
  );
  /** @type {Record<string, string>} */
  const result = {};
  form.addEventListener('submit', () => {
    for (const input of inputs) if (input.value.trim()) result[input.name] = input.value.trim();
  });
  await showDialog(form, { labelledBy: 'review-title', focus: inputs[0] });
  return Object.keys(result).length ? result : null;
}

/**
 * An analyst's review of an inventory entry: the dialog, then `POST /v1/inventory/:id/review` (every correlator learns
 * the labels). Resolves with the entry as the server returns it, or null when cancelled or refused (said in a toast).
 * @param {ApiEntry} e
 * @returns {Promise<ApiEntry | null>}
 */
export async function reviewEntry(e) {
  const chosen = await reviewDialog(e);
  if (!chosen) return null;
  try {
    const updated = await api(`v1/inventory/${encodeURIComponent(e.id)}/review`, {
      method: 'POST',
      body: { labels: chosen },
    });
    toast(`Reviewed ${e.method} ${e.route}`, 'ok');
    return updated && typeof updated === 'object' && 'id' in updated
      ? /** @type {ApiEntry} */ (updated)
      : { ...e, state: 'reviewed' };
  } catch (err) {
    toast(`Review failed: ${/** @type {Error} */ (err).message}`, 'error');
    return null;
  }
}
