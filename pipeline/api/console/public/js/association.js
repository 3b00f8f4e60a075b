import { h, table } from './dom.js';

/** @typedef {{ value: string, probability: number, neighbours: string[], candidate?: string, pooled?: number, because?: string[] }} Label */

/** the label dimensions of the association model, in the order they are shown */
export const DIMENSIONS = ['category', 'lineOfBusiness', 'appCode'];

/** a comma-separated alert label as its items */
const list = (/** @type {string | undefined} */ s) => (s ? s.split(/,\s*/).filter(Boolean) : []);

/** the alert label keys a dimension's association is written to (`category`, `category_probability`, …) */
const SUFFIXES = ['', '_probability', '_neighbours', '_candidate', '_pooled', '_because'];

/**
 * One predicted label as a chip: the class (or, below the model's review threshold, its best class as a question)
 * and its probability; the reasons and nearest catalogue APIs in its tooltip.
 * @param {string} dim
 * @param {Label} l
 */
export function labelChip(dim, l) {
  // the model's own review threshold decides: an unassigned label shows its best class as a question
  const sure = l.value !== 'unassigned';
  const shown = sure ? l.value : `${l.candidate ?? 'unassigned'}?`;
  const verdict = sure ? l.value : `unassigned, needs review${l.candidate ? ` (best class ${l.candidate})` : ''}`;
  return h(
    'span',
    {
      class: `label-chip ${sure ? '' : 'unsure'}`,
      title: `${dim}: ${verdict} (${Math.round(l.probability * 100)} %)${l.pooled ? `\nassociated together with ${l.pooled - 1} other endpoint(s) of this new provider` : ''}${l.because?.length ? `\nbecause: ${l.because.join(', ')}` : ''}${l.neighbours?.length ? `\nneighbours: ${l.neighbours.slice(0, 10).join(', ')}` : ''}`,
    },
    h('span', { class: 'dim' }, dim),
    ` ${shown} `,
    h('span', { class: 'prob' }, `${Math.round(l.probability * 100)}%`),
  );
}

/**
 * The association an alert carries in its labels (a shadow or zombie API's: `category`, `category_probability`,
 * `category_neighbours`, …), by dimension; dimensions without a probability are not associations
 * @param {Record<string, string> | undefined} labels
 * @returns {[string, Label][]}
 */
export function associationOf(labels) {
  if (!labels) return [];
  /** @type {[string, Label][]} */
  const out = [];
  for (const dim of DIMENSIONS) {
    const value = labels[dim];
    const probability = Number(labels[`${dim}_probability`]);
    if (value === undefined || !Number.isFinite(probability)) continue;
    const pooled = Number(labels[`${dim}_pooled`]);
    out.push([
      dim,
      {
        value,
        probability,
        neighbours: list(labels[`${dim}_neighbours`]),
        ...(labels[`${dim}_candidate`] ? { candidate: labels[`${dim}_candidate`] } : {}),
        ...(Number.isFinite(pooled) && pooled > 0 ? { pooled } : {}),
        because: list(labels[`${dim}_because`]),
      },
    ]);
  }
  return out;
}

/** whether an alert label key belongs to an association shown by associationTable */
export function isAssociationKey(/** @type {string} */ key, /** @type {[string, Label][]} */ association) {
  return association.some(([dim]) => SUFFIXES.some((s) => key === `${dim}${s}`));
}

/**
 * The association as a table an analyst reads before confirming or correcting it in the inventory: per dimension the
 * label, why, and the catalogue APIs nearest to it
 * @param {[string, Label][]} association
 */
export function associationTable(association) {
  return table(
    ['Dimension', 'Label', 'Because', 'Nearest catalogue APIs'],
    association.map(([dim, l]) =>
      h(
        'tr',
        null,
        h('td', null, dim),
        h('td', null, labelChip(dim, l)),
        h('td', null, l.because?.length ? l.because.join(', ') : h('span', { class: 'muted' }, '–')),
        h(
          'td',
          null,
          l.neighbours.length
            ? l.neighbours.slice(0, 5).map((n) => h('code', { class: 'tag' }, n))
            : h('span', { class: 'muted' }, '–'),
        ),
      ),
    ),
    { caption: 'Association with the catalogue', class: 'compact association' },
  );
}
