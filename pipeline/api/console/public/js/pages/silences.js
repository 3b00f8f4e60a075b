import { api } from '../api.js';
import { confirmDialog, h, pageLayout, placeholder, replace, table, timeEl, toast } from '../dom.js';
import { can } from '../state.js';

/**
 * @typedef {object} Silence
 * @property {string} id
 * @property {{ kind?: string, service?: string, endpoint?: string, subject?: string, max_severity?: string }} matchers
 * @property {number} startsAt
 * @property {number} endsAt
 * @property {string} createdBy
 * @property {string} comment
 * @property {string} [expiredBy]
 * @property {boolean} active
 * @property {number} suppressed alert changes (new alerts, refreshes) it resolved or kept resolved as they arrived
 * @property {number} [lastSuppressedAt]
 */

/**
 * Silences: the active ones first (a responder can end one), then those ended in the last week. Made from an alert
 * ("Silence similar…").
 * @param {HTMLElement} main
 */
export function renderSilences(main) {
  const body = h('section', { class: 'card', 'aria-label': 'Silences' }, placeholder('Loading…', 'loading'));
  replace(
    main,
    pageLayout(
      'Silences',
      [h('a', { href: '#/alerts', class: 'btn small' }, 'Alert queue')],
      h(
        'p',
        { class: 'muted small' },
        'A silence resolves the alerts matching all its fields while it lasts, and keeps them from the alert sinks. Suppressed counts the alerts and refreshes of them (more occurrences) it kept out of the queue since it was made. Make one from an alert: Silence similar…',
      ),
      body,
    ),
  );

  async function load() {
    try {
      const { items } = /** @type {{ items: Silence[] }} */ (await api('v1/silences'));
      replace(
        body,
        items.length
          ? table(
              ['Matches', 'Comment', 'By', 'Until', 'Suppressed', 'State', ''],
              items.map((s) => row(s)),
              { caption: 'Silences', class: 'compact silences' },
            )
          : placeholder('No silences.'),
      );
    } catch (err) {
      replace(body, placeholder(`Could not load silences: ${/** @type {Error} */ (err).message}`, 'error'));
    }
  }

  /** @param {Silence} s */
  function row(s) {
    const expire =
      s.active && can('responder')
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn small',
              'aria-label': `End silence: ${s.comment}`,
              onclick: async () => {
                const ok = await confirmDialog({
                  title: 'End this silence now?',
                  message: s.comment,
                  confirmLabel: 'End',
                });
                if (ok === null) return;
                try {
                  await api(`v1/silences/${encodeURIComponent(s.id)}/expire`, { method: 'POST' });
                  toast('Silence ended: new occurrences open their alerts again', 'ok');
                  await load();
                } catch (err) {
                  toast(`End failed: ${/** @type {Error} */ (err).message}`, 'error');
                }
              },
            },
            'End',
          )
        : null;
    return h(
      'tr',
      { 'data-silence': s.id },
      h(
        'td',
        null,
        Object.entries(s.matchers).map(([k, v]) =>
          h(
            'div',
            null,
            h('span', { class: 'muted small' }, k === 'max_severity' ? 'severity at most ' : `${k} `),
            h('code', null, v),
          ),
        ),
      ),
      h('td', null, s.comment),
      h('td', null, s.createdBy, s.expiredBy ? h('div', { class: 'muted small' }, `ended by ${s.expiredBy}`) : null),
      h('td', null, timeEl(s.endsAt)),
      h(
        'td',
        { class: 'suppressed' },
        h('span', { class: 'num' }, String(s.suppressed)),
        h(
          'div',
          { class: 'muted small' },
          s.lastSuppressedAt === undefined ? 'none yet' : ['last ', timeEl(s.lastSuppressedAt)],
        ),
      ),
      h(
        'td',
        null,
        h('span', { class: `state state-${s.active ? 'active' : 'expired'}` }, s.active ? 'active' : 'ended'),
      ),
      h('td', { class: 'actions' }, expire),
    );
  }

  void load();
}
