import { api } from './api.js';
import { h, showDialog, toast } from './dom.js';
import { session } from './state.js';

/** @typedef {import('./state.js').Alert} Alert */

/**
 * an owner's name, `(you)` after the signed-in analyst's
 * @param {string} id
 */
export function ownerName(id) {
  return id === session.me?.id ? [id, h('span', { class: 'muted small' }, ' (you)')] : id;
}

/**
 * "Assign to…": hands an alert to another analyst (their principal id, as the console's header shows it: an API
 * key's name or an OIDC subject) with an optional comment, through `POST /v1/alerts/:id/assign`.
 * @param {Alert} a
 * @returns {Promise<Alert | null>} the alert with its new owner, or null when cancelled
 */
export async function assignDialog(a) {
  const who = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'assign-to',
      name: 'assignee',
      required: true,
      maxlength: 200,
      autocomplete: 'off',
      value: a.assignee ?? '',
      placeholder: 'principal id, e.g. alice@example.com',
    })
  );
  const comment = h('textarea', { id: 'assign-comment', rows: 2, maxlength: 4000, placeholder: 'Comment (optional)' });
  const error = h('p', { class: 'error small', role: 'alert' });
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: 'assign-title' }, 'Assign alert'),
    h('p', { class: 'muted small' }, a.summary),
    h('div', { class: 'field' }, h('label', { for: 'assign-to', class: 'field-label' }, 'Owner'), who),
    h('label', { for: 'assign-comment', class: 'field-label' }, 'Comment (optional)'),
    comment,
    error,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn ghost', value: 'cancel' }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary', value: 'ok' }, 'Assign'),
    ),
  );
  /** @type {{ alert: Alert | null }} */
  const done = { alert: null };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const assignee = who.value.trim();
    if (!assignee) {
      who.focus();
      return;
    }
    const note = /** @type {HTMLTextAreaElement} */ (comment).value.trim();
    try {
      done.alert = await api(`v1/alerts/${encodeURIComponent(a.id)}/assign`, {
        method: 'POST',
        body: { assignee, ...(note ? { comment: note } : {}) },
      });
      form.closest('dialog')?.close();
    } catch (err) {
      error.textContent = `Could not assign: ${/** @type {Error} */ (err).message}`;
    }
  });
  await showDialog(form, { labelledBy: 'assign-title', focus: who });
  if (done.alert) toast(`Assigned to ${done.alert.assignee}`, 'ok');
  return done.alert;
}
