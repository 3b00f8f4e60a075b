import { api, query } from '../api.js';
import { labelChip } from '../association.js';
import { fmtNumber, h, markSorted, pageLayout, replace, sortHead, stateBadge, timeEl, toast } from '../dom.js';
import { pagedTable } from '../paged-table.js';
import { authOf, DATA_KINDS, dataOf, riskOf } from '../endpoint-facts.js';
import { entrySelection } from '../entry-selection.js';
import { reviewEntry } from '../review-dialog.js';
import { can } from '../state.js';

/** @typedef {import('../review-dialog.js').ApiEntry} ApiEntry */

const STATES = ['new', 'shadow', 'zombie', 'catalogued', 'reviewed'];
/** "first seen within": the option, its label, its span */
const NEW_WITHIN = [
  ['1d', 'last 24 hours', 86_400_000],
  ['7d', 'last 7 days', 7 * 86_400_000],
  ['30d', 'last 30 days', 30 * 86_400_000],
];
/**
 * "last seen": the option, its label, the API's bound (called after, or not since, now minus the span), the span, and
 * how the list names it: what is active, and what has gone quiet (api_discovery forgets an endpoint after
 * forget_endpoints_after_days)
 */
const LAST_SEEN = [
  ['1h', 'in the last hour', 'last_seen_after', 3_600_000, 'called in the last hour'],
  ['1d', 'in the last 24 hours', 'last_seen_after', 86_400_000, 'called in the last 24 hours'],
  ['quiet-1d', 'not for 24 hours', 'last_seen_before', 86_400_000, 'not called for 24 hours'],
  ['quiet-7d', 'not for 7 days', 'last_seen_before', 7 * 86_400_000, 'not called for 7 days'],
  ['quiet-30d', 'not for 30 days', 'last_seen_before', 30 * 86_400_000, 'not called for 30 days'],
];

/**
 * "min risk": the options (the API's min_risk) and their labels, from the levels the server scores with
 * (api.inventory_risk; the defaults until its first answer), and the one in the address if it is another score
 * @param {{ medium: number, high: number }} levels
 * @param {string} current
 * @returns {string[][]}
 */
const minRiskOptions = (levels, current) => {
  const options = [
    ['', 'any'],
    [String(levels.medium), `medium or high (${levels.medium}+)`],
    [String(levels.high), `high (${levels.high}+)`],
  ];
  if (current && !options.some(([v]) => v === current)) options.push([current, `${current} or more`]);
  return options;
};
const DEFAULT_RISK_LEVELS = { medium: 30, high: 60 };
/** the columns a click sorts the inventory by (the API's `sort`): riskiest first, or most recently called first */
const SORTABLE = /** @type {Record<string, string>} */ ({ Risk: 'risk', 'Last seen': '' });

/**
 * The API inventory: endpoints seen in traffic with their catalogue state and predicted labels, which an analyst
 * confirms or corrects.
 * @param {HTMLElement} main
 * @param {URLSearchParams} params `state`, `service`, `anonymous`, `sensitive` (a data kind or any), `new` (first seen
 *   within: 1d, 7d, 30d), `seen` (last seen: 1h, 1d, or not since: quiet-1d, quiet-7d, quiet-30d), `q` (route contains),
 *   `min_risk` (a score, 1-100; offered: the levels' thresholds), `sort` (risk: riskiest first; else most recently called first)
 */
export function renderInventory(main, params) {
  const state = params.get('state') ?? '';
  const service = params.get('service') ?? '';
  // only endpoints that answered a call carrying no credential
  const anonymous = params.get('anonymous') === 'true' ? 'true' : '';
  const sensitive = ['any', ...DATA_KINDS].includes(params.get('sensitive') ?? '')
    ? String(params.get('sensitive'))
    : '';
  const within = NEW_WITHIN.find(([v]) => v === params.get('new'));
  const seen = LAST_SEEN.find(([v]) => v === params.get('seen'));
  const text = (params.get('q') ?? '').trim().slice(0, 200);
  // a score from 1 to 100 (the options offer the levels' thresholds)
  const asked = Number(params.get('min_risk'));
  const minRisk = Number.isInteger(asked) && asked >= 1 && asked <= 100 ? String(asked) : '';
  const sort = params.get('sort') === 'risk' ? 'risk' : '';
  /** the inventory's address with these filters (and order) changed */
  const href = (/** @type {Record<string, string>} */ over) =>
    `#/inventory${query({
      state,
      service,
      anonymous,
      sensitive,
      new: within?.[0],
      seen: seen?.[0],
      q: text,
      min_risk: minRisk,
      sort,
      ...over,
    })}`;
  /** the API's query for these filters (first or last seen within a span, or not since: now minus it) */
  const apiQuery = () => ({
    state,
    service,
    anonymous,
    sensitive,
    q: text,
    min_risk: minRisk,
    sort: sort || undefined,
    first_seen_after: within ? Date.now() - Number(within[2]) : undefined,
    ...(seen ? { [seen[2]]: Date.now() - Number(seen[3]) } : {}),
  });
  /**
   * a select of the page head showing `current`; choosing another option shows the inventory with `param` set to it
   * @param {string} id
   * @param {string} param
   * @param {string} current
   * @param {string[][]} options value and label of each
   */
  const filterSelect = (id, param, current, options) => {
    const select = /** @type {HTMLSelectElement} */ (
      h(
        'select',
        { id },
        options.map(([value, label]) => h('option', { value, selected: value === current }, label)),
      )
    );
    select.addEventListener('change', () => {
      location.hash = href({ [param]: select.value });
    });
    return select;
  };
  const filter = filterSelect('inv-state', 'state', state, [['', 'all states'], ...STATES.map((s) => [s, s])]);
  const authFilter = filterSelect('inv-auth', 'anonymous', anonymous, [
    ['', 'any credentials'],
    ['true', 'answers anonymous calls'],
  ]);
  const dataFilter = filterSelect('inv-data', 'sensitive', sensitive, [
    ['', 'any parameters'],
    ['any', 'any sensitive'],
    ...DATA_KINDS.map((k) => [k, k]),
  ]);
  const newFilter = filterSelect('inv-new', 'new', String(within?.[0] ?? ''), [
    ['', 'any time'],
    ...NEW_WITHIN.map(([v, label]) => [String(v), String(label)]),
  ]);
  const seenFilter = filterSelect('inv-seen', 'seen', String(seen?.[0] ?? ''), [
    ['', 'any time'],
    ...LAST_SEEN.map(([v, label]) => [String(v), String(label)]),
  ]);
  const riskFilter = filterSelect('inv-risk', 'min_risk', minRisk, minRiskOptions(DEFAULT_RISK_LEVELS, minRisk));
  /** the options once the server said its levels */
  const riskLevelsKnown = (/** @type {{ medium: number, high: number } | undefined} */ levels) => {
    if (!levels) return;
    riskFilter.replaceChildren(
      ...minRiskOptions(levels, minRisk).map(([value, label]) =>
        h('option', { value, selected: value === minRisk }, label),
      ),
    );
  };
  const search = /** @type {HTMLInputElement} */ (
    h('input', { id: 'inv-q', type: 'search', value: text, placeholder: '/users', maxlength: 200, autocomplete: 'off' })
  );
  search.addEventListener('change', () => {
    location.hash = href({ q: search.value.trim() });
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
  const what = [
    `${state ? `${state} ` : ''}APIs`,
    service ? ` of ${service}` : '',
    anonymous ? ' answering anonymous calls' : '',
    sensitive ? ` with ${sensitive === 'any' ? 'sensitive' : sensitive} parameters` : '',
    within ? ` first seen in the ${within[1]}` : '',
    seen ? ` ${seen[4]}` : '',
    text ? ` whose route contains ${text}` : '',
    minRisk ? ` with a risk of ${minRisk} or more` : '',
  ].join('');
  const filtered = Boolean(state || service || anonymous || sensitive || within || seen || text || minRisk);
  const selection = can('responder')
    ? entrySelection({
        onReviewed: (entries) => {
          for (const e of entries) document.querySelector(`tr[data-entry="${CSS.escape(e.id)}"]`)?.replaceWith(row(e));
        },
      })
    : null;
  const list = pagedTable({
    headers: [
      ...(selection ? [''] : []),
      headCell('Risk'),
      'State',
      'Method',
      'Route',
      'Service',
      'Calls',
      'Auth',
      'Data',
      'First seen',
      headCell('Last seen'),
      'Labels',
      '',
    ],
    class: 'inventory',
    caption: sort ? 'API inventory, riskiest first' : 'API inventory, most recently called first',
    fetchPage: async (cursor) => {
      const r = await api(`v1/inventory${query({ ...apiQuery(), cursor })}`);
      if (!cursor) riskLevelsKnown(r.riskLevels);
      return r;
    },
    row,
    empty: filtered ? `No ${what}.` : 'No APIs discovered yet.',
    notFound: 'The API inventory is not enabled on this server.',
    what: 'inventory',
  });
  const layout = pageLayout(
    'API inventory',
    [
      h('a', { href: '#/inventory/coverage', class: 'btn small' }, 'Catalogue coverage'),
      serviceTools,
      inlineField('inv-q', 'Route', search),
      inlineField('inv-new', 'First seen', newFilter),
      inlineField('inv-seen', 'Last seen', seenFilter),
      inlineField('inv-data', 'Data', dataFilter),
      inlineField('inv-auth', 'Auth', authFilter),
      inlineField('inv-state', 'State', filter),
      inlineField('inv-risk', 'Min risk', riskFilter),
    ],
    h(
      'p',
      { class: 'muted small' },
      'shadow: called but not in the catalogue · zombie: deprecated in the catalogue but still called · risk: 0–100 from what the endpoint exposes (its tooltip says why; Risk sorts riskiest first) · labels are predicted from catalogue neighbours; confirm or correct them.',
    ),
    selection?.bar,
    list.view,
  );
  layout.classList.add('inventory-page');
  replace(main, layout);

  /**
   * a column's head that sorts the inventory by it (highest first), marked when it is the order shown
   * @param {string} label
   */
  function headCell(label) {
    const by = SORTABLE[label];
    const active = by === sort;
    const th = sortHead(label, by, () => {
      if (!active) location.hash = href({ sort: by });
    });
    markSorted(th, active);
    /** @type {HTMLButtonElement} */ (th.querySelector('button')).title =
      by === 'risk' ? 'Riskiest first, then most recently called' : 'Most recently called first';
    return th;
  }

  /** @param {ApiEntry} e */
  function row(e) {
    const tr = h(
      'tr',
      { 'data-entry': e.id, class: `inv-${e.state}` },
      selection?.cell(e),
      h('td', { class: 'risk' }, riskOf(e)),
      h('td', null, stateBadge(e.state)),
      h('td', null, h('span', { class: `method method-${e.method.toLowerCase()}` }, e.method)),
      h('td', { class: 'path' }, h('code', null, e.route)),
      h('td', null, h('a', { href: href({ service: e.service }), title: `Only ${e.service}` }, e.service)),
      h('td', { class: 'num' }, fmtNumber(e.count)),
      h('td', { class: 'auth' }, authOf(e)),
      h('td', { class: 'data' }, dataOf(e)),
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

/**
 * a filter of the page head: its label and control
 * @param {string} id
 * @param {string} label
 * @param {HTMLElement} control
 */
function inlineField(id, label, control) {
  return h('div', { class: 'field inline' }, h('label', { for: id, class: 'field-label' }, label), control);
}

/** @param {ApiEntry} e */
function labelsOf(e) {
  const entries = Object.entries(e.labels ?? {});
  if (entries.length === 0) return h('span', { class: 'muted' }, '–');
  return entries.map(([dim, l]) => labelChip(dim, l));
}
