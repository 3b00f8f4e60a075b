// DOM building and formatting. Every text reaches the page through textContent or attributes, never innerHTML, so
// values from the API (summaries, paths, comments) cannot inject markup.

/** @typedef {Node | string | number | null | undefined | false | any[]} Child nested arrays are flattened */
/** @typedef {Record<string, unknown>} Props */

/**
 * Creates an element. Props: `class`, `on<event>` handlers, booleans (true = present), everything else an attribute.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function')
        el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
      else if (k === 'class') el.className = String(v);
      else if (k === 'value' && 'value' in el) /** @type {HTMLInputElement} */ (el).value = String(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Node} parent
 * @param {Child[]} children
 */
function append(parent, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/**
 * One row of a `dl.kv` definition list.
 * @param {string} k
 * @param {Child} v
 */
export const kv = (k, v) => h('div', { class: 'kv-row' }, h('dt', null, k), h('dd', null, v));

/**
 * Replaces the children of `el`.
 * @param {Element} el
 * @param {...Child} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
export { SEVERITIES };

/** @param {string} severity */
export const severityBadge = (severity) =>
  h('span', { class: `sev sev-${SEVERITIES.includes(severity) ? severity : 'info'}` }, severity);

/** @param {string} state */
export const stateBadge = (state) =>
  h('span', { class: `state state-${state.replace(/[^a-z_]/g, '')}` }, state.replace('_', ' '));

/** @param {number} ts */
export function absTime(ts) {
  const d = new Date(ts);
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** @type {[string, number][]} */
const DURATION_UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1000],
];

/**
 * A duration to its two largest units: "8 min 40 s", "2 h 5 min", "30 min" (as the CLI and detectors say it).
 * @param {number} ms
 */
export function fmtDuration(ms) {
  if (!(ms >= 1000)) return 'under a second';
  /** @type {string[]} */
  const parts = [];
  let rest = Math.floor(ms / 1000) * 1000;
  for (const [unit, size] of DURATION_UNITS) {
    if (rest < size && parts.length === 0) continue;
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n} ${unit}`);
    if (parts.length === 2 || (parts.length === 1 && n === 0)) break;
  }
  return parts.join(' ');
}

/**
 * "12s ago", "5m ago", "in 3h".
 * @param {number} ts
 * @param {number} [now]
 */
export function relTime(ts, now = Date.now()) {
  const diff = now - ts;
  const s = Math.abs(diff) / 1000;
  let text;
  if (s < 5) return 'just now';
  if (s < 60) text = `${Math.round(s)}s`;
  else if (s < 3600) text = `${Math.round(s / 60)}m`;
  else if (s < 86_400) text = `${Math.round(s / 3600)}h`;
  else text = `${Math.round(s / 86_400)}d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/**
 * A <time> showing relative time, refreshed by `refreshTimes`; the absolute time is its tooltip.
 * @param {number} ts
 */
export const timeEl = (ts) =>
  h('time', { datetime: new Date(ts).toISOString(), title: absTime(ts), 'data-ts': ts }, relTime(ts));

export function refreshTimes() {
  const now = Date.now();
  for (const t of document.querySelectorAll('time[data-ts]'))
    t.textContent = relTime(Number(t.getAttribute('data-ts')), now);
}

/** @param {number} v */
export function fmtNumber(v) {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

/** @param {number} v */
export const fmtRate = (v) => `${fmtNumber(v)}/s`;
/** @param {number | null} v null: no data (a window without calls has no error ratio) */
export const fmtRatio = (v) => (v !== null && Number.isFinite(v) ? `${(v * 100).toFixed(v < 0.1 ? 2 : 1)} %` : '–');
/** @param {number | null} v null: no data (a window without calls has no latency) */
export const fmtMs = (v) =>
  v !== null && Number.isFinite(v) ? `${v >= 10 ? fmtNumber(Math.round(v)) : fmtNumber(v)} ms` : '–';

/**
 * A short id for tables, full id in the tooltip (or `title`, when it says more).
 * @param {string} id
 * @param {string} [title]
 */
export const shortId = (id, title = id) =>
  h('code', { title, class: 'id' }, id.length > 14 ? `${id.slice(0, 12)}…` : id);

/**
 * Empty / loading / error placeholder row content.
 * @param {string} text
 * @param {string} [kind]
 */
export const placeholder = (text, kind = 'empty') => h('div', { class: `placeholder ${kind}` }, text);

/**
 * A transient message in the corner (announced politely by screen readers).
 * @param {string} text
 * @param {'ok' | 'error' | 'info'} [kind]
 */
export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { class: `toast toast-${kind}` }, text);
  box.appendChild(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

/** @param {string} text */
export function announce(text) {
  const a = document.getElementById('announcer');
  if (a) a.textContent = text;
}

/**
 * Shows a form (its title element's id `labelledBy`) in a modal dialog: its Cancel button (`value="cancel"`) and
 * Escape close it, and so does submitting it (`method="dialog"`). Resolves once it is closed and gone.
 * @param {HTMLElement} form
 * @param {{ labelledBy: string, focus?: HTMLElement | null }} o
 * @returns {Promise<void>}
 */
export function showDialog(form, o) {
  return new Promise((resolve) => {
    const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { 'aria-labelledby': o.labelledBy }, form));
    form.querySelector('button[value="cancel"]')?.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    o.focus?.focus();
  });
}

/**
 * A modal dialog asking to confirm, optionally with a comment. Resolves with the comment ('' when none) or null when
 * cancelled. Escape cancels; Ctrl+Enter confirms.
 * @param {{ title: string, message?: string, confirmLabel: string, comment?: 'none' | 'optional' | 'required', danger?: boolean }} o
 * @returns {Promise<string | null>}
 */
export async function confirmDialog(o) {
  const mode = o.comment ?? 'none';
  const area =
    mode === 'none'
      ? null
      : h('textarea', {
          id: 'dialog-comment',
          name: 'comment',
          rows: 3,
          maxlength: 2000,
          required: mode === 'required',
          placeholder: mode === 'required' ? 'Why? (required, kept in the audit log)' : 'Comment (optional)',
        });
  const confirm = h(
    'button',
    { type: 'submit', class: `btn ${o.danger ? 'danger' : 'primary'}`, value: 'ok' },
    o.confirmLabel,
  );
  const cancel = h('button', { type: 'button', class: 'btn ghost', value: 'cancel' }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: 'dialog-title' }, o.title),
    o.message ? h('p', { class: 'muted' }, o.message) : null,
    area
      ? h(
          'label',
          { for: 'dialog-comment', class: 'field-label' },
          mode === 'required' ? 'Comment' : 'Comment (optional)',
        )
      : null,
    area,
    h('div', { class: 'dialog-actions' }, cancel, confirm),
  );
  let result = /** @type {string | null} */ (null);
  form.addEventListener('submit', (e) => {
    if (area && mode === 'required' && !area.value.trim()) {
      e.preventDefault();
      area.focus();
      return;
    }
    result = area ? area.value.trim() : '';
  });
  area?.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
  await showDialog(form, { labelledBy: 'dialog-title', focus: area ?? confirm });
  return result;
}

/**
 * A row's selection checkbox cell (bulk actions): ticking it adds `id` to `selected` (while it holds fewer than `max`),
 * unticking removes it; `changed` runs after each.
 * @param {{ id: string, label: string, class: string, selected: Set<string>, max: number, changed: () => void }} o
 */
export function selectCell(o) {
  const box = /** @type {HTMLInputElement} */ (
    h('input', { type: 'checkbox', class: o.class, value: o.id, checked: o.selected.has(o.id), 'aria-label': o.label })
  );
  box.addEventListener('change', () => {
    if (box.checked && o.selected.size < o.max) o.selected.add(o.id);
    else o.selected.delete(o.id);
    o.changed();
  });
  return h('td', { class: 'select' }, box);
}

/**
 * A page: its head (the title, then the links, counts and filters beside it) and its content.
 * @param {Child} title
 * @param {Child[]} head
 * @param {...Child} content
 */
export function pageLayout(title, head, ...content) {
  return h('div', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', null, title), head), content);
}

/**
 * A column head whose button sorts its table by the column (highest first): `th.sortable[data-sort]` holding
 * `button.sort` and its mark, as the console's CSS styles them. markSorted says whether it is the order shown.
 * @param {string} label
 * @param {string} sort the order it stands for
 * @param {() => void} onSort
 */
export function sortHead(label, sort, onSort) {
  return /** @type {HTMLTableCellElement} */ (
    h(
      'th',
      { scope: 'col', class: 'sortable', 'data-sort': sort },
      h(
        'button',
        { type: 'button', class: 'sort', onclick: onSort },
        label,
        h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, ' ▼'),
      ),
    )
  );
}

/**
 * marks a sortHead as the order shown (highest first), or not
 * @param {Element} th
 * @param {boolean} active
 */
export function markSorted(th, active) {
  th.setAttribute('aria-sort', active ? 'descending' : 'none');
  th.classList.toggle('sorted', active);
}

/**
 * A sortable-looking dense table.
 * @param {(string | HTMLTableCellElement)[]} headers a text, or a head cell of its own (a column head that sorts)
 * @param {Node[]} rows
 * @param {{ caption?: string, class?: string }} [o]
 */
export function table(headers, rows, o = {}) {
  return h(
    'table',
    { class: `grid ${o.class ?? ''}` },
    o.caption ? h('caption', { class: 'sr-only' }, o.caption) : null,
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        headers.map((x) => (typeof x === 'string' ? h('th', { scope: 'col' }, x) : x)),
      ),
    ),
    h('tbody', null, rows),
  );
}
