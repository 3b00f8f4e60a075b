// A table filled page by page from a cursor-paginated list of the API (`{ items, next }`), with a "Load more" button.
import { h, placeholder, replace, table } from './dom.js';

/**
 * @template T
 * @typedef {object} PagedTableOptions
 * @property {(string | HTMLTableCellElement)[]} headers a text, or a head cell of its own (a column head that sorts)
 * @property {string} class the table's class
 * @property {string} caption
 * @property {(cursor: string | undefined) => Promise<{ items?: T[], next?: unknown }>} fetchPage
 * @property {(item: T) => HTMLElement} row
 * @property {string} empty shown when the first page is empty
 * @property {string} notFound shown when the API answers 404 (the feature is off on this server)
 * @property {string} what for "Could not load the …"
 */

/**
 * Loads the first page now and the next ones on "Load more"; `view` goes into the page (the table, or its loading,
 * empty or error state, and the button); stop() when the page is left.
 * @template T
 * @param {PagedTableOptions<T>} o
 * @returns {{ view: HTMLElement, stop: () => void }}
 */
export function pagedTable(o) {
  const body = h('div', null, placeholder('Loading…', 'loading'));
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  let gone = false;
  /** @type {string | undefined} */
  let next;
  const tbody = h('tbody');
  /** @param {boolean} reset */
  async function load(reset) {
    more.disabled = true;
    try {
      const r = await o.fetchPage(reset ? undefined : next);
      if (gone) return;
      const items = r.items ?? [];
      next = typeof r.next === 'string' ? r.next : undefined;
      more.hidden = !next;
      if (reset && items.length === 0) {
        replace(body, placeholder(o.empty));
        return;
      }
      if (reset) {
        tbody.replaceChildren();
        const t = table(o.headers, [], { class: o.class, caption: o.caption });
        t.querySelector('tbody')?.replaceWith(tbody);
        replace(body, h('div', { class: 'scroll-x' }, t));
      }
      for (const item of items) tbody.appendChild(o.row(item));
    } catch (err) {
      const status = /** @type {{ status?: number }} */ (err).status;
      replace(
        body,
        status === 404
          ? placeholder(o.notFound)
          : placeholder(`Could not load the ${o.what}: ${/** @type {Error} */ (err).message}`, 'error'),
      );
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', () => void load(false));
  void load(true);
  return {
    view: h('div', null, body, h('div', { class: 'table-foot' }, more)),
    stop: () => {
      gone = true;
    },
  };
}
