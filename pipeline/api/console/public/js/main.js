// Boot, sign-in/out, hash routing, the live alert stream and the navigation badges.
import { api, clearCredential, credential, followStream, UNAUTHENTICATED_EVENT } from './api.js';
import { loadAnalysts } from './alert-owner.js';
import { h, refreshTimes, replace } from './dom.js';
import { renderAlertDetail } from './pages/alert-detail.js';
import { renderAlerts } from './pages/alerts.js';
import { renderCoverage } from './pages/coverage.js';
import { renderAudit } from './pages/audit.js';
import { renderDecisions } from './pages/decisions.js';
import { renderInventory } from './pages/inventory.js';
import { renderLogin } from './pages/login.js';
import { renderSensors } from './pages/sensors.js';
import { renderServices } from './pages/services.js';
import { renderSilences } from './pages/silences.js';
import { renderSubject } from './pages/subject.js';
import { can, live, publishAlert, session } from './state.js';

/** @typedef {{ path: string[], params: URLSearchParams }} Route */
/** @typedef {(main: HTMLElement, route: Route) => (void | (() => void))} Page */

/** @type {Record<string, Page>} */
const PAGES = {
  alerts: (main, route) =>
    route.path[1] === 'silences'
      ? renderSilences(main)
      : route.path[1]
        ? renderAlertDetail(main, route.path[1], route.params)
        : renderAlerts(main, route.params),
  services: (main, route) => renderServices(main, route.path[1], route.params),
  inventory: (main, route) =>
    route.path[1] === 'coverage' ? renderCoverage(main, route.params) : renderInventory(main, route.params),
  decisions: (main) => renderDecisions(main),
  audit: (main, route) => renderAudit(main, route.params),
  sensors: (main) => renderSensors(main),
  // #/subject/<type>/<value>, each URL-encoded (a value may hold a slash)
  subject: (main, route) =>
    route.path[1] && route.path[2] ? renderSubject(main, route.path[1], route.path[2]) : location.replace('#/alerts'),
};

/** @type {Record<string, import('./state.js').Role>} pages (and their nav links, `data-role`) offered from a role up */
const PAGE_ROLES = { sensors: 'admin' };

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const topbar = /** @type {HTMLElement} */ (document.getElementById('topbar'));
/** @type {(() => void) | void} */
let cleanup;
/** @type {AbortController | null} */
let stream = null;
/** @type {number | undefined} */
let badgeTimer;
/** @type {number | undefined} */
let badgeSoon;
let unseenAlerts = 0;

/** @returns {Route} */
function currentRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q] = raw.split('?', 2);
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(q ?? '') };
}

function render() {
  if (!session.me) return;
  const route = currentRoute();
  const name = route.path[0] ?? '';
  if (!(name in PAGES) || (PAGE_ROLES[name] && !can(PAGE_ROLES[name]))) {
    location.replace('#/alerts');
    return;
  }
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.getAttribute('data-nav') === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (name === 'alerts') setUnseen(0);
  replace(main);
  cleanup = PAGES[name](main, route);
  main.focus({ preventScroll: true });
}

/** @param {number} n */
function setUnseen(n) {
  unseenAlerts = n;
  const badge = /** @type {HTMLElement} */ (document.getElementById('nav-open-alerts'));
  badge.hidden = n === 0;
  badge.textContent = n > 99 ? '99+' : String(n);
  badge.title = `${n} new alert${n === 1 ? '' : 's'} since you left the queue`;
}

async function refreshPendingBadge() {
  const badge = /** @type {HTMLElement} */ (document.getElementById('nav-pending'));
  try {
    const { decisions } = await api('v1/decisions?state=pending_approval&limit=100');
    badge.hidden = decisions.length === 0;
    badge.textContent = String(decisions.length);
    badge.title = `${decisions.length} decision${decisions.length === 1 ? '' : 's'} awaiting approval`;
  } catch {
    badge.hidden = true;
  }
}

/** @param {'live' | 'connecting' | 'offline'} state */
function setLive(state) {
  const el = /** @type {HTMLElement} */ (document.getElementById('live'));
  el.dataset.state = state;
  const label = el.querySelector('.live-label');
  if (label) label.textContent = state === 'live' ? 'live' : state === 'connecting' ? 'connecting' : 'reconnecting';
}

/** @param {import('./state.js').Me} me */
function signedIn(me) {
  session.me = me;
  topbar.hidden = false;
  replace(
    /** @type {HTMLElement} */ (document.getElementById('who')),
    h('span', { class: 'who-id', title: me.id }, me.name ?? me.id),
    h('span', { class: `role role-${me.role}` }, me.role),
  );
  // the links to pages offered from a role up (the server checks every call anyway)
  for (const el of document.querySelectorAll('[data-role]')) {
    const role = /** @type {import('./state.js').Role} */ (el.getAttribute('data-role'));
    el.toggleAttribute('hidden', !can(role));
  }
  stream = new AbortController();
  const seen = new Set();
  let opens = 0;
  void followStream('v1/alerts/stream', {
    signal: stream.signal,
    onState: setLive,
    // the first open races the first page's first read; any later one follows a gap the pages may have missed
    onOpen: () => live.dispatchEvent(new CustomEvent('stream-open', { detail: { reconnect: opens++ > 0 } })),
    onEvent: (event, data) => {
      if (event === 'decision') {
        // made, approved, lifted, expired by the policy engine: the pages that show decisions read them again
        try {
          live.dispatchEvent(new CustomEvent('decision', { detail: JSON.parse(data) }));
        } catch (err) {
          console.warn('bad decision event', err);
        }
        return;
      }
      if (event !== 'alert') return;
      try {
        const alert = JSON.parse(data);
        if (!seen.has(alert.id)) {
          seen.add(alert.id);
          if (currentRoute().path[0] !== 'alerts' || currentRoute().path[1]) setUnseen(unseenAlerts + 1);
        }
        publishAlert(alert);
      } catch (err) {
        console.warn('bad alert event', err);
      }
    },
  });
  void refreshPendingBadge();
  void loadAnalysts();
  badgeTimer = window.setInterval(refreshPendingBadge, 15_000);
  if (!location.hash || location.hash === '#' || location.hash === '#/') location.replace('#/alerts');
  render();
}

/** @param {string} [notice] */
function signOut(notice) {
  clearCredential();
  session.me = null;
  session.analysts.clear();
  session.queue = '#/alerts';
  stream?.abort();
  stream = null;
  window.clearInterval(badgeTimer);
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  topbar.hidden = true;
  setUnseen(0);
  renderLogin(main, signedIn, notice);
}

async function boot() {
  const cred = credential();
  if (!cred) {
    renderLogin(main, signedIn);
    return;
  }
  try {
    signedIn(await api('v1/me', { cred }));
  } catch {
    signOut('Your session is no longer valid: sign in again.');
  }
}

window.addEventListener('hashchange', render);
/** the pending count read again shortly, once for a burst of decision changes */
function badgeRefreshSoon() {
  window.clearTimeout(badgeSoon);
  badgeSoon = window.setTimeout(refreshPendingBadge, 500);
}
// the stream's decision changes, and this analyst's own actions
live.addEventListener('decision', badgeRefreshSoon);
window.addEventListener(UNAUTHENTICATED_EVENT, () => {
  if (session.me) signOut('The server refused your credential (expired or revoked): sign in again.');
});
document.getElementById('logout')?.addEventListener('click', () => signOut());
window.setInterval(refreshTimes, 15_000);

// g then a/s/i/d/l jumps between pages (ignored while typing)
let pendingG = false;
document.addEventListener('keydown', (e) => {
  const t = /** @type {HTMLElement} */ (e.target);
  if (!session.me || e.ctrlKey || e.metaKey || e.altKey || t.closest('input, textarea, select, dialog')) return;
  if (pendingG) {
    pendingG = false;
    const to = { a: 'alerts', s: 'services', i: 'inventory', d: 'decisions', l: 'audit' }[e.key];
    if (to) location.hash = `#/${to}`;
    return;
  }
  if (e.key === 'g') {
    pendingG = true;
    setTimeout(() => {
      pendingG = false;
    }, 1500);
  }
});

void boot();
