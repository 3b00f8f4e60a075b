import { api, query } from '../api.js';
import { labelChip } from '../association.js';
import { fmtNumber, h, pageLayout, replace, stateBadge, timeEl, toast } from '../dom.js';
import { pagedTable } from '../paged-table.js';
import { CREDENTIALS, credentialCounts, reviewEntry } from '../review-dialog.js';
import { can } from '../state.js';

/** @typedef {import('../review-dialog.js').ApiEntry} ApiEntry */

const STATES = ['new', 'shadow', 'zombie', 'catalogued', 'reviewed'];

/**
 * The API inventory: endpoints seen in traffic with their catalogue state and predicted labels, which an analyst
 * confirms or corrects.
 * @param {HTMLElement} main
 * @param {URLSearchParams} params `state`, `service`, `anonymous`
 */
export function renderInventory(main, params) {
  const state = params.get('state') ?? '';
  const service = params.get('service') ?? '';
  // only endpoints that answered a call carrying no credential
  const anonymous = params.get('anonymous') === 'true' ? 'true' : '';
  /** the inventory's address with these filters changed */
  const href = (/** @type {Record<string, string>} */ over) =>
    `#/inventory${query({ state, service, anonymous, ...over })}`;
  const filter = h(
    'select',
    { id: 'inv-state', 'aria-label': 'State' },
    h('option', { value: '' }, 'all states'),
    STATES.map((s) => h('option', { value: s, selected: s === state }, s)),
  );
  filter.addEventListener('change', () => {
    location.hash = href({ state: filter.value });
  });
  const authFilter = h(
    'select',
    { id: 'inv-auth', 'aria-label': 'Auth' },
    h('option', { value: '' }, 'any credentials'),
    h('option', { value: 'true', selected: anonymous === 'true' }, 'answers anonymous calls'),
  );
  authFilter.addEventListener('change', () => {
    location.hash = href({ anonymous: authFilter.value });
  });
  // one service's endpoints: a chip to clear the filter, and the OpenAPI document of what traffic showed of it
  const serviceTools = service
    ? h(
        'div',
        { class: 'field inline' },
        h(
          'a',
          { class: 'label-chip', href: href({ service: '' }), title: 'Show every service' },
          h('span', { class: 'dim' }, 'service'),
          ` ${service} ✕`,
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'btn small',
            title: `The ${state ? `${state} ` : ''}endpoints of ${service} as an OpenAPI 3.0 document, to review and add to the catalogue`,
            onclick: () => void downloadOpenApi(service, state),
          },
          'Download OpenAPI',
        ),
      )
    : null;
  const what = `${state ? `${state} ` : ''}APIs${service ? ` of ${service}` : ''}${anonymous ? ' answering anonymous calls' : ''}`;
  const list = pagedTable({
    headers: ['State', 'Method', 'Route', 'Service', 'Calls', 'Auth', 'First seen', 'Last seen', 'Labels', ''],
    class: 'inventory',
    caption: 'API inventory',
    fetchPage: (cursor) => api(`v1/inventory${query({ state, service, anonymous, cursor })}`),
    row,
    empty: state || service || anonymous ? `No ${what}.` : 'No APIs discovered yet.',
    notFound: 'The API inventory is not enabled on this server.',
    what: 'inventory',
  });
  replace(
    main,
    pageLayout(
      'API inventory',
      [
        h('a', { href: '#/inventory/coverage', class: 'btn small' }, 'Catalogue coverage'),
        serviceTools,
        h('div', { class: 'field inline' }, h('label', { for: 'inv-auth', class: 'field-label' }, 'Auth'), authFilter),
        h('div', { class: 'field inline' }, h('label', { for: 'inv-state', class: 'field-label' }, 'State'), filter),
      ],
      h(
        'p',
        { class: 'muted small' },
        'shadow: called but not in the catalogue · zombie: deprecated in the catalogue but still called · labels are predicted from catalogue neighbours; confirm or correct them.',
      ),
      list.view,
    ),
  );

  /** @param {ApiEntry} e */
  function row(e) {
    const tr = h(
      'tr',
      { 'data-entry': e.id, class: `inv-${e.state}` },
      h('td', null, stateBadge(e.state)),
      h('td', null, h('span', { class: `method method-${e.method.toLowerCase()}` }, e.method)),
      h('td', { class: 'path' }, h('code', null, e.route)),
      h('td', null, h('a', { href: href({ service: e.service }), title: `Only ${e.service}` }, e.service)),
      h('td', { class: 'num' }, fmtNumber(e.count)),
      h('td', { class: 'auth' }, authOf(e)),
      h('td', null, timeEl(e.firstSeen)),
      h('td', null, timeEl(e.lastSeen)),
      h('td', { class: 'labels' }, labelsOf(e)),
      h(
        'td',
        { class: 'actions' },
        can('responder')
          ? h(
              'button',
              {
                type: 'button',
                class: 'btn small',
                'aria-label': `Review ${e.method} ${e.route}`,
                onclick: () => review(e, tr),
              },
              'Review',
            )
          : null,
      ),
    );
    return tr;
  }

  /**
   * @param {ApiEntry} e
   * @param {HTMLTableRowElement} tr
   */
  async function review(e, tr) {
    const updated = await reviewEntry(e);
    if (updated) tr.replaceWith(row(updated));
  }

  return list.stop;
}

/**
 * saves the OpenAPI document of a service's endpoints (of one state, when given) as `<service>.openapi.json`
 * @param {string} service
 * @param {string} state
 */
async function downloadOpenApi(service, state) {
  try {
    const doc = await api(`v1/inventory/openapi${query({ service, state })}`);
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
    const a = h('a', { href: url, download: `${service}${state ? `.${state}` : ''}.openapi.json`, hidden: true });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    toast(`Could not export ${service}: ${/** @type {Error} */ (err).message}`, 'error');
  }
}

/** @param {ApiEntry} e */
function labelsOf(e) {
  const entries = Object.entries(e.labels ?? {});
  if (entries.length === 0) return h('span', { class: 'muted' }, '–');
  return entries.map(([dim, l]) => labelChip(dim, l));
}

/**
 * The credentials an endpoint's accepted calls carried, as shares (anonymous first, marked): `none 30% · token 70%`.
 * @param {ApiEntry} e
 */
function authOf(e) {
  const a = e.auth;
  const total = a ? CREDENTIALS.reduce((n, c) => n + a[c], 0) : 0;
  if (!a || total === 0) return h('span', { class: 'dim', title: 'no accepted call yet' }, '–');
  const parts = CREDENTIALS.filter((c) => a[c] > 0).map((c) => {
    const pct = Math.round((a[c] / total) * 100);
    return h('span', { class: c === 'none' ? 'auth-none' : null }, `${c} ${pct === 0 ? '<1' : pct}%`);
  });
  return h(
    'span',
    { title: `accepted calls by credential: ${credentialCounts(a)}` },
    parts.flatMap((p, i) => (i ? [' · ', p] : [p])),
  );
}
