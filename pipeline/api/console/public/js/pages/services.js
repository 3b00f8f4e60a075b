import { api, query } from '../api.js';
import { timeChart } from '../charts.js';
import { fmtMs, fmtNumber, fmtRate, fmtRatio, h, pageLayout, placeholder, replace, table, timeEl } from '../dom.js';

/** @typedef {{ service: string, endpoint?: string, start: number, count: number, errors: number, rate: number, errorRatio: number | null, p50: number | null, p95: number | null, p99: number | null, lastWindow: number }} Summary */
/** @typedef {{ start: number, count: number, errors: number, rate: number, errorRatio: number | null, p50: number | null, p95: number | null, p99: number | null }} Window */

/**
 * A figure cell of the last window: a window without calls has no error ratio and no latency (the API answers null),
 * shown as '–' and said so on hover, never as 0 ms or 0 %.
 * @param {number | null} v
 * @param {(v: number | null) => string} format
 * @param {boolean} [bad]
 */
const figure = (v, format, bad = false) =>
  h(
    'td',
    { class: `num ${bad ? 'bad' : ''}`, title: v === null ? 'no call in the last window' : undefined },
    format(v),
  );

const RANGES = /** @type {const} */ ([
  ['1h', 3_600_000],
  ['6h', 6 * 3_600_000],
  ['24h', 24 * 3_600_000],
  ['7d', 7 * 24 * 3_600_000],
]);

/**
 * Services seen in traffic, and for the selected one its rate, error ratio and latency over time and its endpoints.
 * @param {HTMLElement} main
 * @param {string | undefined} selected
 * @param {URLSearchParams} params `endpoint`, `range`
 */
export function renderServices(main, selected, params) {
  const endpoint = params.get('endpoint') ?? undefined;
  const rangeName = params.get('range') ?? '6h';
  const range = (RANGES.find(([n]) => n === rangeName) ?? RANGES[1])[1];
  const list = h(
    'section',
    { class: 'card', 'aria-labelledby': 'services-title' },
    h('h2', { id: 'services-title' }, 'Services'),
    placeholder('Loading…', 'loading'),
  );
  const detail = h('section', { class: 'service-detail', 'aria-live': 'polite' });
  /** @type {(() => void)[]} */
  const disposers = [];
  let gone = false;
  replace(main, pageLayout('Services', [], list, detail));

  /** @param {Record<string, string | undefined>} p */
  const link = (p) => {
    const name = p.service ?? selected ?? '';
    return `#/services/${encodeURIComponent(name)}${query({ endpoint: p.endpoint, range: p.range ?? (rangeName === '6h' ? undefined : rangeName) })}`;
  };

  async function load() {
    let items;
    try {
      items = /** @type {Summary[]} */ ((await api('v1/services')).items);
    } catch (err) {
      replace(
        list,
        h('h2', { id: 'services-title' }, 'Services'),
        placeholder(`Could not load services: ${/** @type {Error} */ (err).message}`, 'error'),
      );
      return;
    }
    if (gone) return;
    const current = items.find((s) => s.service === selected) ?? items[0];
    replace(
      list,
      h('h2', { id: 'services-title' }, 'Services ', h('span', { class: 'muted small' }, `(${items.length})`)),
      items.length
        ? table(
            ['Service', 'Requests (last window)', 'Rate', 'Error ratio', 'p95', 'p99', 'Last window'],
            items.map((s) =>
              h(
                'tr',
                { class: s === current ? 'selected' : '', 'aria-current': s === current ? 'true' : undefined },
                h('td', null, h('a', { href: link({ service: s.service, endpoint: undefined }) }, s.service)),
                h('td', { class: 'num' }, fmtNumber(s.count)),
                h('td', { class: 'num' }, fmtRate(s.rate)),
                figure(s.errorRatio, fmtRatio, (s.errorRatio ?? 0) >= 0.05),
                figure(s.p95, fmtMs),
                figure(s.p99, fmtMs),
                h('td', null, timeEl(s.lastWindow)),
              ),
            ),
            { caption: 'Services', class: 'compact' },
          )
        : placeholder('No traffic seen yet: services appear once sensors send records.'),
    );
    if (current) await renderService(current);
  }

  /** @param {Summary} s */
  async function renderService(s) {
    const to = s.lastWindow + 60_000;
    const from = to - range;
    const charts = h('div', { class: 'charts-3' });
    const endpoints = h(
      'section',
      { class: 'card', 'aria-labelledby': 'endpoints-title' },
      h('h2', { id: 'endpoints-title' }, 'Endpoints'),
      placeholder('Loading…', 'loading'),
    );
    replace(
      detail,
      h(
        'div',
        { class: 'card' },
        h(
          'div',
          { class: 'card-head' },
          h(
            'h2',
            null,
            s.service,
            endpoint ? [' · ', h('code', null, endpoint)] : h('span', { class: 'muted small' }, ' · all endpoints'),
          ),
          h(
            'div',
            { class: 'btn-row', role: 'group', 'aria-label': 'Time range' },
            endpoint
              ? h('a', { class: 'btn small ghost', href: link({ endpoint: undefined }) }, 'Whole service')
              : null,
            RANGES.map(([n]) =>
              h(
                'a',
                {
                  class: `btn small ${n === rangeName ? 'active' : 'ghost'}`,
                  href: link({ endpoint, range: n }),
                  'aria-pressed': String(n === rangeName),
                },
                n,
              ),
            ),
          ),
        ),
        charts,
      ),
      endpoints,
    );
    void renderEndpoints(s, endpoints);
    try {
      const r = await api(
        `v1/services/${encodeURIComponent(s.service)}/metrics${query({ endpoint, from, to, limit: 10_080 })}`,
      );
      if (gone) return;
      /** @type {Window[]} */
      const points = r.points;
      if (points.length === 0) {
        charts.appendChild(placeholder('No windows in this range.'));
        return;
      }
      const times = points.map((p) => p.start);
      for (const spec of [
        {
          title: 'Request rate',
          series: [{ label: 'rate', values: points.map((p) => p.rate), color: '#5cc8ff' }],
          format: fmtRate,
        },
        {
          title: 'Error ratio',
          series: [{ label: 'errors', values: points.map((p) => p.errorRatio), color: '#ff6b6b' }],
          format: fmtRatio,
        },
        {
          title: 'Latency',
          series: [
            { label: 'p95', values: points.map((p) => p.p95), color: '#ffc53d' },
            { label: 'p50', values: points.map((p) => p.p50), color: '#8fd18f' },
          ],
          format: fmtMs,
        },
      ]) {
        const host = h('div', { class: 'chart-host' });
        charts.appendChild(host);
        disposers.push(timeChart(host, { ...spec, times, height: 170 }));
      }
    } catch (err) {
      charts.appendChild(placeholder(`Could not load metrics: ${/** @type {Error} */ (err).message}`, 'error'));
    }
  }

  /**
   * @param {Summary} s
   * @param {HTMLElement} box
   */
  async function renderEndpoints(s, box) {
    try {
      /** @type {Summary[]} */
      const items = (await api(`v1/services/${encodeURIComponent(s.service)}/endpoints`)).items;
      if (gone) return;
      replace(
        box,
        h('h2', { id: 'endpoints-title' }, 'Endpoints ', h('span', { class: 'muted small' }, `(${items.length})`)),
        items.length
          ? table(
              ['Endpoint', 'Requests (last window)', 'Rate', 'Error ratio', 'p50', 'p95', 'p99', 'Last window'],
              items.map((e) =>
                h(
                  'tr',
                  { class: e.endpoint === endpoint ? 'selected' : '' },
                  h('td', null, h('a', { href: link({ endpoint: e.endpoint }) }, h('code', null, e.endpoint ?? ''))),
                  h('td', { class: 'num' }, fmtNumber(e.count)),
                  h('td', { class: 'num' }, fmtRate(e.rate)),
                  figure(e.errorRatio, fmtRatio, (e.errorRatio ?? 0) >= 0.05),
                  figure(e.p50, fmtMs),
                  figure(e.p95, fmtMs),
                  figure(e.p99, fmtMs),
                  h('td', null, timeEl(e.lastWindow)),
                ),
              ),
              { caption: `Endpoints of ${s.service}`, class: 'compact' },
            )
          : placeholder('No endpoint series for this service (endpoint series may be disabled).'),
      );
    } catch (err) {
      replace(
        box,
        h('h2', { id: 'endpoints-title' }, 'Endpoints'),
        placeholder(`Could not load endpoints: ${/** @type {Error} */ (err).message}`, 'error'),
      );
    }
  }

  void load();
  return () => {
    gone = true;
    for (const d of disposers) d();
  };
}
