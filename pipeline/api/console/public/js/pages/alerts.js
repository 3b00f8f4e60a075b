import { api, query } from '../api.js';
import {
  confirmDialog,
  h,
  markSorted,
  pageLayout,
  placeholder,
  replace,
  SEVERITIES,
  sortHead,
  severityBadge,
  stateBadge,
  timeEl,
  toast,
} from '../dom.js';
import { alertSelection } from '../alert-selection.js';
import { ownerName } from '../alert-owner.js';
import { highlightNew, keepHighlight, placeBefore } from '../live-rows.js';
import { subjectLink } from '../subject-link.js';
import { can, live, session } from '../state.js';

/** @typedef {import('../state.js').Alert} Alert */
/** @typedef {{ kind: string, min_severity: string, service: string, state: string, owner: string, triage: string, sort: string }} Filter */

const DEFAULT_PAGE_SIZE = 50;

/**
 * the orders the API sorts the open or acknowledged queue in (`sort`), each highest first, then newest, then by id;
 * '' is its default, newest first (last seen), for any state
 * @type {Record<string, (a: Alert) => number>}
 */
const SORT_KEYS = {
  severity: (a) => SEVERITIES.indexOf(a.severity),
  count: (a) => a.count,
  first_seen: (a) => a.firstSeen,
};
/** the columns a click sorts the queue by */
const SORTABLE = /** @type {Record<string, string>} */ ({
  Severity: 'severity',
  Count: 'count',
  'First seen': 'first_seen',
  'Last seen': '',
});
/** @param {string} state */
const sortableState = (state) => state === 'open' || state === 'acknowledged';

/**
 * whether `a` comes before `b` in the queue sorted by `sort`, as the server sorts it
 * @param {Alert} a
 * @param {Alert} b
 * @param {string} sort
 */
function comesBefore(a, b, sort) {
  const key = SORT_KEYS[sort];
  const d = key(a) - key(b) || a.lastSeen - b.lastSeen;
  return d !== 0 ? d > 0 : a.id > b.id;
}

/**
 * Does a live alert belong in the filtered queue? Mirrors the server's filter.
 * @param {Alert} a
 * @param {Filter} f
 */
function matches(a, f) {
  if (f.kind && a.kind !== f.kind) return false;
  if (f.min_severity && SEVERITIES.indexOf(a.severity) < SEVERITIES.indexOf(f.min_severity)) return false;
  if (f.service && a.service !== f.service) return false;
  if (f.state && a.state !== f.state) return false;
  if (f.owner === 'me' && a.assignee !== session.me?.id) return false;
  if (f.owner === 'none' && a.assignee !== undefined) return false;
  if (f.triage === 'untriaged' && a.triagedAt !== undefined) return false;
  return true;
}

/**
 * the API's query for a filter: the owner `me` is the signed-in analyst, `none` nobody
 * @param {Filter} f
 */
function apiFilter(f) {
  const { owner, triage, ...rest } = f;
  return {
    ...rest,
    assignee: owner === 'me' ? session.me?.id : undefined,
    unassigned: owner === 'none' ? 'true' : undefined,
    untriaged: triage === 'untriaged' ? 'true' : undefined,
  };
}

/**
 * The alert queue: filters, cursor paging, live updates from the alert stream (new alerts at the top, highlighted; in
 * a queue sorted by a column, where they sort). Column heads sort the open or acknowledged queue by severity, count
 * or first seen (`sort`, each highest first, then newest). Keys: j / k move between alerts, x selects one
 * (responders: bulk triage), Enter opens one.
 * @param {HTMLElement} main
 * @param {URLSearchParams} params
 */
export function renderAlerts(main, params) {
  /** @type {Filter} */
  const filter = {
    kind: params.get('kind') ?? '',
    min_severity: params.get('min_severity') ?? '',
    service: params.get('service') ?? '',
    // the default queue is the open work; `any` (stored as '') shows every state
    state: (params.get('state') ?? 'open').replace(/^any$/, ''),
    owner: ['me', 'none'].includes(params.get('owner') ?? '') ? String(params.get('owner')) : '',
    // untriaged: alerts nobody has acted on, also those the correlators resolved once quiet (state any)
    triage: params.get('triage') === 'untriaged' ? 'untriaged' : '',
    sort: '',
  };
  // another order than the newest first is the open or acknowledged queue's (the API sorts those whole)
  const asked = params.get('sort') ?? '';
  if (asked in SORT_KEYS && sortableState(filter.state)) filter.sort = asked;
  session.queue = location.hash || '#/alerts';
  const askedSize = Number(params.get('limit'));
  const pageSize = Number.isInteger(askedSize) && askedSize >= 1 && askedSize <= 500 ? askedSize : DEFAULT_PAGE_SIZE;
  /** @type {Map<string, HTMLTableRowElement>} */
  const rows = new Map();
  /** @type {Map<string, Alert>} the alert each row shows (where a live change puts it, in a sorted queue) */
  const shown = new Map();
  /** @type {string | undefined} */
  let next;
  let generation = 0;
  const tbody = h('tbody');
  const caption = h('caption', { class: 'sr-only' });
  const status = h('div', { class: 'table-status' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  const count = h('span', { class: 'muted' });
  const selection = can('responder')
    ? alertSelection({
        shownIds: () => [...rows.keys()],
        onChanged: (changed) => {
          for (const a of changed) upsertRow(a, false);
        },
        canReopen: () => filter.state !== 'open',
      })
    : null;

  const thead = h(
    'thead',
    null,
    h(
      'tr',
      null,
      selection?.headCell(),
      ['Severity', 'Alert', 'Service', 'Subject', 'Count', 'First seen', 'Last seen', 'State', 'Owner', ''].map(
        headCell,
      ),
    ),
  );
  syncSortHeads();

  const kindList = h('datalist', { id: 'kind-options' });
  const serviceList = h('datalist', { id: 'service-options' });
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter alerts' },
    field(
      'Kind',
      h('input', {
        id: 'f-kind',
        name: 'kind',
        list: 'kind-options',
        value: filter.kind,
        placeholder: 'any',
        autocomplete: 'off',
      }),
    ),
    field(
      'Severity',
      h(
        'select',
        { id: 'f-min_severity', name: 'min_severity' },
        h('option', { value: '' }, 'any'),
        SEVERITIES.slice()
          .reverse()
          .map((s) =>
            h(
              'option',
              { value: s, selected: filter.min_severity === s },
              s === 'critical' ? 'critical' : `${s} and above`,
            ),
          ),
      ),
    ),
    field(
      'Service',
      h('input', {
        id: 'f-service',
        name: 'service',
        list: 'service-options',
        value: filter.service,
        placeholder: 'any',
        autocomplete: 'off',
      }),
    ),
    field(
      'State',
      h(
        'select',
        { id: 'f-state', name: 'state' },
        ['', 'open', 'acknowledged', 'resolved'].map((s) =>
          h('option', { value: s, selected: filter.state === s }, s || 'any'),
        ),
      ),
    ),
    field(
      'Owner',
      h(
        'select',
        { id: 'f-owner', name: 'owner' },
        [
          ['', 'anyone'],
          ['me', 'me'],
          ['none', 'nobody'],
        ].map(([v, label]) => h('option', { value: v, selected: filter.owner === v }, label)),
      ),
    ),
    field(
      'Triaged',
      h(
        'select',
        { id: 'f-triage', name: 'triage' },
        [
          ['', 'any'],
          ['untriaged', 'not yet'],
        ].map(([v, label]) => h('option', { value: v, selected: filter.triage === v }, label)),
      ),
    ),
    h('button', { type: 'submit', class: 'btn' }, 'Apply'),
    kindList,
    serviceList,
  );
  form.addEventListener('change', (e) => {
    if (/** @type {HTMLElement} */ (e.target).tagName === 'SELECT') form.requestSubmit();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    for (const k of /** @type {(keyof Filter)[]} */ (['kind', 'min_severity', 'service', 'state', 'owner', 'triage']))
      filter[k] = String(data.get(k) ?? '').trim();
    if (!sortableState(filter.state)) filter.sort = '';
    reload();
  });

  /** keeps the filter and order in the address (shareable, survives reload) without re-rendering the page, and loads */
  function reload() {
    const limit = pageSize === DEFAULT_PAGE_SIZE ? undefined : pageSize;
    history.replaceState(
      null,
      '',
      `#/alerts${query({
        ...filter,
        state: filter.state || 'any',
        owner: filter.owner || undefined,
        triage: filter.triage || undefined,
        sort: filter.sort || undefined,
        limit,
      })}`,
    );
    session.queue = location.hash;
    syncSortHeads();
    void load(true);
  }

  /**
   * a column's head: a button sorting the queue by it where it can be (highest first, then newest)
   * @param {string} label
   */
  function headCell(label) {
    if (!(label in SORTABLE)) return h('th', { scope: 'col' }, label);
    const sort = SORTABLE[label];
    return sortHead(label, sort, () => {
      if (filter.sort === sort) return;
      filter.sort = sort;
      reload();
    });
  }

  /** the heads say which order is shown; orders other than newest first need the open or acknowledged queue */
  function syncSortHeads() {
    for (const th of thead.querySelectorAll('th.sortable')) {
      const sort = /** @type {HTMLElement} */ (th).dataset.sort ?? '';
      markSorted(th, sort === filter.sort);
      const button = /** @type {HTMLButtonElement} */ (th.querySelector('button'));
      button.disabled = sort !== '' && !sortableState(filter.state);
      button.title = button.disabled
        ? 'Sorting by this column needs the open or acknowledged queue (State)'
        : `Sort by ${button.firstChild?.textContent?.toLowerCase()}, highest first, then newest`;
    }
    caption.textContent = filter.sort
      ? `Alerts by ${filter.sort.replace('_', ' ')}, highest first, then newest`
      : 'Alerts, newest first';
  }

  replace(
    main,
    pageLayout(
      'Alert queue',
      [count, h('a', { href: '#/alerts/silences', class: 'btn small' }, 'Silences')],
      form,
      selection?.bar,
      h('table', { class: 'grid alerts', 'aria-describedby': 'queue-help' }, caption, thead, tbody),
      status,
      h(
        'div',
        { class: 'table-foot' },
        more,
        h(
          'span',
          { id: 'queue-help', class: 'muted small' },
          selection
            ? 'j / k to move, x to select, Enter to open; a column head sorts the queue; new alerts appear where it puts them.'
            : 'j / k to move, Enter to open; a column head sorts the queue; new alerts appear where it puts them.',
        ),
      ),
    ),
  );

  /** @param {Alert} a */
  function row(a) {
    const ack =
      can('responder') && a.state === 'open'
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn small',
              'aria-label': `Acknowledge: ${a.summary}`,
              onclick: async (/** @type {Event} */ e) => {
                e.stopPropagation();
                const comment = await confirmDialog({
                  title: 'Acknowledge alert',
                  message: a.summary,
                  confirmLabel: 'Acknowledge',
                  comment: 'optional',
                });
                if (comment === null) return;
                try {
                  upsertRow(
                    await api(`v1/alerts/${encodeURIComponent(a.id)}/acknowledge`, {
                      method: 'POST',
                      body: comment ? { comment } : {},
                    }),
                    false,
                  );
                  toast('Alert acknowledged', 'ok');
                } catch (err) {
                  toast(`Acknowledge failed: ${/** @type {Error} */ (err).message}`, 'error');
                }
              },
            },
            'Ack',
          )
        : null;
    const tr = h(
      'tr',
      { class: `alert-row sev-edge-${a.severity}`, 'data-id': a.id, tabindex: -1 },
      selection?.cell(a),
      h('td', null, severityBadge(a.severity)),
      h(
        'td',
        { class: 'summary-cell' },
        h('a', { href: `#/alerts/${encodeURIComponent(a.id)}`, class: 'alert-link' }, a.summary),
        h(
          'div',
          { class: 'muted small' },
          a.kind,
          a.folded?.length
            ? h('span', { class: 'folded-count' }, ` · also affected: ${a.folded.map((f) => f.service).join(', ')}`)
            : null,
        ),
      ),
      h('td', null, a.service, a.endpoint ? h('div', null, h('code', { class: 'small' }, a.endpoint)) : null),
      h('td', null, a.subject ? subjectLink(a.subject, 'muted small', a.endpoint) : h('span', { class: 'muted' }, '–')),
      h('td', { class: 'num' }, a.count),
      h('td', null, timeEl(a.firstSeen)),
      h('td', null, timeEl(a.lastSeen)),
      h('td', null, stateBadge(a.state)),
      h('td', { class: 'owner' }, a.assignee ? ownerName(a.assignee) : h('span', { class: 'muted' }, '–')),
      h('td', { class: 'actions' }, ack),
    );
    tr.addEventListener('click', (e) => {
      if (!(/** @type {HTMLElement} */ (e.target).closest('a, button, td.select')))
        location.hash = `#/alerts/${encodeURIComponent(a.id)}`;
    });
    return tr;
  }

  /** @param {string} id */
  function dropRow(id) {
    rows.get(id)?.remove();
    rows.delete(id);
    shown.delete(id);
    selection?.forget(id);
    updateCount();
  }

  /**
   * a row where the queue's order puts it: before the first row it comes before, else last when every page is loaded
   * (false: it belongs to a page not loaded yet)
   * @param {HTMLTableRowElement} tr
   * @param {Alert} a
   */
  function placeSorted(tr, a) {
    const placed = placeBefore(tbody, tr, (other) => {
      const b = shown.get(other.dataset.id ?? '');
      return b !== undefined && b.id !== a.id && comesBefore(a, b, filter.sort);
    });
    if (placed) return true;
    if (next) return false;
    tbody.appendChild(tr);
    return true;
  }

  /**
   * @param {Alert} a
   * @param {boolean} fresh a new alert from the stream: goes to the top (in a sorted queue, where it sorts), highlighted
   * @param {boolean} [fromPage] one of a page the API sent, in the queue's order: goes last
   */
  function upsertRow(a, fresh, fromPage = false) {
    const existing = rows.get(a.id);
    if (!matches(a, filter)) {
      if (existing) dropRow(a.id);
      return;
    }
    const tr = row(a);
    keepHighlight(existing, tr);
    if (filter.sort && !fromPage) {
      // a change may move it: it goes where its new values sort, or off the pages loaded
      existing?.remove();
      if (!placeSorted(tr, a)) {
        if (existing) dropRow(a.id);
        return;
      }
    } else if (existing) existing.replaceWith(tr);
    else if (fresh) tbody.prepend(tr);
    else tbody.appendChild(tr);
    if (fresh && !existing) highlightNew(tr, a);
    rows.set(a.id, tr);
    shown.set(a.id, a);
    status.replaceChildren();
    updateCount();
  }

  function updateCount() {
    count.textContent = `${rows.size}${next ? '+' : ''} shown`;
  }

  /** @param {boolean} reset */
  async function load(reset) {
    const mine = ++generation;
    more.disabled = true;
    if (reset) status.replaceChildren(placeholder('Loading…', 'loading'));
    try {
      const page = await api(
        `v1/alerts${query({ ...apiFilter(filter), limit: pageSize, cursor: reset ? undefined : next })}`,
      );
      if (mine !== generation) return;
      if (reset) {
        tbody.replaceChildren();
        rows.clear();
        shown.clear();
        selection?.clear();
      }
      for (const a of page.items) if (!rows.has(a.id)) upsertRow(a, false, true);
      next = page.next;
      more.hidden = !next;
      status.replaceChildren(rows.size === 0 ? placeholder('No alerts match these filters.') : '');
      for (const a of page.items) addOption(kindList, a.kind);
      updateCount();
      selection?.sync();
    } catch (err) {
      if (mine === generation)
        status.replaceChildren(placeholder(`Could not load alerts: ${/** @type {Error} */ (err).message}`, 'error'));
    } finally {
      more.disabled = false;
    }
  }

  /**
   * After a reconnect: merge the newest page (what arrived while the stream was down is new to this analyst).
   */
  async function catchUp() {
    try {
      const page = await api(`v1/alerts${query({ ...apiFilter(filter), limit: pageSize })}`);
      for (const a of [...page.items].reverse()) upsertRow(a, !rows.has(a.id));
    } catch {
      // the next reconnect tries again
    }
  }

  more.addEventListener('click', () => void load(false));
  const onAlert = (/** @type {Event} */ e) => upsertRow(/** @type {CustomEvent<Alert>} */ (e).detail, true);
  const onOpen = (/** @type {Event} */ e) => {
    // the first open races the initial load, which already has everything
    if (/** @type {CustomEvent<{ reconnect: boolean }>} */ (e).detail.reconnect) void catchUp();
  };
  live.addEventListener('alert', onAlert);
  live.addEventListener('stream-open', onOpen);

  const onKey = (/** @type {KeyboardEvent} */ e) => {
    const t = /** @type {HTMLElement} */ (e.target);
    if (e.ctrlKey || e.metaKey || e.altKey || t.closest('input, textarea, select, dialog')) return;
    const all = [...tbody.querySelectorAll('tr')];
    if (all.length === 0) return;
    const at = all.indexOf(/** @type {HTMLTableRowElement} */ (document.activeElement));
    if (e.key === 'j' || e.key === 'k') {
      e.preventDefault();
      const i = at < 0 ? 0 : Math.max(0, Math.min(all.length - 1, at + (e.key === 'j' ? 1 : -1)));
      all[i].focus();
    } else if (e.key === 'x' && at >= 0 && selection) {
      e.preventDefault();
      /** @type {HTMLInputElement | null} */ (all[at].querySelector('input.select-alert'))?.click();
    } else if (e.key === 'Enter' && at >= 0) {
      location.hash = `#/alerts/${encodeURIComponent(all[at].dataset.id ?? '')}`;
    }
  };
  document.addEventListener('keydown', onKey);

  void load(true);
  void api('v1/services')
    .then((r) => {
      for (const s of r.items) addOption(serviceList, s.service);
    })
    .catch(() => undefined);
  // the kinds there are, each with what it means (GET /v1/alert-kinds)
  void api('v1/alert-kinds')
    .then((r) => {
      for (const k of r.items) addOption(kindList, k.kind, k.description);
    })
    .catch(() => undefined);

  return () => {
    generation++;
    live.removeEventListener('alert', onAlert);
    live.removeEventListener('stream-open', onOpen);
    document.removeEventListener('keydown', onKey);
  };
}

/**
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement} control
 */
function field(label, control) {
  return h('div', { class: 'field' }, h('label', { for: control.id, class: 'field-label' }, label), control);
}

/**
 * an option of a datalist, once per value; a label given later (what a kind means) is set on the one there
 * @param {HTMLDataListElement} list
 * @param {string} value
 * @param {string} [label]
 */
function addOption(list, value, label = '') {
  for (const o of list.options)
    if (o.value === value) {
      if (label) o.label = label;
      return;
    }
  list.appendChild(h('option', label ? { value, label } : { value }));
}
