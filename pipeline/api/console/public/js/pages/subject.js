import { api, query } from '../api.js';
import { decisionHeaders, decisionRow, renewalsOf } from '../decision-actions.js';
import { absTime, h, kv, pageLayout, placeholder, replace, severityBadge, stateBadge, table, timeEl } from '../dom.js';
import { highlightNew, keepHighlight, placeBefore } from '../live-rows.js';
import { live } from '../state.js';

/** @typedef {import('../state.js').Alert} Alert */
/** @typedef {import('../state.js').Decision} Decision */

/** the API's largest page, and how many pages of a subject's alerts the timeline reads (the most recently seen) */
const PAGE = 500;
const MAX_PAGES = 4;
/** the subject types that are decision scopes too: their page lists the decisions of that scope only */
const SCOPES = new Set(['user', 'session', 'token', 'ip', 'principal', 'service']);
/** a burst of decision changes (the engine decides on several alerts at once) is read once, this long after its first */
const DECISIONS_SETTLE_MS = 500;

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
    h('td', null, h('a', { href: `#/alerts/${encodeURIComponent(a.id)}`, class: 'alert-link' }, a.summary)),
    h('td', null, timeEl(a.firstSeen)),
    h('td', null, timeEl(a.lastSeen)),
    h('td', null, stateBadge(a.state)),
  );

/**
 * whether `a` comes before `b` in the timeline: first seen earlier, then last seen earlier, then by id
 * @param {Alert} a
 * @param {Alert} b
 */
const earlier = (a, b) => (a.firstSeen - b.firstSeen || a.lastSeen - b.lastSeen || (a.id < b.id ? -1 : 1)) < 0;

/**
 * One subject (an IP, a user, a token…): what its alerts say of it, its alerts in any state oldest first, and the
 * decisions acting on it. Live: an alert of the subject from the stream is merged (a new one highlighted, a changed
 * one re-rendered where it now sorts) and the facts follow; the decisions are read again shortly after (the policy
 * engine decides on an alert right after it is stored); after a reconnect everything is read again.
 * @param {HTMLElement} main
 * @param {string} type
 * @param {string} value
 */
export function renderSubject(main, type, value) {
  /** the decisions' scope this page lists, when its type is one */
  const scope = SCOPES.has(type) ? type : undefined;
  let gone = false;
  /** @type {Map<string, Alert>} the alerts shown, by id */
  const shown = new Map();
  /** @type {Map<string, HTMLTableRowElement>} */
  const rows = new Map();
  /** older alerts than those read were left out */
  let more = false;
  /** a read of its alerts answered: until then the facts say loading (or the error), live alerts wait in the table */
  let read = false;
  const heading = h('h2', { id: 'timeline-title' }, 'Alerts');
  const facts = h('div', null, placeholder('Loading…', 'loading'));
  const timeline = table(
    ['Severity', 'Kind', 'Service / endpoint', 'Summary', 'First seen', 'Last seen', 'State'],
    [],
    { class: 'compact timeline', caption: `The alerts of ${type} ${value}, oldest first` },
  );
  const tbody = timeline.tBodies[0];
  const timelineBox = h('div', { class: 'scroll-x', hidden: true }, timeline);
  const leftOut = h('p', { class: 'muted small', hidden: true });
  const overview = h(
    'section',
    { class: 'card', 'aria-labelledby': 'timeline-title' },
    heading,
    facts,
    timelineBox,
    leftOut,
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

  /**
   * shows `a` where the timeline's order puts it, unless what is shown of it is newer (a read and the stream cross)
   * @param {Alert} a
   * @param {boolean} fresh new to the analyst (from the stream, or read after a reconnect): highlighted
   */
  function merge(a, fresh) {
    const had = shown.get(a.id);
    if (had && had.updatedAt > a.updatedAt) return;
    shown.set(a.id, a);
    const existing = rows.get(a.id);
    const tr = timelineRow(a);
    keepHighlight(existing, tr);
    existing?.remove();
    const placed = placeBefore(tbody, tr, (other) => {
      const b = shown.get(other.dataset.id ?? '');
      return b !== undefined && earlier(a, b);
    });
    if (!placed) tbody.appendChild(tr);
    if (fresh && !existing) highlightNew(tr, a);
    rows.set(a.id, tr);
  }

  /** the heading, the summary and the note on older alerts, from the alerts shown */
  function showFacts() {
    const list = [...shown.values()];
    replace(
      heading,
      'Alerts, oldest first ',
      h('span', { class: 'muted small' }, `(${list.length}${more ? ', the most recently seen' : ''})`),
    );
    replace(facts, list.length ? summary(list) : placeholder(`No alert names ${type} ${value}.`));
    timelineBox.hidden = list.length === 0;
    leftOut.hidden = !more;
    leftOut.textContent = `Older alerts than these ${list.length} are left out.`;
  }

  /** @param {boolean} again after a reconnect: what was missed is new to the analyst */
  async function loadAlerts(again) {
    try {
      const page = await subjectAlerts(type, value);
      if (gone) return;
      more = page.more;
      for (const a of page.items.sort((x, y) => (earlier(x, y) ? -1 : 1))) merge(a, again && !shown.has(a.id));
      read = true;
      showFacts();
    } catch (err) {
      // a read again that failed leaves what is shown: the next reconnect reads again
      if (gone || read) return;
      replace(heading, 'Alerts');
      replace(facts, placeholder(`Could not load its alerts: ${/** @type {Error} */ (err).message}`, 'error'));
    }
  }

  let decisionsRead = 0;
  async function loadDecisions() {
    const mine = ++decisionsRead;
    const title = h(
      'div',
      { class: 'card-head' },
      h('h2', { id: 'subject-decisions-title' }, 'Decisions'),
      h('a', { href: '#/decisions', class: 'muted small' }, 'All decisions'),
    );
    try {
      /** @type {{ decisions: Decision[] }} */
      const r = await api(`v1/decisions${query({ value, scope, limit: 200 })}`);
      if (gone || mine !== decisionsRead) return;
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
      if (gone || mine !== decisionsRead) return;
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

  /** @type {number | undefined} */
  let decisionsTimer;
  /** the decisions read again shortly, once for a burst of changes; not while a dialog (approve, lift) is open */
  function decisionsSoon() {
    if (decisionsTimer !== undefined) return;
    decisionsTimer = window.setTimeout(() => {
      decisionsTimer = undefined;
      if (document.querySelector('dialog[open]')) decisionsSoon();
      else void loadDecisions();
    }, DECISIONS_SETTLE_MS);
  }

  const onAlert = (/** @type {Event} */ e) => {
    const a = /** @type {CustomEvent<Alert>} */ (e).detail;
    if (a.subject?.type !== type || a.subject.value !== value) return;
    merge(a, true);
    if (read) showFacts();
  };
  // a decision made, approved, lifted or expired, from the stream (or this analyst's own action): one acting on it
  const onDecision = (/** @type {Event} */ e) => {
    const d = /** @type {CustomEvent<Decision>} */ (e).detail;
    if (d?.value === value && (scope === undefined || d.scope === scope)) decisionsSoon();
  };
  const onOpen = (/** @type {Event} */ e) => {
    // a reconnect: what came while the stream was down is read (the first open races the first read)
    if (!(/** @type {CustomEvent<{ reconnect: boolean }>} */ (e).detail.reconnect)) return;
    void loadAlerts(true);
    void loadDecisions();
  };
  live.addEventListener('alert', onAlert);
  live.addEventListener('decision', onDecision);
  live.addEventListener('stream-open', onOpen);

  void loadAlerts(false);
  void loadDecisions();
  return () => {
    gone = true;
    window.clearTimeout(decisionsTimer);
    live.removeEventListener('alert', onAlert);
    live.removeEventListener('decision', onDecision);
    live.removeEventListener('stream-open', onOpen);
  };
}
