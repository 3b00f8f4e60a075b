import { api } from '../api.js';
import { fmtNumber, h, pageLayout, placeholder, replace, stateBadge, table, timeEl } from '../dom.js';

/** @typedef {{ kind: string, id: string, lastSeen: number, records: number, quiet: boolean, quietAfterMinutes: number, alert: boolean }} SensorSeen */

/**
 * The sensors (admin): every one a collector accepted records from, quiet ones first (nothing for longer than
 * api.sensor_quiet_after_minutes, or their kind's api.sensor_quiet_by_kind, said in the row: every detector on their
 * traffic is blind), then the allowed sensor token ids never seen.
 * @param {HTMLElement} main
 */
export function renderSensors(main) {
  const body = h('div', { class: 'table-status' }, placeholder('Loading…', 'loading'));
  const threshold = h('span', { class: 'muted small' });
  replace(main, pageLayout('Sensors', [threshold], body));
  let gone = false;

  /**
   * @param {SensorSeen} s
   * @param {number} quietAfterMinutes the default threshold: a sensor whose kind has its own says it
   */
  const row = (s, quietAfterMinutes) =>
    h(
      'tr',
      { 'data-sensor': `${s.kind}/${s.id}`, 'data-quiet': s.quiet ? 'true' : 'false' },
      h('td', null, h('code', null, s.kind)),
      h(
        'td',
        null,
        h('code', null, s.id),
        s.quiet ? [' ', stateBadge('quiet')] : null,
        s.quietAfterMinutes === quietAfterMinutes
          ? null
          : [' ', h('span', { class: 'muted small quiet-after' }, `quiet after ${s.quietAfterMinutes} min`)],
        // its kind's (or every) sensor_quiet alert is off: quiet shows here only
        s.alert ? null : [' ', h('span', { class: 'muted small no-alert' }, 'no quiet alert')],
      ),
      h('td', { class: 'nowrap' }, timeEl(s.lastSeen)),
      h('td', { class: 'num' }, fmtNumber(s.records)),
    );

  /** @param {string} id */
  const neverRow = (id) =>
    h('tr', { 'data-sensor-token': id }, h('td', null, h('code', null, id)), h('td', null, stateBadge('never_seen')));

  void (async () => {
    try {
      /** @type {{ items: { id: string, lastSeen?: number }[], seen: SensorSeen[], quietAfterMinutes: number }} */
      const r = await api('v1/admin/sensors');
      if (gone) return;
      threshold.textContent = `quiet: no record for ${r.quietAfterMinutes} minutes`;
      // quiet first (the oldest on top), then the others by kind and id as the API gives them
      const seen = [...r.seen].sort(
        (a, b) => Number(b.quiet) - Number(a.quiet) || (a.quiet ? a.lastSeen - b.lastSeen : 0),
      );
      // a token is seen when a batch posted with it had records accepted, whatever sensor ids they carry
      const never = r.items.filter((i) => i.lastSeen === undefined).map((i) => i.id);
      replace(
        body,
        seen.length === 0
          ? placeholder('No sensor has sent a record yet.')
          : h(
              'div',
              { class: 'scroll-x' },
              table(
                ['Kind', 'Sensor', 'Last seen', 'Records'],
                seen.map((s) => row(s, r.quietAfterMinutes)),
                {
                  caption: 'Sensors seen',
                  class: 'compact sensors',
                },
              ),
            ),
        never.length === 0
          ? null
          : [
              h('h2', null, 'Allowed, never seen'),
              table(['Sensor token id', ''], never.map(neverRow), {
                caption: 'Sensor token ids never seen',
                class: 'compact sensor-tokens',
              }),
            ],
      );
    } catch (err) {
      if (gone) return;
      const code = /** @type {{ status?: number }} */ (err).status;
      replace(
        body,
        code === 403
          ? placeholder('Only an admin can see the sensors.')
          : placeholder(`Could not load the sensors: ${/** @type {Error} */ (err).message}`, 'error'),
      );
    }
  })();
  return () => {
    gone = true;
  };
}
