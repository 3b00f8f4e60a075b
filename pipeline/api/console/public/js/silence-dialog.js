import { api } from './api.js';
import { absTime, h, showDialog, toast } from './dom.js';

/** @typedef {import('./state.js').Alert} Alert */
/** @typedef {{ id: string, endsAt: number, resolved: number }} CreatedSilence */

const DURATIONS = [
  [60, '1 hour'],
  [240, '4 hours'],
  [1440, '1 day'],
  [10080, '7 days'],
];

/**
 * "Silence similar…": a dialog that silences the alerts like this one (the matchers ticked: kind, service, endpoint,
 * subject) for a while, with the reason; `POST /v1/silences` resolves those open now and those still to come.
 * @param {Alert} a
 * @returns {Promise<CreatedSilence | null>} the silence made, or null when cancelled
 */
export async function silenceDialog(a) {
  /** @type {[string, string, string | undefined, boolean][]} name, label, value, ticked */
  const fields = [
    ['kind', 'Kind', a.kind, true],
    ['service', 'Service', a.service, true],
    ['endpoint', 'Endpoint', a.endpoint, !a.subject],
    ['subject', 'Subject', a.subject?.value, Boolean(a.subject)],
  ];
  const boxes = fields
    .filter(([, , value]) => value)
    .map(([name, label, value, ticked]) => {
      const box = /** @type {HTMLInputElement} */ (
        h('input', { type: 'checkbox', id: `sil-${name}`, name, value, checked: ticked })
      );
      return {
        box,
        row: h(
          'div',
          { class: 'field inline' },
          box,
          h('label', { for: `sil-${name}` }, `${label} `, h('code', null, String(value))),
        ),
      };
    });
  // a ceiling: only alerts this severe or less (a noisy client's medium alerts, not its critical ones)
  const ceiling = /** @type {HTMLInputElement} */ (
    h('input', { type: 'checkbox', id: 'sil-max_severity', name: 'max_severity', value: a.severity })
  );
  const duration = h(
    'select',
    { id: 'sil-duration', name: 'duration' },
    DURATIONS.map(([m, label]) => h('option', { value: m, selected: m === 240 }, label)),
  );
  const comment = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      id: 'sil-comment',
      rows: 2,
      maxlength: 2000,
      required: true,
      placeholder: 'Why are these alerts expected? (required, in each alert’s history)',
    })
  );
  const error = h('p', { class: 'error small', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'btn ghost', value: 'cancel' }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: 'silence-title' }, 'Silence alerts like this one'),
    h(
      'p',
      { class: 'muted small' },
      'Alerts matching every ticked field are resolved now and as they come, and not sent to the alert sinks, until the silence ends. Policy actions are not silenced.',
    ),
    boxes.map((b) => b.row),
    h(
      'div',
      { class: 'field inline' },
      ceiling,
      h('label', { for: 'sil-max_severity' }, 'Only up to severity ', h('code', null, a.severity)),
    ),
    h('div', { class: 'field' }, h('label', { for: 'sil-duration', class: 'field-label' }, 'For'), duration),
    h('label', { for: 'sil-comment', class: 'field-label' }, 'Comment'),
    comment,
    error,
    h(
      'div',
      { class: 'dialog-actions' },
      cancel,
      h('button', { type: 'submit', class: 'btn primary', value: 'ok' }, 'Silence'),
    ),
  );
  /** @type {{ silence: CreatedSilence | null }} the silence made, once the API has it */
  const made = { silence: null };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    /** @type {Record<string, string>} */
    const matchers = {};
    for (const { box } of boxes) if (box.checked) matchers[box.name] = box.value;
    if (Object.keys(matchers).length === 0) {
      error.textContent = 'Tick at least one field.';
      return;
    }
    if (ceiling.checked) matchers.max_severity = ceiling.value;
    if (!comment.value.trim()) {
      comment.focus();
      return;
    }
    try {
      made.silence = await api('v1/silences', {
        method: 'POST',
        body: {
          matchers,
          duration_minutes: Number(/** @type {HTMLSelectElement} */ (duration).value),
          comment: comment.value.trim(),
        },
      });
      form.closest('dialog')?.close();
    } catch (err) {
      error.textContent = `Could not silence: ${/** @type {Error} */ (err).message}`;
    }
  });
  await showDialog(form, { labelledBy: 'silence-title', focus: comment });
  const s = made.silence;
  if (s) toast(`Silenced until ${absTime(s.endsAt)}${s.resolved ? `; ${s.resolved} resolved now` : ''}`, 'ok');
  return s;
}
