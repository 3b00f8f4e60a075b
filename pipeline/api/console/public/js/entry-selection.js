import { api } from './api.js';
import { confirmDialog, h, selectCell, toast } from './dom.js';

/** @typedef {import('./review-dialog.js').ApiEntry} ApiEntry */

/** the most entries one request reviews (the server's limit) */
const MAX_SELECTED = 500;

/**
 * Bulk review of the inventory: a checkbox per endpoint and a bar that confirms the predicted labels of the selected
 * ones in one request (`POST /v1/inventory/review` with `confirm`: each keeps the labels that were assigned; an
 * unassigned one is never taken), with one comment for all. A new service's endpoints, reviewed at once.
 * @param {{ onReviewed: (entries: ApiEntry[]) => void }} o
 */
export function entrySelection(o) {
  /** @type {Set<string>} */
  const selected = new Set();
  const label = h('span', { 'aria-live': 'polite' });
  const bar = h(
    'div',
    { class: 'selection-bar', role: 'toolbar', 'aria-label': 'Selected endpoints', hidden: true },
    label,
    h(
      'button',
      { type: 'button', class: 'btn small primary', onclick: () => void confirmSelected() },
      'Confirm labels',
    ),
    h('button', { type: 'button', class: 'btn small ghost', onclick: () => clear() }, 'Clear'),
  );

  async function confirmSelected() {
    const ids = [...selected];
    const noun = `${ids.length} endpoint${ids.length === 1 ? '' : 's'}`;
    const comment = await confirmDialog({
      title: `Confirm the labels of ${noun}`,
      message:
        'Each keeps its predicted labels that were assigned; the model learns them. Unassigned ones stay to review.',
      confirmLabel: 'Confirm labels',
      comment: 'optional',
    });
    if (comment === null) return;
    try {
      const res = await api('v1/inventory/review', {
        method: 'POST',
        body: { ids, confirm: true, ...(comment ? { comment } : {}) },
      });
      o.onReviewed(res.items);
      const skipped = res.skipped.length ? `; ${res.skipped.length} left to review (${res.skipped[0].reason})` : '';
      toast(`Reviewed ${res.items.length} of ${noun}${skipped}`, 'ok');
      clear();
    } catch (err) {
      toast(`Confirm failed: ${/** @type {Error} */ (err).message}`, 'error');
    }
  }

  function clear() {
    selected.clear();
    sync();
  }

  function sync() {
    bar.hidden = selected.size === 0;
    label.textContent = `${selected.size} selected`;
    for (const box of document.querySelectorAll('input.select-entry')) {
      const input = /** @type {HTMLInputElement} */ (box);
      input.checked = selected.has(input.value);
    }
  }

  return {
    bar,
    /** a row's cell @param {ApiEntry} e */
    cell: (e) =>
      selectCell({
        id: e.id,
        label: `Select ${e.method} ${e.route}`,
        class: 'select-entry',
        selected,
        max: MAX_SELECTED,
        changed: sync,
      }),
  };
}
