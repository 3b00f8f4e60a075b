import { api, query } from '../api.js';
import { analystName, assignAlert, assignDialog, ownerName, unassignAlert } from '../alert-owner.js';
import { timeChart } from '../charts.js';
import { associationOf, associationTable, isAssociationKey } from '../association.js';
import { decisionCard, renewalsOf, showDecision } from '../decision-actions.js';
import { authOf, dataOf } from '../endpoint-facts.js';
import { reviewEntry } from '../review-dialog.js';
import {
  absTime,
  fmtMs,
  fmtNumber,
  fmtRate,
  fmtRatio,
  h,
  kv,
  placeholder,
  replace,
  severityBadge,
  stateBadge,
  table,
  timeEl,
  toast,
} from '../dom.js';
import { silenceDialog } from '../silence-dialog.js';
import { subjectHref, subjectLink } from '../subject-link.js';
import { can, live, session } from '../state.js';

/** @typedef {import('../state.js').Alert} Alert */
/** @typedef {{ ts: number, actor: string, action: string, comment?: string, assignee?: string | null, takenOverFrom?: string }} Note */
/** @typedef {{ start: number, count: number, errors: number, rate: number, errorRatio: number | null, p50: number | null, p95: number | null, p99: number | null }} Window null: a window without calls */

/** @type {Record<string, string>} */
const PAST = { acknowledge: 'acknowledged', resolve: 'resolved', reopen: 'reopened', comment: 'noted' };

/**
 * what a note says was done: `acknowledged`, `assigned it to bob`, `took it`, `took it over from kim`, `unassigned it`,
 * `removed kim as owner`
 * @param {Note} n
 */
function noteAction(n) {
  if (n.action !== 'assign') return PAST[n.action] ?? n.action;
  const from = n.takenOverFrom ? analystName(n.takenOverFrom) : '';
  if (n.assignee === null || n.assignee === undefined) return from ? `removed ${from} as owner` : 'unassigned it';
  if (n.assignee === n.actor) return from ? `took it over from ${from}` : 'took it';
  return `assigned it to ${analystName(n.assignee)}${from ? `, taking it over from ${from}` : ''}`;
}
const METRIC_KINDS = new Set(['error_burst', 'latency_spike', 'traffic_drop', 'traffic_spike']);
/** the service of alerts about meshward itself (the policy engine's, sensor_quiet): no traffic of its own to chart */
const SELF = 'meshward'; // MESHWARD_SERVICE of pipeline/core/alert-kinds.ts
/** how many related alerts of each kind the page lists */
const RELATED = 10;
/** how far before the alert its related alerts are looked for (the scan of the alert store stays bounded) */
const RELATED_SPAN_MS = 7 * 86_400_000;

/**
 * The series that fired: the metric-anomaly detector labels it; other detectors get the request rate as context.
 * @param {Alert} a
 * @returns {{ field: 'rate' | 'errorRatio' | 'p95', label: string, format: (v: number) => string, fromDetector: boolean }}
 */
function metricOf(a) {
  const m = a.labels?.metric;
  const fromDetector = m !== undefined || METRIC_KINDS.has(a.kind);
  if (m === 'error_ratio' || (!m && a.kind === 'error_burst'))
    return { field: 'errorRatio', label: 'error ratio', format: fmtRatio, fromDetector };
  if (m === 'p95' || (!m && a.kind === 'latency_spike'))
    return { field: 'p95', label: 'p95 latency', format: fmtMs, fromDetector };
  return { field: 'rate', label: 'request rate', format: fmtRate, fromDetector };
}

/**
 * @param {HTMLElement} main
 * @param {string} id
 * @param {URLSearchParams} [params] `decision`: one of its decisions to bring into view (a renewal's link)
 */
export function renderAlertDetail(main, id, params) {
  const head = h('div', { class: 'detail-head' }, placeholder('Loading…', 'loading'));
  const facts = h('section', { class: 'card facts', 'aria-label': 'Summary' });
  const chart = h('section', { class: 'card chart-card', 'aria-labelledby': 'chart-title' });
  const triage = h('section', { class: 'card', 'aria-labelledby': 'triage-title' });
  const decisions = h('section', { class: 'card', 'aria-labelledby': 'decisions-title' });
  const evidence = h('section', { class: 'card', 'aria-labelledby': 'evidence-title' });
  const endpoint = h('section', { class: 'card', 'aria-labelledby': 'endpoint-title', hidden: true });
  const related = h('section', { class: 'card', 'aria-labelledby': 'related-title', hidden: true });
  /** @type {(() => void)[]} */
  const disposers = [];
  /** the state the subject's inventory entry took when reviewed here: shown again when the alert re-renders live */
  const reviewed = { state: '' };
  /** the triage comment being written */
  const draft = { text: '' };
  let gone = false;
  /** the decision to bring into view once the decisions are shown */
  let wanted = params?.get('decision') ?? '';

  replace(
    main,
    h(
      'div',
      { class: 'page detail' },
      h('a', { href: session.queue, class: 'back' }, '← Alert queue'),
      head,
      h(
        'div',
        { class: 'detail-grid' },
        h('div', { class: 'col-main' }, facts, chart, related, evidence),
        h('div', { class: 'col-side' }, triage, decisions, endpoint),
      ),
    ),
  );

  /** @param {Alert} a */
  function renderHead(a) {
    replace(
      head,
      h(
        'div',
        { class: 'badges' },
        severityBadge(a.severity),
        stateBadge(a.state),
        h('span', { class: 'kind' }, a.kind),
      ),
      h('h1', null, a.summary),
    );
    const m = a.evidence.metrics;
    const association = associationOf(a.labels);
    const labels = Object.entries(a.labels ?? {}).filter(([k]) => !isAssociationKey(k, association));
    replace(
      facts,
      a.expected !== undefined || a.observed !== undefined
        ? h(
            'div',
            { class: 'expected-observed' },
            h(
              'div',
              { class: 'eo expected' },
              h('div', { class: 'eo-label' }, 'Expected'),
              h('div', { class: 'eo-value' }, a.expected ?? '–'),
            ),
            h(
              'div',
              { class: 'eo observed' },
              h('div', { class: 'eo-label' }, 'Observed'),
              h('div', { class: 'eo-value' }, a.observed ?? '–'),
            ),
          )
        : null,
      h(
        'dl',
        { class: 'kv' },
        kv('Service', a.service),
        kv('Endpoint', a.endpoint ? h('code', null, a.endpoint) : '–'),
        kv('Subject', a.subject ? subjectLink(a.subject, undefined, a.endpoint) : '–'),
        kv('First seen', [timeEl(a.firstSeen), h('span', { class: 'muted small' }, ` ${absTime(a.firstSeen)}`)]),
        kv('Last seen', [timeEl(a.lastSeen), h('span', { class: 'muted small' }, ` ${absTime(a.lastSeen)}`)]),
        kv('Fired', `${a.count} time${a.count === 1 ? '' : 's'}`),
        kv('Owner', a.assignee ? ownerName(a.assignee) : h('span', { class: 'muted' }, 'unassigned')),
        kv('Alert id', h('code', null, a.id)),
        a.foldedInto
          ? kv('Folded into', [
              h('a', { href: `#/alerts/${encodeURIComponent(a.foldedInto)}` }, a.foldedInto),
              h('span', { class: 'muted small' }, ' (a symptom of that root cause, on another partition)'),
            ])
          : null,
        a.folded?.length
          ? kv(
              'Also affected',
              h(
                'ul',
                { class: 'folded' },
                a.folded.map((f) =>
                  h(
                    'li',
                    null,
                    h(
                      'a',
                      { href: `#/alerts/${encodeURIComponent(f.id)}` },
                      f.endpoint ? `${f.service} ${f.endpoint}` : f.service,
                    ),
                    `: ${f.summary}`,
                  ),
                ),
              ),
            )
          : null,
        labels.length
          ? kv(
              'Labels',
              labels.map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`)),
            )
          : null,
        Object.keys(m).length
          ? kv(
              'Metrics',
              Object.entries(m).map(([k, v]) => h('span', { class: 'tag' }, `${k} ${fmtNumber(v)}`)),
            )
          : null,
      ),
      association.length ? associationPanel(a, association, reviewed) : null,
    );
  }

  /**
   * @param {Alert} a
   * @param {Note[]} notes
   */
  function renderTriage(a, notes) {
    const comment = /** @type {HTMLTextAreaElement} */ (
      h('textarea', {
        id: 'triage-comment',
        rows: 2,
        maxlength: 4000,
        placeholder: 'Comment: goes with the action you take, or Add note alone',
        oninput: () => {
          draft.text = comment.value;
        },
      })
    );
    // what the analyst is writing survives a live re-render (another analyst's change, a correlator refresh)
    comment.value = draft.text;
    /**
     * a button posting the comment (when there is one) with an action on this alert
     * @param {'acknowledge' | 'resolve' | 'reopen' | 'assign' | 'unassign' | 'notes'} action
     * @param {string} label
     * @param {string} done the toast once it is done
     * @param {Record<string, string>} [extra] more of the request body
     */
    const action = (action, label, done, extra = {}) =>
      h(
        'button',
        {
          type: 'button',
          class: `btn small ${action === 'resolve' ? 'primary' : action === 'notes' ? 'ghost' : ''}`,
          'data-action': action,
          onclick: async () => {
            const text = comment.value.trim();
            if (action === 'notes' && !text) {
              comment.focus();
              toast('Write the note first', 'error');
              return;
            }
            try {
              const body = { ...extra, ...(text ? { comment: text } : {}) };
              if (action === 'assign') {
                // another analyst's: taken over only once the analyst confirms
                if (!(await assignAlert(a.id, { assignee: extra.assignee, ...body }))) return;
              } else if (action === 'unassign') {
                // another analyst's: removed as owner only once the analyst confirms
                if (!(await unassignAlert(a.id, body))) return;
              } else await api(`v1/alerts/${encodeURIComponent(a.id)}/${action}`, { method: 'POST', body });
              draft.text = '';
              toast(done, 'ok');
              await refresh();
            } catch (err) {
              toast(`${label} failed: ${/** @type {Error} */ (err).message}`, 'error');
            }
          },
        },
        label,
      );
    const me = session.me?.id;
    /**
     * a button opening a dialog; the page refreshes when it changed something
     * @param {string} label
     * @param {() => Promise<unknown>} open
     */
    const dialogButton = (label, open) =>
      h(
        'button',
        {
          type: 'button',
          class: 'btn small ghost',
          onclick: async () => {
            if (await open()) await refresh();
          },
        },
        label,
      );
    replace(
      triage,
      h('h2', { id: 'triage-title' }, 'Triage'),
      can('responder')
        ? h(
            'div',
            { class: 'triage-form' },
            h('label', { for: 'triage-comment', class: 'sr-only' }, 'Comment'),
            comment,
            h(
              'div',
              { class: 'btn-row' },
              a.state === 'open' ? action('acknowledge', 'Acknowledge', 'Alert acknowledged') : null,
              a.state !== 'resolved'
                ? action('resolve', 'Resolve', 'Alert resolved')
                : action('reopen', 'Reopen', 'Alert reopened'),
              action('notes', 'Add note', 'Note added'),
              dialogButton('Silence similar…', () => silenceDialog(a)),
            ),
            h(
              'div',
              { class: 'btn-row', role: 'group', 'aria-label': 'Owner' },
              me && a.assignee !== me ? action('assign', 'Assign to me', 'Assigned to you', { assignee: me }) : null,
              dialogButton('Assign to…', () => assignDialog(a)),
              a.assignee ? action('unassign', 'Unassign', 'Owner taken away') : null,
            ),
          )
        : h('p', { class: 'muted small' }, 'Triage needs the responder role.'),
      h('h3', null, 'Notes'),
      notes.length
        ? h(
            'ol',
            { class: 'notes' },
            [...notes]
              .reverse()
              .map((n) =>
                h(
                  'li',
                  null,
                  h(
                    'div',
                    null,
                    h('strong', { title: n.actor }, analystName(n.actor)),
                    ` ${noteAction(n)} `,
                    timeEl(n.ts),
                  ),
                  n.comment ? h('p', { class: 'note-comment' }, n.comment) : null,
                ),
              ),
          )
        : h('p', { class: 'muted small' }, 'No notes yet.'),
    );
  }

  /**
   * Its decisions newest first: a rule's renewals above the decision each renews, which is dimmed ("renewed as").
   * @param {Alert} a
   */
  async function renderDecisions(a) {
    try {
      /** @type {{ decisions: import('../state.js').Decision[] }} */
      const { decisions: mine } = await api(`v1/decisions${query({ alert_id: a.id })}`);
      if (gone) return;
      const newest = [...mine].sort((x, y) => y.createdAt - x.createdAt);
      const renewals = renewalsOf(newest);
      replace(
        decisions,
        h('h2', { id: 'decisions-title' }, 'Decisions'),
        newest.length
          ? h(
              'div',
              { class: 'decision-list' },
              newest.map((d) => decisionCard(d, () => void renderDecisions(a), renewals.get(d.id))),
            )
          : h('p', { class: 'muted small' }, 'No policy decision was taken on this alert.'),
      );
      if (wanted) showDecision(wanted);
      wanted = '';
    } catch (err) {
      const status = /** @type {{ status?: number }} */ (err).status;
      replace(
        decisions,
        h('h2', { id: 'decisions-title' }, 'Decisions'),
        placeholder(
          status === 404
            ? 'The policy engine is not enabled on this server.'
            : `Could not load decisions: ${/** @type {Error} */ (err).message}`,
          status === 404 ? 'empty' : 'error',
        ),
      );
    }
  }

  /**
   * a quiet sensor: which one, its last record, what it had sent; the Sensors page (admins) lists them all
   * @param {Alert} a
   */
  function renderSensor(a) {
    const value = a.subject?.value ?? '';
    const slash = value.indexOf('/');
    replace(
      chart,
      h('h2', { id: 'chart-title' }, 'Sensor'),
      h(
        'dl',
        { class: 'kv' },
        kv('Kind', h('code', null, slash > 0 ? value.slice(0, slash) : '–')),
        kv('Sensor', h('code', null, slash > 0 ? value.slice(slash + 1) : value)),
        kv('Last record', timeEl(a.firstSeen)),
        kv('Records before', fmtNumber(a.evidence.metrics.records ?? 0)),
      ),
      can('admin') ? h('p', null, h('a', { href: '#/sensors' }, 'All sensors')) : null,
    );
  }

  /** @param {Alert} a */
  async function renderChart(a) {
    if (a.service === SELF) {
      // no traffic of meshward's own: a quiet sensor gets its facts, the policy engine's alerts nothing
      if (a.kind === 'sensor_quiet') renderSensor(a);
      else chart.hidden = true;
      return;
    }
    const metric = metricOf(a);
    const span = Math.max(a.lastSeen - a.firstSeen, 0);
    const from = a.firstSeen - Math.max(3_600_000, span * 2);
    const to = a.lastSeen + Math.max(900_000, span / 2);
    replace(
      chart,
      h(
        'h2',
        { id: 'chart-title' },
        `${metric.label[0].toUpperCase()}${metric.label.slice(1)}`,
        h('span', { class: 'muted small' }, ` · ${a.endpoint ?? `${a.service} (all endpoints)`}`),
      ),
    );
    try {
      const r = await api(
        `v1/services/${encodeURIComponent(a.service)}/metrics${query({ endpoint: a.endpoint, from, to, limit: 2000 })}`,
      );
      if (gone) return;
      /** @type {Window[]} */
      const points = r.points;
      if (points.length === 0) {
        chart.appendChild(placeholder('No metric history for this series in the alert window.'));
        return;
      }
      const width = points.length > 1 ? points[1].start - points[0].start : 60_000;
      const host = h('div', { class: 'chart-host' });
      chart.appendChild(host);
      const m = a.evidence.metrics;
      disposers.push(
        timeChart(host, {
          title: `${metric.label}, ${absTime(from)} – ${absTime(to)}; shaded red: when the alert fired`,
          times: points.map((p) => p.start),
          series: [{ label: metric.label, values: points.map((p) => p[metric.field]), color: '#ff8a65' }],
          format: metric.format,
          firing: [a.firstSeen, a.lastSeen + width],
          expected:
            metric.fromDetector && Number.isFinite(m.expected) ? { value: m.expected, spread: m.spread } : undefined,
          height: 220,
        }),
      );
      chart.appendChild(
        h(
          'p',
          { class: 'legend-note muted small' },
          h('span', { class: 'swatch firing' }),
          ' firing',
          metric.fromDetector && Number.isFinite(m.expected)
            ? [h('span', { class: 'swatch expected' }), ' expected (± spread)']
            : null,
        ),
      );
    } catch (err) {
      if (gone) return;
      // a service no correlator has written metrics for (yet): nothing to draw, not a failure
      chart.appendChild(
        /** @type {{ status?: number }} */ (err).status === 404
          ? placeholder(`No metrics recorded for ${a.service} yet.`)
          : placeholder(`Could not load metrics: ${/** @type {Error} */ (err).message}`, 'error'),
      );
    }
  }

  /** @param {any[]} records */
  function renderEvidence(records) {
    replace(
      evidence,
      h(
        'h2',
        { id: 'evidence-title' },
        'Evidence records ',
        h('span', { class: 'muted small' }, `(${records.length})`),
      ),
      records.length
        ? h(
            'div',
            { class: 'scroll-x' },
            table(
              ['Time', 'Method', 'Path', 'Status', 'Duration', 'Source', 'User', 'Region'],
              records
                .slice()
                .sort((x, y) => x.ts - y.ts)
                .map((r) =>
                  h(
                    'tr',
                    null,
                    h('td', { class: 'nowrap' }, absTime(r.ts)),
                    h('td', null, r.method),
                    h('td', { class: 'path' }, h('code', { title: r.path }, r.path)),
                    h('td', { class: `num status-${String(r.status)[0]}xx` }, r.status),
                    h('td', { class: 'num' }, fmtMs(r.durationMs)),
                    h('td', null, r.source?.ip ?? r.source?.service ?? '–'),
                    h(
                      'td',
                      null,
                      r.user?.sub ?? (r.user?.tokenHash ? h('code', { title: r.user.tokenHash }, 'token') : '–'),
                    ),
                    h('td', null, r.region ?? '–'),
                  ),
                ),
              { caption: 'Evidence records', class: 'compact evidence' },
            ),
          )
        : h('p', { class: 'muted small' }, 'No records kept for this alert (evidence is kept for a limited time).'),
    );
  }

  /**
   * what the inventory knows of the alert's endpoint: its state, calls, credentials, data, callers. Hidden when the
   * alert names no endpoint or the server keeps no inventory
   * @param {Alert} a
   */
  async function renderEndpoint(a) {
    if (!a.endpoint) return;
    const title = h('h2', { id: 'endpoint-title' }, 'Endpoint in the inventory');
    try {
      const { items } = await api(`v1/inventory${query({ service: a.service, endpoint: a.endpoint, limit: 1 })}`);
      if (gone) return;
      /** @type {import('../review-dialog.js').ApiEntry | undefined} */
      const e = items[0];
      endpoint.hidden = false;
      if (!e) {
        replace(
          endpoint,
          title,
          h('p', { class: 'muted small' }, 'Not in the inventory yet (the correlators write it at their checkpoints).'),
        );
        return;
      }
      const callers = e.callers ?? [];
      replace(
        endpoint,
        title,
        h(
          'dl',
          { class: 'kv' },
          kv('State', stateBadge(e.state)),
          kv('Calls', fmtNumber(e.count)),
          kv('Credentials', authOf(e)),
          kv('Data', dataOf(e)),
          kv(
            'Callers',
            callers.length
              ? `${callers.slice(0, 5).join(', ')}${callers.length > 5 ? ` and ${callers.length - 5} more` : ''}`
              : '–',
          ),
          kv('First seen', [timeEl(e.firstSeen), h('span', { class: 'muted small' }, ` ${absTime(e.firstSeen)}`)]),
        ),
        h(
          'a',
          { href: `#/inventory${query({ service: e.service, q: e.route })}`, class: 'small' },
          'Open in the inventory',
        ),
      );
    } catch (err) {
      if (/** @type {{ status?: number }} */ (err).status === 404 || gone) return;
      endpoint.hidden = false;
      replace(endpoint, title, placeholder(`Could not load it: ${/** @type {Error} */ (err).message}`, 'error'));
    }
  }

  /**
   * the other alerts of the same subject (the IP, user or token behind it) and of the same endpoint, in any state,
   * seen from a week before this one on: what else it did, what else happened there
   * @param {Alert} a
   */
  async function renderRelated(a) {
    /** @type {[string, string, Record<string, string>, string?][]} what is shared, its value (as is: ids and routes are case-sensitive), the query, the page of all its alerts */
    const asks = [];
    if (a.subject)
      asks.push([`Same ${a.subject.type}`, a.subject.value, { subject: a.subject.value }, subjectHref(a.subject)]);
    if (a.endpoint) asks.push(['Same endpoint', a.endpoint, { service: a.service, endpoint: a.endpoint }]);
    if (asks.length === 0) return;
    try {
      const lists = await Promise.all(
        asks.map(async ([label, value, q, href]) => {
          const from = a.firstSeen - RELATED_SPAN_MS;
          const page = await api(`v1/alerts${query({ ...q, from, limit: RELATED + 1 })}`);
          /** @type {Alert[]} */
          const others = page.items.filter((/** @type {Alert} */ x) => x.id !== a.id).slice(0, RELATED);
          return { label, value, href, title: `${label} ${value}`, others, more: Boolean(page.next) };
        }),
      );
      if (gone) return;
      related.hidden = false;
      replace(
        related,
        h(
          'h2',
          { id: 'related-title' },
          'Related alerts',
          h('span', { class: 'muted small' }, ' · from a week before this one on'),
        ),
        lists.map(({ label, value, href, title, others, more }) =>
          h(
            'div',
            { class: 'related-group' },
            h(
              'h3',
              null,
              href
                ? h('a', { href, title: 'All its alerts and decisions' }, `${label} `, h('code', null, value))
                : [`${label} `, h('code', null, value)],
              h('span', { class: 'muted small' }, ` (${others.length}${more ? '+' : ''})`),
            ),
            others.length
              ? table(
                  ['Severity', 'Alert', 'Service', 'State', 'Last seen'],
                  others.map((x) =>
                    h(
                      'tr',
                      null,
                      h('td', null, severityBadge(x.severity)),
                      h(
                        'td',
                        null,
                        h('a', { href: `#/alerts/${encodeURIComponent(x.id)}` }, x.summary),
                        h('div', { class: 'muted small' }, x.kind),
                      ),
                      h('td', null, x.service),
                      h('td', null, stateBadge(x.state)),
                      h('td', null, timeEl(x.lastSeen)),
                    ),
                  ),
                  { caption: title, class: 'compact related' },
                )
              : h('p', { class: 'muted small' }, 'No other alert.'),
          ),
        ),
      );
    } catch (err) {
      related.hidden = false;
      replace(
        related,
        h('h2', { id: 'related-title' }, 'Related alerts'),
        placeholder(`Could not load them: ${/** @type {Error} */ (err).message}`, 'error'),
      );
    }
  }

  let chartDrawn = false;
  async function refresh() {
    try {
      const r = await api(`v1/alerts/${encodeURIComponent(id)}`);
      if (gone) return;
      renderHead(r.alert);
      renderTriage(r.alert, r.notes);
      // an alert about meshward itself (a quiet sensor, an adapter that failed) has no calls behind it
      evidence.hidden = r.alert.service === SELF && r.records.length === 0;
      if (!evidence.hidden) renderEvidence(r.records);
      void renderDecisions(r.alert);
      if (!chartDrawn) {
        chartDrawn = true;
        void renderChart(r.alert);
        void renderEndpoint(r.alert);
        void renderRelated(r.alert);
      }
    } catch (err) {
      const status = /** @type {{ status?: number }} */ (err).status;
      replace(
        head,
        placeholder(
          status === 404
            ? `Alert ${id} does not exist.`
            : `Could not load the alert: ${/** @type {Error} */ (err).message}`,
          'error',
        ),
      );
    }
  }

  const onAlert = (/** @type {Event} */ e) => {
    if (/** @type {CustomEvent<Alert>} */ (e).detail.id === id) void refresh();
  };
  const onKey = (/** @type {KeyboardEvent} */ e) => {
    if (e.key === 'Escape' && !(/** @type {HTMLElement} */ (e.target).closest('input, textarea, select, dialog')))
      location.hash = session.queue;
  };
  live.addEventListener('alert', onAlert);
  document.addEventListener('keydown', onKey);
  void refresh();
  return () => {
    gone = true;
    live.removeEventListener('alert', onAlert);
    document.removeEventListener('keydown', onKey);
    for (const d of disposers) d();
  };
}

/**
 * A discovered API's association with the catalogue (shadow and zombie alerts), and where to confirm or correct it:
 * a responder reviews the endpoint here (the alert's subject is its inventory entry), anyone can open the service's
 * endpoints in the inventory
 * @param {Alert} a
 * @param {ReturnType<typeof associationOf>} association
 * @param {{ state: string }} reviewed the entry's state after a review on this page ('' before one)
 */
function associationPanel(a, association, reviewed) {
  const state = a.kind === 'zombie_api' ? 'zombie' : a.kind === 'shadow_api' ? 'shadow' : '';
  const entryId = a.subject?.type === 'api' ? a.subject.value : undefined;
  const reviewButton = reviewed.state
    ? stateBadge(reviewed.state)
    : entryId && can('responder')
      ? h(
          'button',
          { type: 'button', class: 'btn small primary', onclick: () => void review(entryId) },
          'Review labels',
        )
      : null;
  const panel = h(
    'section',
    { class: 'association-panel' },
    h('div', { class: 'card-head' }, h('h2', null, 'Association with the catalogue'), reviewButton),
    associationTable(association),
    h(
      'p',
      { class: 'muted small' },
      'Predicted from the catalogue APIs nearest to this one; ',
      h('a', { href: `#/inventory${query({ service: a.service, state })}` }, `review the endpoints of ${a.service}`),
      ' to confirm or correct the labels (the model learns from it).',
    ),
  );

  /** @param {string} id */
  async function review(id) {
    /** @type {import('../review-dialog.js').ApiEntry} */
    let entry;
    try {
      entry = await api(`v1/inventory/${encodeURIComponent(id)}`);
    } catch (err) {
      toast(`Could not load the inventory entry: ${/** @type {Error} */ (err).message}`, 'error');
      return;
    }
    const updated = await reviewEntry(entry);
    if (!updated) return;
    reviewed.state = updated.state;
    reviewButton?.replaceWith(stateBadge(updated.state));
  }

  return panel;
}
