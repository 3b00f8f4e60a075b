import { api, query } from '../api.js';
import { decisionHeaders, decisionRow, renewalsOf } from '../decision-actions.js';
import { h, pageLayout, placeholder, replace } from '../dom.js';
import { live } from '../state.js';

/** @typedef {import('../state.js').Decision} Decision */

const STATES = ['active', 'pending_approval', 'expired', 'lifted', 'failed'];

/**
 * Policy decisions: those awaiting approval first, then every decision (newest first), refreshed every 10 s. A renewal
 * links to the decision it renews, and one that is renewed to its renewal (dimmed).
 * @param {HTMLElement} main
 */
export function renderDecisions(main) {
  const pending = h(
    'section',
    { class: 'card', 'aria-labelledby': 'pending-title' },
    h('h2', { id: 'pending-title' }, 'Awaiting approval'),
    placeholder('Loading…', 'loading'),
  );
  const all = h('section', { class: 'card', 'aria-labelledby': 'all-title' });
  let state = '';
  let gone = false;
  const filter = h(
    'select',
    { id: 'dec-state', 'aria-label': 'State' },
    h('option', { value: '' }, 'all states'),
    STATES.map((s) => h('option', { value: s }, s.replace('_', ' '))),
  );
  filter.addEventListener('change', () => {
    state = filter.value;
    void load();
  });
  replace(main, pageLayout('Decisions', [], pending, all));

  /**
   * @param {Decision[]} list
   * @param {string} empty
   * @param {Map<string, Decision>} renewals the decisions shown that another renews, to that one
   */
  const decisionTable = (list, empty, renewals) =>
    list.length
      ? h(
          'div',
          { class: 'scroll-x' },
          h(
            'table',
            { class: 'grid compact decisions' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                decisionHeaders({ alertColumn: true }).map((x) => h('th', { scope: 'col' }, x)),
              ),
            ),
            h(
              'tbody',
              null,
              list.map((d) => decisionRow(d, () => void load(), { alertColumn: true, renewedBy: renewals.get(d.id) })),
            ),
          ),
        )
      : placeholder(empty);

  async function load() {
    try {
      const [p, a] = await Promise.all([
        api('v1/decisions?state=pending_approval&limit=200'),
        api(`v1/decisions${query({ state, limit: 200 })}`),
      ]);
      if (gone) return;
      const renewals = renewalsOf([...p.decisions, ...a.decisions]);
      replace(
        pending,
        h(
          'h2',
          { id: 'pending-title' },
          'Awaiting approval ',
          h('span', { class: 'muted small' }, `(${p.decisions.length})`),
        ),
        decisionTable(p.decisions, 'Nothing awaits approval.', renewals),
      );
      replace(
        all,
        h(
          'div',
          { class: 'card-head' },
          h('h2', { id: 'all-title' }, 'All decisions'),
          h('div', { class: 'field inline' }, h('label', { for: 'dec-state', class: 'field-label' }, 'State'), filter),
        ),
        decisionTable(a.decisions, state ? `No ${state.replace('_', ' ')} decisions.` : 'No decisions yet.', renewals),
      );
    } catch (err) {
      if (gone) return;
      const status = /** @type {{ status?: number }} */ (err).status;
      replace(
        pending,
        h('h2', { id: 'pending-title' }, 'Decisions'),
        placeholder(
          status === 404
            ? 'The policy engine is not enabled on this server.'
            : `Could not load decisions: ${/** @type {Error} */ (err).message}`,
          status === 404 ? 'empty' : 'error',
        ),
      );
      all.replaceChildren();
    }
  }

  void load();
  // refresh unless the analyst is in the middle of something (a dialog is open): at once (once for a burst) when the
  // stream says a decision changed, and every 10 s (the times, and a stream that was down)
  /** @type {number | undefined} */
  let soon;
  const refresh = () => {
    if (!document.querySelector('dialog[open]')) void load();
  };
  const onDecision = () => {
    window.clearTimeout(soon);
    soon = window.setTimeout(refresh, 200);
  };
  live.addEventListener('decision', onDecision);
  const timer = window.setInterval(refresh, 10_000);
  return () => {
    gone = true;
    window.clearInterval(timer);
    window.clearTimeout(soon);
    live.removeEventListener('decision', onDecision);
  };
}
