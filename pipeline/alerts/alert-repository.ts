import { EventEmitter } from 'node:events';
import type { Alert, AlertState, Severity } from '../core/alert.js';
import { mwError } from '../core/errors.js';
import type { Store } from '../store/store.js';

const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
const BY_TIME = 'alerts:by-time';
const alertKey = (id: string) => `alert:${id}`;
const notesKey = (id: string) => `alert-notes:${id}`;

export interface AlertFilter {
  kind?: string;
  severity?: Severity;
  /** minimum severity */
  minSeverity?: Severity;
  service?: string;
  subject?: string;
  state?: AlertState;
  /** lastSeen range, epoch ms */
  from?: number;
  to?: number;
}

export interface AlertNote {
  ts: number;
  actor: string;
  action: 'acknowledge' | 'resolve' | 'reopen' | 'comment';
  comment?: string;
}

export interface AlertPage {
  items: Alert[];
  /** pass as `cursor` for the next page; absent on the last page */
  next?: string;
}

export type AlertChange = { type: 'upsert'; alert: Alert };

/**
 * The analysts' view of alerts, in the Store: upserts from the correlator (merged with what analysts did: an
 * acknowledged alert stays acknowledged while the correlator keeps refreshing it), filters with cursor paging, and
 * triage actions with notes. Emits `change` for live streams and sinks.
 */
export class AlertRepository extends EventEmitter<{ change: [AlertChange] }> {
  constructor(private readonly store: Store) {
    super();
    this.setMaxListeners(1000);
  }

  async upsert(incoming: Alert): Promise<Alert> {
    const raw = await this.store.get(alertKey(incoming.id));
    let merged = incoming;
    if (raw) {
      const current = JSON.parse(raw) as Alert;
      if (current.updatedAt > incoming.updatedAt && current.count >= incoming.count && current.state === incoming.state) return current;
      // the analyst's triage state wins over the correlator's "open"; the correlator's "resolved" wins over both
      const state: AlertState = incoming.state === 'resolved' ? 'resolved' : current.state === 'acknowledged' ? 'acknowledged' : incoming.state;
      merged = { ...incoming, state, updatedAt: Math.max(incoming.updatedAt, current.updatedAt) };
      if (current.state === 'resolved' && incoming.state !== 'resolved' && incoming.count <= current.count) merged.state = 'resolved';
    }
    await this.store.set(alertKey(merged.id), JSON.stringify(merged));
    await this.store.zadd(BY_TIME, merged.lastSeen, merged.id);
    this.emit('change', { type: 'upsert', alert: merged });
    return merged;
  }

  async get(id: string): Promise<Alert | null> {
    const raw = await this.store.get(alertKey(id));
    return raw ? (JSON.parse(raw) as Alert) : null;
  }

  /**
   * Newest first by lastSeen, ties by id descending (the order both stores give for equal scores). The cursor is
   * `<lastSeen>:<id>` of the previous page's last item: the next page holds what sorts strictly after it.
   */
  async list(filter: AlertFilter = {}, limit = 50, cursor?: string): Promise<AlertPage> {
    let hi = filter.to ?? Number.POSITIVE_INFINITY;
    let afterId: string | undefined;
    if (cursor) {
      const i = cursor.indexOf(':');
      const ts = Number(cursor.slice(0, i));
      if (i < 1 || !Number.isFinite(ts)) throw mwError('BAD_REQUEST', 'invalid cursor');
      hi = Math.min(hi, ts);
      afterId = cursor.slice(i + 1);
    }
    const min = filter.from ?? Number.NEGATIVE_INFINITY;
    const items: Alert[] = [];
    const chunk = Math.max(limit * 4, 200);
    for (;;) {
      const ids = await this.store.zrange(BY_TIME, min, hi, { rev: true, limit: chunk });
      const docs = await this.store.mget(ids.map(alertKey));
      let progressed = false;
      for (let i = 0; i < ids.length; i++) {
        const raw = docs[i];
        if (!raw) continue;
        const a = JSON.parse(raw) as Alert;
        if (afterId !== undefined && a.lastSeen === hi && ids[i] >= afterId) continue;
        progressed = true;
        hi = a.lastSeen;
        afterId = ids[i];
        if (!matches(a, filter)) continue;
        items.push(a);
        if (items.length === limit) return { items, next: `${a.lastSeen}:${a.id}` };
      }
      if (ids.length < chunk || !progressed) return { items };
    }
  }

  async transition(id: string, action: 'acknowledge' | 'resolve' | 'reopen', actor: string, comment?: string): Promise<Alert> {
    const a = await this.get(id);
    if (!a) throw mwError('NOT_FOUND', `alert ${id}`);
    const next: AlertState = action === 'acknowledge' ? 'acknowledged' : action === 'resolve' ? 'resolved' : 'open';
    if (action === 'acknowledge' && a.state !== 'open') throw mwError('CONFLICT', `alert is ${a.state}`);
    a.state = next;
    a.updatedAt = Date.now();
    await this.store.set(alertKey(id), JSON.stringify(a));
    await this.addNote(id, { ts: a.updatedAt, actor, action, ...(comment ? { comment } : {}) });
    this.emit('change', { type: 'upsert', alert: a });
    return a;
  }

  async addNote(id: string, note: AlertNote): Promise<void> {
    await this.store.append(notesKey(id), JSON.stringify(note));
  }

  async notes(id: string): Promise<AlertNote[]> {
    return (await this.store.readLog(notesKey(id), undefined, 500)).map((e) => JSON.parse(e.entry) as AlertNote);
  }
}

function matches(a: Alert, f: AlertFilter): boolean {
  if (f.kind && a.kind !== f.kind) return false;
  if (f.severity && a.severity !== f.severity) return false;
  if (f.minSeverity && SEVERITY_RANK[a.severity] < SEVERITY_RANK[f.minSeverity]) return false;
  if (f.service && a.service !== f.service) return false;
  if (f.state && a.state !== f.state) return false;
  if (f.subject && a.subject?.value !== f.subject) return false;
  return true;
}
