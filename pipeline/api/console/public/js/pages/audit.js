import { api, query } from '../api.js';
import { absTime, h, pageLayout, placeholder, replace, shortId } from '../dom.js';

/** @typedef {{ id: string, ts: number, actor: string, action: string, decisionId: string, alertId?: string, adapter?: string, outcome: string, detail: string }} AuditEntry */

const PAGE = 100;

/**
 * The audit trail, newest first, paged back in time with "Load more".
 * @param {HTMLElement} main
 * @param {URLSearchParams} params `decision` restricts to one decision
 */
export function renderAudit(main, params) {
  const decisionId = params.get('decision') ?? '';
  const tbody = h('tbody');
  const status = h('div', { class: 'table-status' }, placeholder('Loading…', 'loading'));
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  const input = h('input', {
    id: 'audit-decision',
    name: 'decision',
    value: decisionId,
    placeholder: 'decision id',
    autocomplete: 'off',
  });
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log' },
    h('div', { class: 'field' }, h('label', { for: 'audit-decision', class: 'field-label' }, 'Decision'), input),
    h('button', { type: 'submit', class: 'btn' }, 'Filter'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/audit${query({ decision: input.value.trim() })}`;
  });
  let gone = false;
  /** @type {string | undefined} */
  let before;
  let shown = 0;
  replace(
    main,
    pageLayout(
      'Audit log',
      [h('span', { class: 'muted small' }, 'newest first')],
      form,
      h(
        'div',
        { class: 'scroll-x' },
        h(
          'table',
          { class: 'grid compact audit' },
          h('caption', { class: 'sr-only' }, 'Audit log'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Time', 'Actor', 'Action', 'Outcome', 'Decision', 'Alert', 'Adapter', 'Detail'].map((x) =>
                h('th', { scope: 'col' }, x),
              ),
            ),
          ),
          tbody,
        ),
      ),
      status,
      h('div', { class: 'table-foot' }, more),
    ),
  );

  /** @param {AuditEntry} e */
  const row = (e) =>
    h(
      'tr',
      { 'data-audit': e.id, 'data-action': e.action },
      h('td', { class: 'nowrap' }, absTime(e.ts)),
      h('td', null, e.actor === 'system' ? h('span', { class: 'muted' }, 'system') : h('strong', null, e.actor)),
      h('td', null, e.action.replaceAll('_', ' ')),
      h('td', null, h('span', { class: `outcome outcome-${e.outcome.replace(/[^a-z_]/g, '')}` }, e.outcome)),
      h('td', null, h('a', { href: `#/audit${query({ decision: e.decisionId })}` }, shortId(e.decisionId))),
      h(
        'td',
        null,
        e.alertId ? h('a', { href: `#/alerts/${encodeURIComponent(e.alertId)}` }, shortId(e.alertId)) : '–',
      ),
      h('td', null, e.adapter ?? '–'),
      h('td', { class: 'detail-text' }, e.detail),
    );

  async function load() {
    more.disabled = true;
    try {
      // newest first: what just happened is on top, and Load more goes back in time
      const r = await api(`v1/audit${query({ order: 'newest', before, limit: PAGE, decisionId })}`);
      if (gone) return;
      /** @type {AuditEntry[]} */
      const entries = r.entries;
      for (const e of entries) tbody.appendChild(row(e));
      shown += entries.length;
      if (r.next) before = r.next;
      // the log answers `next` until a page comes back empty, so a short page is the end for now
      more.hidden = entries.length < PAGE;
      status.replaceChildren(
        shown === 0 ? placeholder(decisionId ? 'No audit entries for this decision.' : 'The audit log is empty.') : '',
      );
    } catch (err) {
      const code = /** @type {{ status?: number }} */ (err).status;
      status.replaceChildren(
        code === 404
          ? placeholder('The policy engine is not enabled on this server.')
          : placeholder(`Could not load the audit log: ${/** @type {Error} */ (err).message}`, 'error'),
      );
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener('click', () => void load());
  void load();
  return () => {
    gone = true;
  };
}
