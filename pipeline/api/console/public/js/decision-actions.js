// Approve / lift buttons for a decision, its rows and cards, and the links between a renewal and the decision it
// renews; shared by the alert detail and the decisions page.
import { api } from './api.js';
import { absTime, confirmDialog, fmtDuration, h, shortId, stateBadge, timeEl, toast } from './dom.js';
import { can, live } from './state.js';

/** @typedef {import('./state.js').Decision} Decision */

/** @param {Decision} d */
export const targetText = (d) => `${d.type.replace('_', ' ')} ${d.scope} ${d.value}`;

/**
 * How long a decision is enforced once approved, as a phrase ("for 30 min"); empty when the server does not say.
 * @param {Decision} d
 */
const forTtl = (d) => (d.ttlMs ? ` for ${fmtDuration(d.ttlMs)}` : '');

/**
 * When a decision ends. An active (or ended) one: its enforcement end. One held for approval has none yet: when it
 * expires unapproved, and how long it would be enforced once approved. One never enforced: why not.
 * @param {Decision} d
 * @returns {import('./dom.js').Child}
 */
export function decisionEnd(d) {
  const live = d.state === 'active' || d.state === 'pending_approval';
  // an API server older than the approval deadline answers a pending decision's deadline as its until
  const deadline = d.approvalDeadline ?? (d.state === 'pending_approval' ? d.until : undefined);
  if (d.state === 'pending_approval')
    return h(
      'span',
      { class: 'decision-end pending', title: deadline === undefined ? undefined : absTime(deadline) },
      'expires unapproved ',
      deadline === undefined ? '–' : timeEl(deadline),
      ' · ',
      h('span', { class: 'muted' }, `would be enforced${forTtl(d)} once approved`),
    );
  if (d.until !== undefined)
    return h(
      'span',
      { class: 'decision-end', title: absTime(d.until) },
      live ? ['until ', timeEl(d.until)] : h('span', { class: 'muted' }, `until ${absTime(d.until)}`),
    );
  return h(
    'span',
    { class: 'decision-end muted' },
    d.state === 'expired' && deadline !== undefined
      ? `expired unapproved ${absTime(deadline)}`
      : d.state === 'lifted'
        ? 'lifted before approval: never enforced'
        : 'never enforced',
  );
}

/**
 * The decisions of a list that another in it renews, each to the decision renewing it.
 * @param {Decision[]} list
 * @returns {Map<string, Decision>}
 */
export function renewalsOf(list) {
  /** @type {Map<string, Decision>} */
  const by = new Map();
  for (const d of list) if (d.renews) by.set(d.renews, d);
  return by;
}

/**
 * A renewal's reason without the engine's `[renews <id>: why]` (its marker says it, the why in its tooltip), and
 * that why; any other reason as it is.
 * @param {Decision} d
 * @returns {{ reason: string, why?: string }}
 */
export function renewalReason(d) {
  const tag = `[renews ${d.renews}: `;
  const at = d.renews ? d.reason.indexOf(tag) : -1;
  const end = at < 0 ? -1 : d.reason.indexOf(']', at + tag.length);
  if (end < 0) return { reason: d.reason };
  return {
    reason: `${d.reason.slice(0, at).trimEnd()} ${d.reason.slice(end + 1).trimStart()}`.trim(),
    why: d.reason.slice(at + tag.length, end),
  };
}

/**
 * Bring a decision the page lists into view and mark it (until another is); false when the page does not list it.
 * @param {string} id
 */
export function showDecision(id) {
  const el = document.querySelector(`[data-decision="${CSS.escape(id)}"]`);
  if (!(el instanceof HTMLElement)) return false;
  for (const t of document.querySelectorAll('[data-decision].target')) t.classList.remove('target');
  el.classList.add('target');
  el.tabIndex = -1;
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: 'center' });
  return true;
}

/**
 * A link to another decision on the same alert: brought into view when the page lists it, else the alert's page
 * (which lists all its decisions) with that one brought into view.
 * @param {string} label
 * @param {string} id
 * @param {string | undefined} alertId
 * @param {string} title
 */
const decisionLink = (label, id, alertId, title) =>
  h(
    'a',
    {
      class: 'renewal',
      href: alertId ? `#/alerts/${encodeURIComponent(alertId)}?decision=${encodeURIComponent(id)}` : undefined,
      title,
      'data-to': id,
      onclick: (/** @type {MouseEvent} */ e) => {
        if (showDecision(id)) e.preventDefault();
      },
    },
    `${label} `,
    shortId(id, title),
  );

/**
 * A decision's links to its rule's others on the alert: "renews <id>" on a renewal, "renewed as <id>" on one that a
 * later decision renews (`renewedBy`, when known); null for neither.
 * @param {Decision} d
 * @param {Decision} [renewedBy]
 */
export function renewalMarks(d, renewedBy) {
  if (!d.renews && !renewedBy) return null;
  return h(
    'div',
    { class: 'renewal-marks' },
    d.renews
      ? decisionLink(
          'renews',
          d.renews,
          d.alertId,
          `renews ${d.renews}: ${renewalReason(d).why ?? 'the alert went on after it ended'}`,
        )
      : null,
    renewedBy
      ? decisionLink(
          'renewed as',
          renewedBy.id,
          renewedBy.alertId ?? d.alertId,
          `it ended while its alert went on: renewed as ${renewedBy.id}`,
        )
      : null,
  );
}

/**
 * @param {Decision} d
 * @param {(updated: Decision) => void} onChange
 */
export function decisionActions(d, onChange) {
  if (!can('responder')) return null;
  const buttons = [];
  if (d.state === 'pending_approval') {
    buttons.push(
      h(
        'button',
        {
          type: 'button',
          class: 'btn small primary',
          'data-action': 'approve',
          'aria-label': `Approve ${targetText(d)}`,
          onclick: async () => {
            const ok = await confirmDialog({
              title: 'Approve this decision?',
              message: `${targetText(d)}${d.route ? ` on ${d.route}` : ''} will be enforced now${forTtl(d)}${d.simulated ? ' (dry run: simulated only)' : ''}. Rule: ${d.rule ?? '–'}.`,
              confirmLabel: 'Approve',
            });
            if (ok === null) return;
            try {
              const updated = await api(`v1/decisions/${encodeURIComponent(d.id)}/approve`, {
                method: 'POST',
                body: {},
              });
              toast(`Approved: ${targetText(updated)}`, 'ok');
              live.dispatchEvent(new CustomEvent('decision', { detail: updated }));
              onChange(updated);
            } catch (err) {
              toast(`Approve failed: ${/** @type {Error} */ (err).message}`, 'error');
            }
          },
        },
        'Approve',
      ),
    );
  }
  if (d.state === 'pending_approval' || d.state === 'active') {
    buttons.push(
      h(
        'button',
        {
          type: 'button',
          class: 'btn small danger',
          'data-action': 'lift',
          'aria-label': `Lift ${targetText(d)}`,
          onclick: async () => {
            const comment = await confirmDialog({
              title: d.state === 'pending_approval' ? 'Reject (lift) this pending decision?' : 'Lift this decision?',
              message: `${targetText(d)} will be reverted at every enforcement point.`,
              confirmLabel: 'Lift',
              comment: 'required',
              danger: true,
            });
            if (comment === null) return;
            try {
              const updated = await api(`v1/decisions/${encodeURIComponent(d.id)}/lift`, {
                method: 'POST',
                body: { comment },
              });
              toast(`Lifted: ${targetText(updated)}`, 'ok');
              live.dispatchEvent(new CustomEvent('decision', { detail: updated }));
              onChange(updated);
            } catch (err) {
              toast(`Lift failed: ${/** @type {Error} */ (err).message}`, 'error');
            }
          },
        },
        'Lift',
      ),
    );
  }
  return buttons.length ? h('div', { class: 'btn-row' }, buttons) : null;
}

/**
 * @param {Decision} d
 * @param {Decision} [renewedBy]
 */
const stateClass = (d, renewedBy) =>
  [d.state === 'pending_approval' ? 'pending' : '', renewedBy ? 'renewed' : ''].filter(Boolean).join(' ');

/**
 * One decision as a table row. `renewedBy`: the decision that renews it (it is then shown dimmed).
 * @param {Decision} d
 * @param {(updated: Decision) => void} onChange
 * @param {{ alertColumn?: boolean, renewedBy?: Decision }} [o]
 */
export function decisionRow(d, onChange, o = {}) {
  return h(
    'tr',
    { 'data-decision': d.id, class: stateClass(d, o.renewedBy) },
    h(
      'td',
      null,
      stateBadge(d.state),
      d.simulated ? h('span', { class: 'tag', title: 'dry run: adapters not called' }, 'dry run') : null,
      renewalMarks(d, o.renewedBy),
    ),
    h('td', null, h('strong', null, d.type.replace('_', ' ')), h('div', { class: 'muted small' }, d.rule ?? '')),
    h(
      'td',
      null,
      h('span', { class: 'muted small' }, `${d.scope} `),
      h('code', null, d.value),
      d.route ? h('div', null, h('code', { class: 'small' }, d.route)) : null,
    ),
    h('td', null, d.service ?? '–'),
    h('td', { class: 'ends' }, decisionEnd(d)),
    h('td', { class: 'reason' }, renewalReason(d).reason),
    o.alertColumn
      ? h(
          'td',
          null,
          d.alertId ? h('a', { href: `#/alerts/${encodeURIComponent(d.alertId)}` }, shortId(d.alertId)) : '–',
        )
      : null,
    h('td', null, timeEl(d.createdAt)),
    h('td', { class: 'actions' }, decisionActions(d, onChange)),
  );
}

/**
 * One decision as a compact card (for narrow columns). `renewedBy`: the decision that renews it (shown dimmed).
 * @param {Decision} d
 * @param {(updated: Decision) => void} onChange
 * @param {Decision} [renewedBy]
 */
export function decisionCard(d, onChange, renewedBy) {
  return h(
    'article',
    {
      'data-decision': d.id,
      class: `decision-card ${stateClass(d, renewedBy)}`,
      'aria-label': `${d.state.replace('_', ' ')}: ${targetText(d)}`,
    },
    h(
      'div',
      { class: 'decision-line' },
      stateBadge(d.state),
      d.simulated ? h('span', { class: 'tag', title: 'dry run: adapters not called' }, 'dry run') : null,
      h('strong', null, d.type.replace('_', ' ')),
      h('span', { class: 'muted' }, d.scope),
      h('code', null, d.value),
    ),
    renewalMarks(d, renewedBy),
    d.route ? h('div', { class: 'small' }, 'on ', h('code', null, d.route)) : null,
    h('div', { class: 'muted small' }, `rule ${d.rule ?? '–'} · `, decisionEnd(d)),
    decisionActions(d, onChange),
  );
}

/** @param {{ alertColumn?: boolean }} [o] */
export const decisionHeaders = (o = {}) => [
  'State',
  'Action',
  'Target',
  'Service',
  'Ends',
  'Reason',
  ...(o.alertColumn ? ['Alert'] : []),
  'Created',
  '',
];
