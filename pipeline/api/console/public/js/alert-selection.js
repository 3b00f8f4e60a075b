import { analystName, confirmTakeover } from './alert-owner.js';
import { api } from './api.js';
import { confirmDialog, h, selectCell, toast } from './dom.js';
import { session } from './state.js';

/** @typedef {import('./state.js').Alert} Alert */
/** @typedef {'acknowledge' | 'resolve' | 'reopen' | 'assign'} BulkAction */

/** the most alerts one request triages (the server's limit) */
const MAX_SELECTED = 500;
const VERB = { acknowledge: 'Acknowledge', resolve: 'Resolve', reopen: 'Reopen', assign: 'Assign to me' };
const DONE = { acknowledge: 'Acknowledged', resolve: 'Resolved', reopen: 'Reopened', assign: 'Assigned' };

/**
 * Bulk triage of the queue: a checkbox per row, one in the header for every alert shown, and a bar that acknowledges
 * or resolves the selected alerts (or reopens them, where the queue shows closed ones: `canReopen`), or assigns them
 * to the signed-in analyst, in one request (`POST /v1/alerts/triage`), with one comment for all. Those another
 * analyst owns are taken over only when the analyst confirms it (a second request, with `takeover`).
 * @param {{ shownIds: () => string[], onChanged: (alerts: Alert[]) => void, canReopen: () => boolean }} o
 */
export function alertSelection(o) {
  /** @type {Set<string>} */
  const selected = new Set();
  const label = h('span', { 'aria-live': 'polite' });
  const all = /** @type {HTMLInputElement} */ (
    h('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select every alert shown' })
  );
  const reopen = button('reopen', 'Reopen');
  const bar = h(
    'div',
    { class: 'selection-bar', role: 'toolbar', 'aria-label': 'Selected alerts', hidden: true },
    label,
    button('acknowledge', 'Acknowledge'),
    button('resolve', 'Resolve'),
    reopen,
    button('assign', 'Assign to me'),
    h('button', { type: 'button', class: 'btn small ghost', onclick: () => clear() }, 'Clear'),
  );

  all.addEventListener('change', () => {
    for (const id of o.shownIds()) {
      if (all.checked && selected.size < MAX_SELECTED) selected.add(id);
      else if (!all.checked) selected.delete(id);
    }
    sync();
  });

  /** @param {BulkAction} action @param {string} text */
  function button(action, text) {
    return h(
      'button',
      { type: 'button', class: `btn small ${action === 'resolve' ? 'primary' : ''}`, onclick: () => run(action) },
      text,
    );
  }

  /** @param {BulkAction} action */
  async function run(action) {
    const ids = [...selected];
    const noun = `${ids.length} alert${ids.length === 1 ? '' : 's'}`;
    const comment = await confirmDialog({
      title: `${VERB[action]} ${noun}`,
      message: 'Each gets the same note in its history.',
      confirmLabel: VERB[action],
      comment: 'optional',
    });
    if (comment === null) return;
    /** @param {string[]} which @param {boolean} takeover */
    const send = (which, takeover) =>
      api('v1/alerts/triage', {
        method: 'POST',
        body: {
          action,
          ids: which,
          ...(action === 'assign' ? { assignee: session.me?.id } : {}),
          ...(takeover ? { takeover: true } : {}),
          ...(comment ? { comment } : {}),
        },
      });
    try {
      const res = await send(ids, false);
      // those other analysts own are taken over only once the analyst confirms
      /** @type {{ id: string, reason: string, assignee?: string }[]} */
      const owned = res.skipped.filter((/** @type {{ assignee?: string }} */ s) => s.assignee !== undefined);
      const owners = owned.map((x) => x.assignee ?? '');
      if (owned.length > 0 && (await confirmTakeover(owners, owned.length))) {
        const over = await send(
          owned.map((x) => x.id),
          true,
        );
        const retried = new Set(owned.map((x) => x.id));
        res.items.push(...over.items);
        res.skipped = [...res.skipped.filter((/** @type {{ id: string }} */ x) => !retried.has(x.id)), ...over.skipped];
      }
      o.onChanged(res.items);
      const first = res.skipped[0];
      const why = first?.assignee ? `${analystName(first.assignee)} owns it` : first?.reason;
      const skipped = res.skipped.length ? `; ${res.skipped.length} left as they were (${why})` : '';
      toast(`${DONE[action]} ${res.items.length} of ${noun}${action === 'assign' ? ' to you' : ''}${skipped}`, 'ok');
      clear();
    } catch (err) {
      toast(`${VERB[action]} failed: ${/** @type {Error} */ (err).message}`, 'error');
    }
  }

  function clear() {
    selected.clear();
    sync();
  }

  /** the bar, the header box and every row box show the selection */
  function sync() {
    bar.hidden = selected.size === 0;
    reopen.hidden = !o.canReopen();
    label.textContent = `${selected.size} selected`;
    const shown = o.shownIds();
    all.checked = shown.length > 0 && shown.every((id) => selected.has(id));
    for (const box of document.querySelectorAll('input.select-alert')) {
      const input = /** @type {HTMLInputElement} */ (box);
      input.checked = selected.has(input.value);
    }
  }

  return {
    bar,
    /** the header cell */
    headCell: () => h('th', { scope: 'col', class: 'select' }, all),
    /** a row's cell @param {Alert} a */
    cell: (a) =>
      selectCell({
        id: a.id,
        label: `Select: ${a.summary}`,
        class: 'select-alert',
        selected,
        max: MAX_SELECTED,
        changed: sync,
      }),
    /** an alert left the queue (filtered out) */
    forget: (/** @type {string} */ id) => {
      if (selected.delete(id)) sync();
    },
    clear,
    sync,
  };
}
