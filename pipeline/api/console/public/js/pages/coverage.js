import { api, query } from '../api.js';
import { fmtNumber, h, pageLayout, replace, timeEl } from '../dom.js';
import { pagedTable } from '../paged-table.js';

/**
 * @typedef {{ method: string, path: string, deprecated?: boolean }} UnusedEndpoint
 * @typedef {object} EntryCoverage
 * @property {string} id
 * @property {string} name
 * @property {string} [service]
 * @property {boolean} [deprecated]
 * @property {number} endpoints
 * @property {number} seen
 * @property {number} calls
 * @property {number} [lastSeen]
 * @property {UnusedEndpoint[]} unused
 */

/** unused endpoints listed per entry before "… n more" */
const SHOWN_UNUSED = 6;

/**
 * Catalogue coverage: per catalogue entry, how many of its endpoints traffic reached, and which never (documented but
 * unused).
 * @param {HTMLElement} main
 * @param {URLSearchParams} params `unused` (1: only entries with unused endpoints)
 */
export function renderCoverage(main, params) {
  const unusedOnly = params.get('unused') === '1';
  const summary = h('p', { class: 'muted small', id: 'coverage-summary' });
  const toggle = h('input', { type: 'checkbox', id: 'coverage-unused', checked: unusedOnly });
  toggle.addEventListener('change', () => {
    location.hash = `#/inventory/coverage${query({ unused: toggle.checked ? '1' : undefined })}`;
  });
  const list = pagedTable({
    headers: ['Catalogue entry', 'Service', 'Endpoints called', 'Calls', 'Last call', 'Never called'],
    class: 'coverage',
    caption: 'Catalogue coverage',
    fetchPage: async (cursor) => {
      const r = await api(`v1/inventory/coverage${query({ unused: unusedOnly ? 'true' : undefined, cursor })}`);
      const s = r.summary;
      if (s) {
        const pct = s.endpoints ? Math.round((100 * s.seen) / s.endpoints) : 0;
        summary.textContent = `${fmtNumber(s.entries)} catalogue entries · ${fmtNumber(s.endpoints)} endpoints, ${fmtNumber(s.seen)} called (${pct} %) · ${fmtNumber(s.unusedEntries)} ${s.unusedEntries === 1 ? 'entry' : 'entries'} never called. Endpoints never called are documented but unused: retire them, or find the client that has not moved.`;
      }
      return r;
    },
    row,
    empty: unusedOnly ? 'Every catalogued endpoint has been called.' : 'The catalogue is empty.',
    notFound: 'No catalogue is configured on this server (detectors.api_discovery.catalog_files).',
    what: 'coverage',
  });
  replace(
    main,
    pageLayout(
      'Catalogue coverage',
      [
        h('a', { href: '#/inventory', class: 'btn small' }, 'API inventory'),
        h(
          'div',
          { class: 'field inline' },
          toggle,
          h('label', { for: 'coverage-unused', class: 'field-label' }, 'only entries with unused endpoints'),
        ),
      ],
      summary,
      list.view,
    ),
  );

  /** @param {EntryCoverage} c */
  function row(c) {
    const unused = c.unused
      .slice(0, SHOWN_UNUSED)
      .map((u) =>
        h(
          'div',
          { class: 'path' },
          h('span', { class: `method method-${u.method.toLowerCase()}` }, u.method),
          ' ',
          h('code', null, u.path),
          u.deprecated ? h('span', { class: 'muted small' }, ' deprecated') : null,
        ),
      );
    if (c.unused.length > SHOWN_UNUSED)
      unused.push(h('div', { class: 'muted small' }, `… ${c.unused.length - SHOWN_UNUSED} more`));
    return h(
      'tr',
      { 'data-entry': c.id },
      h(
        'td',
        null,
        c.name,
        h('div', { class: 'muted small' }, h('code', null, c.id), c.deprecated ? ' · deprecated' : ''),
      ),
      h('td', null, c.service ? h('a', { href: `#/inventory${query({ service: c.service })}` }, c.service) : '–'),
      h('td', { class: 'num' }, `${c.seen} / ${c.endpoints}`),
      h('td', { class: 'num' }, fmtNumber(c.calls)),
      h('td', null, c.lastSeen ? timeEl(c.lastSeen) : h('span', { class: 'muted' }, 'never')),
      h('td', { class: 'unused' }, unused.length ? unused : h('span', { class: 'muted' }, '–')),
    );
  }

  return list.stop;
}
