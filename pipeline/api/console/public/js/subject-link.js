// A link to a subject's page (#/subject/<type>/<value>): everything about one IP, user, token… that alerts name.
import { h } from './dom.js';

/** @typedef {{ type: string, value: string }} Subject */

/** @param {Subject} s */
export const subjectHref = (s) => `#/subject/${encodeURIComponent(s.type)}/${encodeURIComponent(s.value)}`;

/**
 * the subject as the console shows it (its type, then its value), linked to its page. An inventory entry (`api`) is
 * shown by its endpoint when the alert names one (`api GET /search`): its id (`api_Nbm9…`) says nothing to an analyst,
 * and stays in the tooltip
 * @param {Subject} s
 * @param {string} [typeClass] the type's class (the queue's is small)
 * @param {string} [endpoint] the alert's endpoint
 */
export const subjectLink = (s, typeClass = 'muted', endpoint) =>
  h(
    'a',
    { href: subjectHref(s), class: 'subject-link', title: `Everything about ${s.type} ${s.value}` },
    h('span', { class: typeClass }, `${s.type} `),
    h('code', null, s.type === 'api' && endpoint ? endpoint : s.value),
  );
