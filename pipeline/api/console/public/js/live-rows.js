// Live alert rows, as the queue and a subject's page merge them from the alert stream: a row goes where its table's
// order puts it; one new to the analyst is highlighted (`fresh`, 10 s) and announced, and a later change of it
// re-rendered before then keeps the highlight for what is left of the 10 s.
import { announce } from './dom.js';

const FRESH_MS = 10_000;

/**
 * puts `tr` before the first row of `tbody` that `goesBefore` says it comes before (`tr` itself skipped)
 * @param {HTMLElement} tbody
 * @param {HTMLTableRowElement} tr
 * @param {(other: HTMLElement) => boolean} goesBefore
 * @returns {boolean} false: it comes after every row, and was not placed
 */
export function placeBefore(tbody, tr, goesBefore) {
  for (const other of tbody.children) {
    if (other !== tr && goesBefore(/** @type {HTMLElement} */ (other))) {
      tbody.insertBefore(tr, other);
      return true;
    }
  }
  return false;
}

/** @param {HTMLElement} tr @param {number} ms */
function freshFor(tr, ms) {
  tr.classList.add('fresh');
  tr.dataset.freshUntil = String(Date.now() + ms);
  setTimeout(() => tr.classList.remove('fresh'), ms);
}

/**
 * a row of an alert new to the analyst: highlighted for a while, and said to screen readers
 * @param {HTMLElement} tr
 * @param {import('./state.js').Alert} a
 */
export function highlightNew(tr, a) {
  freshFor(tr, FRESH_MS);
  announce(`New ${a.severity} alert: ${a.summary}`);
}

/**
 * the row `to` re-renders `from`: it keeps `from`'s highlight for what is left of it
 * @param {HTMLElement | undefined} from
 * @param {HTMLElement} to
 */
export function keepHighlight(from, to) {
  if (!from?.classList.contains('fresh')) return;
  const left = Number(from.dataset.freshUntil ?? 0) - Date.now();
  if (left > 0) freshFor(to, left);
}
