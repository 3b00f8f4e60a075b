import { api } from './api.js';
import { confirmDialog, h, showDialog, toast } from './dom.js';
import { session } from './state.js';

/** @typedef {import('./state.js').Alert} Alert */

/**
 * the name people read for a principal id: the name its token gave (an OIDC subject id is opaque), else the id
 * @param {string} id
 */
export const analystName = (id) =>
  session.analysts.get(id)?.name ?? (id === session.me?.id ? session.me.name : null) ?? id;

/** reads the analysts (GET /v1/analysts) into the session; the console works with ids alone if it cannot */
export async function loadAnalysts() {
  try {
    const r = await api('v1/analysts');
    for (const a of r.items) session.analysts.set(a.id, a);
  } catch {
    // names stay ids
  }
}

/**
 * an owner's name (the id in its tooltip when they differ), `(you)` after the signed-in analyst's
 * @param {string} id
 */
export function ownerName(id) {
  const name = analystName(id);
  const label = name === id ? id : h('span', { title: id }, name);
  return id === session.me?.id ? [label, h('span', { class: 'muted small' }, ' (you)')] : label;
}

/**
 * the analyst who owns an alert, when the API refused to assign it for that (409 MW_ERR_ALERT_OWNED)
 * @param {unknown} err
 * @returns {string | undefined}
 */
export function ownerOf(err) {
  const e = /** @type {{ code?: string, details?: { assignee?: unknown } }} */ (err);
  return e?.code === 'MW_ERR_ALERT_OWNED' && typeof e.details?.assignee === 'string' ? e.details.assignee : undefined;
}

/**
 * asks whether to take alerts over from the analysts who own them
 * @param {string[]} owners
 * @param {number} n how many alerts
 */
export async function confirmTakeover(owners, n = 1) {
  const who = [...new Set(owners)].map(analystName).join(', ');
  const ok = await confirmDialog({
    title: n === 1 ? `Take over from ${who}?` : `Take over ${n} alerts from ${who}?`,
    message: `${n === 1 ? 'This alert is' : 'They are'} assigned to ${who}. Taking over makes you the owner; the history says whom from.`,
    confirmLabel: 'Take over',
  });
  return ok !== null;
}

/**
 * asks whether to take an alert's owner away when that is another analyst
 * @param {string} owner
 */
export async function confirmRemoval(owner) {
  const who = analystName(owner);
  const ok = await confirmDialog({
    title: `Remove ${who} as owner?`,
    message: `This alert is assigned to ${who}. Unassigning leaves it to nobody; the history says whom it was taken from.`,
    confirmLabel: 'Unassign',
  });
  return ok !== null;
}

/**
 * `POST /v1/alerts/:id/<change>`; when another analyst owns the alert (409 MW_ERR_ALERT_OWNED) the analyst is asked
 * to `confirm`, and it is sent again with `takeover: true`
 * @param {string} id
 * @param {'assign' | 'unassign'} change
 * @param {Record<string, unknown>} body
 * @param {(owner: string) => Promise<boolean>} confirm
 * @returns {Promise<Alert | null>} the alert with its new owner (or none), or null when the analyst declined
 */
async function changeOwner(id, change, body, confirm) {
  const path = `v1/alerts/${encodeURIComponent(id)}/${change}`;
  try {
    return await api(path, { method: 'POST', body });
  } catch (err) {
    const owner = ownerOf(err);
    if (!owner) throw err;
    if (!(await confirm(owner))) return null;
    return api(path, { method: 'POST', body: { ...body, takeover: true } });
  }
}

/**
 * `POST /v1/alerts/:id/assign`; another analyst's alert is taken over only once the analyst confirms
 * @param {string} id
 * @param {{ assignee: string, comment?: string }} body
 * @returns {Promise<Alert | null>} the alert with its new owner, or null when the analyst would not take it over
 */
export const assignAlert = (id, body) => changeOwner(id, 'assign', body, (owner) => confirmTakeover([owner]));

/**
 * `POST /v1/alerts/:id/unassign`; another analyst is removed as owner only once the analyst confirms
 * @param {string} id
 * @param {{ comment?: string }} body
 * @returns {Promise<Alert | null>} the alert without an owner, or null when the analyst would not remove them
 */
export const unassignAlert = (id, body) => changeOwner(id, 'unassign', body, confirmRemoval);

/**
 * "Assign to…": hands an alert to another analyst (their principal id: an API key's name or an OIDC subject; the
 * analysts the API knows are offered with their names) with an optional comment, through `POST /v1/alerts/:id/assign`.
 * @param {Alert} a
 * @returns {Promise<Alert | null>} the alert with its new owner, or null when cancelled
 */
export async function assignDialog(a) {
  await loadAnalysts();
  // the analysts who may triage, most recently seen first (a viewer can own nothing it may act on)
  const options = h(
    'datalist',
    { id: 'assign-options' },
    [...session.analysts.values()]
      .filter((x) => x.role !== 'viewer')
      .map((x) => h('option', { value: x.id }, x.name ? `${x.name} (${x.role})` : x.role)),
  );
  const who = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'assign-to',
      name: 'assignee',
      required: true,
      maxlength: 200,
      autocomplete: 'off',
      list: 'assign-options',
      value: a.assignee ?? '',
      placeholder: 'an analyst’s principal id',
    })
  );
  const comment = h('textarea', { id: 'assign-comment', rows: 2, maxlength: 4000, placeholder: 'Comment (optional)' });
  const error = h('p', { class: 'error small', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary', value: 'ok' }, 'Assign');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: 'assign-title' }, 'Assign alert'),
    h('p', { class: 'muted small' }, a.summary),
    h('div', { class: 'field' }, h('label', { for: 'assign-to', class: 'field-label' }, 'Owner'), who, options),
    h('label', { for: 'assign-comment', class: 'field-label' }, 'Comment (optional)'),
    comment,
    error,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn ghost', value: 'cancel' }, 'Cancel'),
      submit,
    ),
  );
  /** @type {{ alert: Alert | null }} */
  const done = { alert: null };
  /** the analyst the API said owns it: the next submit, confirmed, takes it over from them */
  let takingFrom = '';
  who.addEventListener('input', () => {
    takingFrom = '';
    submit.textContent = 'Assign';
    error.textContent = '';
  });
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
        body: { assignee, ...(note ? { comment: note } : {}), ...(takingFrom ? { takeover: true } : {}) },
      });
      form.closest('dialog')?.close();
    } catch (err) {
      const owner = ownerOf(err);
      if (owner) {
        // another analyst took it meanwhile, or had it: say who, and let the analyst confirm
        takingFrom = owner;
        submit.textContent = 'Take over';
        error.textContent = `${analystName(owner)} owns this alert. Take over makes ${assignee === session.me?.id ? 'you' : analystName(assignee)} the owner instead; the history says whom from.`;
        return;
      }
      error.textContent = `Could not assign: ${/** @type {Error} */ (err).message}`;
    }
  });
  await showDialog(form, { labelledBy: 'assign-title', focus: who });
  if (done.alert) toast(`Assigned to ${analystName(done.alert.assignee ?? '')}`, 'ok');
  return done.alert;
}
