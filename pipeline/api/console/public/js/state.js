// Session state shared by the pages: who is signed in, and a bus carrying live alert changes.

/** @typedef {'viewer' | 'responder' | 'admin'} Role */
/** @typedef {{ id: string, role: Role, via: 'api_key' | 'oidc', name?: string }} Me */
/** @typedef {{ id: string, role: Role, via: 'api_key' | 'oidc', name?: string, lastSeen?: number }} Analyst */

/**
 * @typedef {object} Alert
 * @property {string} id
 * @property {string} kind
 * @property {string} severity
 * @property {'open' | 'acknowledged' | 'resolved'} state
 * @property {string} service
 * @property {string} [endpoint]
 * @property {{ type: string, value: string }} [subject]
 * @property {number} firstSeen
 * @property {number} lastSeen
 * @property {number} count
 * @property {string} summary
 * @property {string} [expected]
 * @property {string} [observed]
 * @property {{ recordIds: string[], metrics: Record<string, number> }} evidence
 * @property {Record<string, string>} [labels]
 * @property {string} [assignee] the analyst who owns it
 * @property {number} [triagedAt] when an analyst first acted on it; absent: nobody has
 * @property {string} [foldedInto] the root cause's alert it was folded into (across partitions)
 * @property {{ id: string, service: string, endpoint?: string, summary: string }[]} [folded] its symptoms folded into it
 * @property {number} updatedAt
 */

/**
 * @typedef {object} Decision
 * @property {string} id
 * @property {string} type
 * @property {string} scope
 * @property {string} value
 * @property {string} [route]
 * @property {string} [service]
 * @property {number} [until] when its enforcement ends; absent while pending_approval and on one never enforced
 * @property {number} [ttlMs] how long it is enforced once active
 * @property {number} [approvalDeadline] held for approval: not approved by then, it expires unapproved
 * @property {string} reason
 * @property {string} [alertId]
 * @property {string} [rule]
 * @property {string} [renews] the id of the decision this one renews (it expired while the alert went on)
 * @property {boolean} simulated
 * @property {'pending_approval' | 'active' | 'expired' | 'lifted' | 'failed'} state
 * @property {number} createdAt
 * @property {number} updatedAt
 */

const RANK = { viewer: 1, responder: 2, admin: 3 };

export const session = {
  /** @type {Me | null} */
  me: null,
  /** the analysts by principal id (GET /v1/analysts, read at sign-in): their names where ids are opaque */
  /** @type {Map<string, Analyst>} */
  analysts: new Map(),
  /** the alert queue's address as last shown, filters included: where an alert's page goes back to */
  queue: '#/alerts',
};

/**
 * Does the signed-in analyst hold at least `role`? Only decides what the console offers; the server checks again.
 * @param {Role} role
 */
export const can = (role) => session.me !== null && RANK[session.me.role] >= RANK[role];

/**
 * live events: `alert` (detail: Alert), `stream-open` (detail: `{ reconnect }`, the stream (re)connected; on a
 * reconnect, refresh what may have been missed),
 * `decision` (detail: Decision, changed by this analyst)
 */
export const live = new EventTarget();

/** @param {Alert} alert */
export const publishAlert = (alert) => live.dispatchEvent(new CustomEvent('alert', { detail: alert }));
