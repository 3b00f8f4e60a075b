import { api, query } from '../api.js';
import { decisionHeaders, decisionRow, renewalsOf } from '../decision-actions.js';
import { absTime, h, kv, pageLayout, placeholder, replace, severityBadge, stateBadge, table, timeEl } from '../dom.js';

/** @typedef {import('../state.js').Alert} Alert */
/** @typedef {import('../state.js').Decision} Decision */

/** the API's largest page, and how many pages of a subject's alerts the timeline reads (the most recently seen) */
const PAGE = 500;
const MAX_PAGES = 4;

/**
 * the alerts of a subject, any state, the most recently seen first; `more`: older ones were left out
 * @param {string} type
 * @param {string} value
 */
async function subjectAlerts(type, value) {
  /** @type {Alert[]} */
  const items = [];
  /** @type {string | undefined} */
  let cursor;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await api(`v1/alerts${query({ subject: value, limit: PAGE, cursor })}`);
    // the API matches the value: an IP and a user of the same spelling are different subjects
    items.push(...page.items.filter((/** @type {Alert} */ a) => a.subject?.type === type));
    cursor = typeof page.next === 'string' ? page.next : undefined;
    if (!cursor) break;
  }
  return { items, more: cursor !== undefined };
}

/** @param {string[]} values */
const distinct = (values) => [...new Set(values)].sort();

/**
 * what the alerts say of the subject: when it was seen, what it did, where, and how far the triage is
 * @param {Alert[]} list oldest first
 */
function summary(list) {
  const first = Math.min(...list.map((a) => a.firstSeen));
  const last = Math.max(...list.map((a) => a.lastSeen));
  /** @param {Alert['state']} s */
  const inState = (s) => list.filter((a) => a.state === s).length;
  const endpoints = distinct(list.flatMap((a) => (a.endpoint ? [`${a.service} ${a.endpoint}`] : [])));
  return h(
    'dl',
    { class: 'kv subject-summary' },
    kv('Seen', [timeEl(first), h('span', { class: 'muted small' }, ` ${absTime(first)}`), ' to ', timeEl(last)]),
    kv(
      'Alerts',
      `${list.length}: ${inState('open')} open · ${inState('acknowledged')} acknowledged · ${inState('resolved')} resolved`,
    ),
    kv(
      'Kinds',
      distinct(list.map((a) => a.kind)).map((k) => h('span', { class: 'tag' }, k)),
    ),
    kv('Services', distinct(list.map((a) => a.service)).join(', ')),
    kv('Endpoints', endpoints.length ? endpoints.map((e) => h('div', null, h('code', null, e))) : '–'),
  );
}

/** @param {Alert} a */
const timelineRow = (a) =>
  h(
    'tr',
    { 'data-id': a.id, class: `sev-edge-${a.severity}` },
    h('td', null, severityBadge(a.severity)),
    h('td', null, a.kind),
    h('td', null, a.service, a.endpoint ? h('div', null, h('code', { class: 'small' }, a.endpoint)) : null),
    h('td', null, h('a', { href: `#/alerts/${encodeURIComponent(a.id)}` }, a.summary)),
    h('td', null, timeEl(a.firstSeen)),
    h('td', null, timeEl(a.lastSeen)),
    h('td', null, stateBadge(a.state)),
  );

/**
 * One subject (an IP, a user, a token…): what its alerts say of it, its alerts in any state oldest first, and the
 * decisions acting on it.
 * @param {HTMLElement} main
 * @param {string} type
 * @param {string} value
 */
export function renderSubject(main, type, value) {
  let gone = false;
  const overview = h(
    'section',
    { class: 'card', 'aria-labelledby': 'timeline-title' },
    h('h2', { id: 'timeline-title' }, 'Alerts'),
    placeholder('Loading…', 'loading'),
  );
  const decisions = h(
    'section',
    { class: 'card', 'aria-labelledby': 'subject-decisions-title' },
    h('h2', { id: 'subject-decisions-title' }, 'Decisions'),
    placeholder('Loading…', 'loading'),
  );
  replace(
    main,
    pageLayout(
      [h('span', { class: 'muted' }, `${type} `), h('code', { class: 'subject-value' }, value)],
      [h('a', { href: '#/alerts', class: 'muted small' }, '← Alert queue')],
      overview,
      decisions,
    ),
  );

  async function loadAlerts() {
    try {
      const { items, more } = await subjectAlerts(type, value);
      if (gone) return;
      const list = items.sort((a, b) => a.firstSeen - b.firstSeen || a.lastSeen - b.lastSeen);
      const title = h(
        'h2',
        { id: 'timeline-title' },
        'Alerts, oldest first ',
        h('span', { class: 'muted small' }, `(${list.length}${more ? ', the most recently seen' : ''})`),
      );
      if (list.length === 0) {
        replace(overview, title, placeholder(`No alert names ${type} ${value}.`));
        return;
      }
      replace(
        overview,
        title,
        summary(list),
        h(
          'div',
          { class: 'scroll-x' },
          table(
            ['Severity', 'Kind', 'Service / endpoint', 'Summary', 'First seen', 'Last seen', 'State'],
            list.map(timelineRow),
            { class: 'compact timeline', caption: `The alerts of ${type} ${value}, oldest first` },
          ),
        ),
        more ? h('p', { class: 'muted small' }, `Older alerts than these ${list.length} are left out.`) : null,
      );
    } catch (err) {
      if (gone) return;
      replace(
        overview,
        h('h2', { id: 'timeline-title' }, 'Alerts'),
        placeholder(`Could not load its alerts: ${/** @type {Error} */ (err).message}`, 'error'),
      );
    }
  }

  async function loadDecisions() {
    const title = h(
      'div',
      { class: 'card-head' },
      h('h2', { id: 'subject-decisions-title' }, 'Decisions'),
      h('a', { href: '#/decisions', class: 'muted small' }, 'All decisions'),
    );
    try {
      /** @type {{ decisions: Decision[] }} */
      const r = await api(`v1/decisions${query({ value, limit: 200 })}`);
      if (gone) return;
      const renewals = renewalsOf(r.decisions);
      replace(
        decisions,
        title,
        r.decisions.length
          ? h(
              'div',
              { class: 'scroll-x' },
              table(
                decisionHeaders({ alertColumn: true }),
                r.decisions.map((d) =>
                  decisionRow(d, () => void loadDecisions(), { alertColumn: true, renewedBy: renewals.get(d.id) }),
                ),
                { class: 'compact decisions', caption: `The decisions acting on ${value}, newest first` },
              ),
            )
          : placeholder(`No decision acts on ${value}.`),
      );
    } catch (err) {
      if (gone) return;
      const status = /** @type {{ status?: number }} */ (err).status;
      replace(
        decisions,
        title,
        status === 404
          ? placeholder('The policy engine is not enabled on this server.')
          : placeholder(`Could not load its decisions: ${/** @type {Error} */ (err).message}`, 'error'),
      );
    }
  }

  void loadAlerts();
  void loadDecisions();
  return () => {
    gone = true;
  };
}
