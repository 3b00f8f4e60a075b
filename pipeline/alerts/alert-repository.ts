import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Alert, type AlertState, type FoldedSymptom, SEVERITY_RANK, type Severity } from '../core/alert.js';
import { mwError } from '../core/errors.js';
import { counter } from '../core/metrics.js';
import { announceChange, type ChangeFeed, followChanges } from '../store/change-feed.js';
import type { Store } from '../store/store.js';
import { type AlertSort, cursorOf, parseCursor, positionOf } from './alert-sort.js';
import {
  type QueueSort,
  entryAt,
  idOfEntry,
  queueEntries,
  queueEntry,
  queueIndexKey,
  sameEntries,
  stateRange,
  writeQueueEntries,
} from './queue-index.js';

const unannounced = counter(
  'meshward_alert_changes_unannounced_total',
  'alert changes stored but not announced to other API replicas (store pub/sub and changes log failed); their live streams miss them',
);
const caughtUp = counter(
  'meshward_alert_changes_caught_up_total',
  "alert changes an API replica's live streams took from the changes log because their announcement did not reach it",
);
const badAnnouncements = counter(
  'meshward_alert_announcements_invalid_total',
  'alert-change announcements that were not alerts',
);

const BY_TIME = 'alerts:by-time';
/** the alerts not resolved (open, acknowledged) by lastSeen: the analysts' queue reads it instead of every alert */
const LIVE_BY_TIME = 'alerts:live-by-time';
/** set once LIVE_BY_TIME holds every unresolved alert (stores from before it get it built at start) */
const LIVE_INDEXED = 'alerts:live-indexed';
/** set once the queue's indexes by severity, count and first seen hold every unresolved alert (queue-index.ts) */
const QUEUE_INDEXED = 'alerts:queue-indexed';
const alertKey = (id: string) => `alert:${id}`;
const notesKey = (id: string) => `alert-notes:${id}`;
/** a read-modify-write that lost this many races in a row gives up (it only happens under a storm of writers) */
const MAX_UPDATE_ATTEMPTS = 20;
/** alerts read per step of a retention pass or an index build */
const SCAN_CHUNK = 500;
const updateConflicts = counter(
  'meshward_alert_update_conflicts_total',
  'alert read-modify-writes that found the alert changed by another process and ran again',
);
const pruned = counter(
  'meshward_alerts_pruned_total',
  'alerts deleted with their notes by retention (reason: resolved, stale, overflow)',
  ['reason'],
);
/** the store channel on which every repository (every API replica) announces its changes */
/** alert changes: announced on the store, and kept in a log for the replicas an announcement missed */
const FEED: ChangeFeed = { channel: 'alerts:changes', log: 'alerts:changes:log', logMax: 10_000 };

export interface AlertFilter {
  kind?: string;
  severity?: Severity;
  /** minimum severity */
  minSeverity?: Severity;
  service?: string;
  subject?: string;
  /** `METHOD /route` */
  endpoint?: string;
  state?: AlertState;
  /** the analyst who owns it (principal id) */
  assignee?: string;
  /** only alerts nobody owns */
  unassigned?: boolean;
  /** only alerts no analyst has acted on yet, in any state (one the correlators resolved too) */
  untriaged?: boolean;
  /** lastSeen range, epoch ms */
  from?: number;
  to?: number;
}

export interface AlertNote {
  ts: number;
  actor: string;
  action: 'acknowledge' | 'resolve' | 'reopen' | 'comment' | 'assign';
  comment?: string;
  /** assign: the new owner, null when the alert was unassigned */
  assignee?: string | null;
  /**
   * assign: the analyst who owned it before (another than the actor) and it was taken from, to another owner or, when
   * `assignee` is null, to none
   */
  takenOverFrom?: string;
}

export interface AlertPage {
  items: Alert[];
  /** pass as `cursor` for the next page; absent on the last page */
  next?: string;
}

export type AlertChange = { type: 'upsert'; alert: Alert };

/** how long alerts are kept (`api.retention`); an alert's age runs from its last occurrence or change */
export interface AlertRetention {
  /** a resolved alert is deleted this long after it was last seen or changed */
  resolvedMaxAgeMs: number;
  /** any alert, whatever its state */
  maxAgeMs: number;
  /** past this many alerts the least recently seen go first, whatever their state */
  maxAlerts: number;
}

export interface PruneResult {
  resolved: number;
  stale: number;
  overflow: number;
}

/**
 * The analysts' view of alerts, in the Store: upserts from the correlator (merged with what analysts did: an
 * acknowledged alert stays acknowledged, and an owned one owned, while the correlator keeps refreshing it), filters
 * with cursor paging, and triage actions, owners and notes. Emits `change` for live streams: its own changes at once,
 * and, after `follow()`, those other repositories on the same store made (API replicas share the alerts topic's
 * consumer group, so each stores only part of the alerts, and analysts triage on any replica).
 */
export class AlertRepository extends EventEmitter<{ change: [AlertChange] }> {
  private readonly origin = randomUUID();
  private liveIndexed = false;
  private queueIndexed = false;

  constructor(private readonly store: Store) {
    super();
    this.setMaxListeners(1000);
  }

  /**
   * emit the changes other repositories on this store announce (change-feed.ts: at once, and from the changes log
   * every 2 s those whose announcement this replica missed); returns the function that stops it
   */
  follow(opts: { catchUpMs?: number } = {}): Promise<() => Promise<void>> {
    return followChanges(
      this.store,
      FEED,
      {
        parse: (message) => {
          let m: { from?: unknown; alert?: Alert };
          try {
            m = JSON.parse(message);
          } catch {
            badAnnouncements.inc();
            return undefined;
          }
          if (m.from === this.origin) return undefined;
          if (typeof m.alert?.id !== 'string') {
            badAnnouncements.inc();
            return undefined;
          }
          return m.alert;
        },
        versionOf: (alert) => ({ id: alert.id, at: alert.updatedAt }),
        catchUpMs: opts.catchUpMs,
      },
      (alert, caught) => {
        if (caught) caughtUp.inc();
        this.emit('change', { type: 'upsert', alert });
      },
    );
  }

  private changed(alert: Alert): void {
    this.emit('change', { type: 'upsert', alert });
    void announceChange(this.store, FEED, JSON.stringify({ from: this.origin, alert })).then((reached) => {
      if (!reached) unannounced.inc();
    });
  }

  /**
   * store an alert from the correlators (the alerts topic). `keepResolved`: a resolved stored alert stays resolved
   * whatever the refresh brings (the condition behind it was settled, as a review settles a shadow API); else a
   * refresh with more occurrences reopens it. `resolveWith`: store it resolved (a silence covers it), with this note
   * when that is a change. A state the correlators change (resolved once quiet, opened again by new occurrences) is
   * noted too, by `meshward`, so an alert's history says why it is no longer, or again, in the queue
   */
  async upsert(incoming: Alert, options: { keepResolved?: boolean; resolveWith?: AlertNote } = {}): Promise<Alert> {
    // a silence is an analyst's decision on the alerts it covers: they count as triaged
    if (options.resolveWith) incoming = { ...incoming, state: 'resolved', triagedAt: options.resolveWith.ts };
    let resolvedNow = false;
    let before = null as Alert | null;
    const { alert: merged, written } = await this.update(incoming.id, (current) => {
      resolvedNow = incoming.state === 'resolved' && current?.state !== 'resolved';
      before = current;
      if (!current) return incoming;
      // a stale copy of what is stored already: keep the stored one
      if (current.updatedAt > incoming.updatedAt && current.count >= incoming.count && current.state === incoming.state)
        return undefined;
      // the analyst's triage state wins over the correlator's "open"; the correlator's "resolved" wins over both
      const state: AlertState =
        incoming.state === 'resolved' ? 'resolved' : current.state === 'acknowledged' ? 'acknowledged' : incoming.state;
      const next: Alert = { ...incoming, state, updatedAt: Math.max(incoming.updatedAt, current.updatedAt) };
      // its owner is the analysts' to change, whatever the correlator refreshes
      if (current.assignee !== undefined) next.assignee = current.assignee;
      else delete next.assignee;
      if (current.triagedAt !== undefined) next.triagedAt = current.triagedAt;
      // what folding across partitions did is the API's (a correlator's refresh knows nothing of it): a folded
      // symptom stays folded and resolved, a root keeps its folded symptoms
      if (current.folded !== undefined) next.folded = current.folded;
      if (current.foldedInto !== undefined) {
        next.foldedInto = current.foldedInto;
        next.state = 'resolved';
      }
      if (
        current.state === 'resolved' &&
        incoming.state !== 'resolved' &&
        (incoming.count <= current.count || options.keepResolved)
      )
        next.state = 'resolved';
      return next;
    });
    if (!written) return merged;
    await Promise.all([this.store.zadd(BY_TIME, merged.lastSeen, merged.id), this.indexState(merged)]);
    this.changed(merged);
    if (options.resolveWith && resolvedNow) await this.addNote(merged.id, options.resolveWith);
    else if (before && before.state !== merged.state) await this.addNote(merged.id, correlatorNote(before, merged));
    return merged;
  }

  /**
   * Read-modify-write of one alert that other processes (API replicas: correlator upserts, analysts' triage) may be
   * changing at the same time: `change` gets the stored alert and returns the new one (undefined: keep it); the write
   * happens only if nobody wrote in between, else it runs again on what they wrote.
   */
  private async update(
    id: string,
    change: (current: Alert | null) => Alert | undefined,
  ): Promise<{ alert: Alert; written: boolean }> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const raw = await this.store.get(alertKey(id));
      const current = raw ? (JSON.parse(raw) as Alert) : null;
      const next = change(current);
      if (next === undefined) return { alert: current as Alert, written: false };
      if (await this.store.compareAndSet(alertKey(id), raw, JSON.stringify(next)))
        return { alert: next, written: true };
      updateConflicts.inc();
    }
    throw mwError('CONFLICT', `alert ${id} kept changing under concurrent updates; try again`);
  }

  async get(id: string): Promise<Alert | null> {
    const raw = await this.store.get(alertKey(id));
    return raw ? (JSON.parse(raw) as Alert) : null;
  }

  /**
   * build the indexes of unresolved alerts (by time, and the queue's by severity, count and first seen) for a store
   * written before it had them (once; several API replicas may do it at the same time). Until the first is built,
   * lists by state read every alert; a sorted list builds them first
   */
  async buildIndexes(): Promise<void> {
    if (!this.liveIndexed && (await this.store.get(LIVE_INDEXED))) this.liveIndexed = true;
    if (!this.liveIndexed) {
      const ids = await this.store.zrange(BY_TIME, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
      for await (const a of this.unresolvedAmong(ids)) await this.store.zadd(LIVE_BY_TIME, a.lastSeen, a.id);
      await this.store.set(LIVE_INDEXED, '1');
      this.liveIndexed = true;
    }
    if (!this.queueIndexed && (await this.store.get(QUEUE_INDEXED))) this.queueIndexed = true;
    if (!this.queueIndexed) {
      const ids = await this.store.zrange(LIVE_BY_TIME, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
      for (let i = 0; i < ids.length; i += SCAN_CHUNK) await this.indexQueueChunk(ids.slice(i, i + SCAN_CHUNK));
      await this.store.set(QUEUE_INDEXED, '1');
      this.queueIndexed = true;
    }
  }

  /**
   * put these alerts in the queue's indexes as they are stored; then read them again and write those a writer
   * changed in between, as indexState does for one
   */
  private async indexQueueChunk(ids: string[]): Promise<void> {
    let pending = ids;
    for (let attempt = 0; pending.length > 0 && attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const docs = await this.store.mget(pending.map(alertKey));
      const written = docs.map((raw) => (raw ? queueEntries(JSON.parse(raw) as Alert) : queueEntries(gone)));
      await Promise.all(pending.map((id, j) => writeQueueEntries(this.store, id, written[j])));
      const again = await this.store.mget(pending.map(alertKey));
      pending = pending.filter(
        (_, j) => !sameEntries(written[j], queueEntries(again[j] ? (JSON.parse(again[j] as string) as Alert) : gone)),
      );
    }
  }

  /**
   * keep the indexes of unresolved alerts (by time, and the queue's by severity, count and first seen) in step with
   * an alert just written. Another writer may change the alert between this one's write and its index writes, and
   * its own index writes may land before these: read the alert again after writing, and index what was read until
   * the two agree: so the last index write of an alert is always followed by a read of the alert as it stays
   */
  private async indexState(written: Alert): Promise<void> {
    let a: Alert = written;
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const entries = queueEntries(a);
      // one pass: the time index and the queue's entries at once (pipelined on Redis), then the read
      await Promise.all([
        a.state !== 'resolved' ? this.store.zadd(LIVE_BY_TIME, a.lastSeen, a.id) : this.store.zrem(LIVE_BY_TIME, a.id),
        writeQueueEntries(this.store, a.id, entries),
      ]);
      const now = await this.get(a.id);
      // deleted by retention meanwhile: out of the queue
      const stays = now ?? { ...a, state: 'resolved' as const };
      // an unresolved alert's entries hold its state and lastSeen, so equal entries index it as it stays
      if (sameEntries(entries, queueEntries(stays))) return;
      a = stays;
    }
  }

  /**
   * the alerts matching `filter`, `limit` at a time from `cursor`, in the order `sort` gives: by lastSeen (the
   * default) for any state, from the time indexes; the other orders for open or acknowledged alerts only, from the
   * queue's index of that order (for another state they would read every alert, and are refused)
   */
  async list(filter: AlertFilter = {}, limit = 50, cursor?: string, sort: AlertSort = 'last_seen'): Promise<AlertPage> {
    if (sort !== 'last_seen') return this.listQueue(filter, limit, cursor, sort);
    // newest first by lastSeen, ties by id descending (the order both stores give for equal scores). The cursor is
    // `<lastSeen>:<id>` of the previous page's last item: the next page holds what sorts strictly after it
    // open or acknowledged: only the unresolved alerts' index (a copy that lags a racing write is filtered out below)
    const index = this.liveIndexed && filter.state && filter.state !== 'resolved' ? LIVE_BY_TIME : BY_TIME;
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
      const ids = await this.store.zrange(index, min, hi, { rev: true, limit: chunk });
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

  /**
   * the unresolved (open, acknowledged) alerts, most recently seen first, at most `max`: one read of their index, the
   * alerts read in chunks (the inventory's risk reads them once per request, never per endpoint)
   */
  async unresolved(max: number): Promise<Alert[]> {
    if (!this.liveIndexed) await this.buildIndexes();
    const ids = await this.store.zrange(LIVE_BY_TIME, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, {
      rev: true,
      limit: max,
    });
    const out: Alert[] = [];
    // a copy of the index that lags a racing write: the alert as stored decides
    for await (const a of this.unresolvedAmong(ids)) out.push(a);
    return out;
  }

  /** the alerts of these ids that are stored and not resolved, in their order, read SCAN_CHUNK at a time */
  private async *unresolvedAmong(ids: string[]): AsyncGenerator<Alert> {
    for (let i = 0; i < ids.length; i += SCAN_CHUNK) {
      for (const raw of await this.store.mget(ids.slice(i, i + SCAN_CHUNK).map(alertKey))) {
        const a = raw ? (JSON.parse(raw) as Alert) : null;
        if (a && a.state !== 'resolved') yield a;
      }
    }
  }

  /**
   * a page of the open or the acknowledged queue in the order `sort` gives, read from that order's index (highest
   * first) from the cursor's position down: entries whose alert no longer sits there (a racing write not yet
   * indexed) are passed over, the filter is checked on the alerts read, and a next cursor is given only when a
   * further alert matches
   */
  private async listQueue(
    filter: AlertFilter,
    limit: number,
    cursor: string | undefined,
    sort: QueueSort,
  ): Promise<AlertPage> {
    const state = filter.state;
    if (state !== 'open' && state !== 'acknowledged')
      throw mwError(
        'BAD_REQUEST',
        `sort=${sort} lists the open or acknowledged alerts (state=open or state=acknowledged); other states list by last_seen`,
      );
    const after = cursor === undefined ? undefined : parseCursor(sort, cursor);
    if (!this.queueIndexed) await this.buildIndexes();
    const range = stateRange(
      state,
      sort,
      filter.severity && SEVERITY_RANK[filter.severity],
      filter.minSeverity && SEVERITY_RANK[filter.minSeverity],
    );
    let below = after === undefined || entryAt(state, after) > range.below ? range.below : entryAt(state, after);
    const items: Alert[] = [];
    const chunk = Math.max(limit * 2, 100);
    for (;;) {
      const entries = (await this.store.lexIndexRange(queueIndexKey(sort), { below, limit: chunk })).filter(
        (e) => e >= range.atLeast,
      );
      const docs = await this.store.mget(entries.map((e) => alertKey(idOfEntry(e))));
      for (let i = 0; i < entries.length; i++) {
        const raw = docs[i];
        if (!raw) continue;
        const a = JSON.parse(raw) as Alert;
        if (queueEntry(sort, a) !== entries[i] || !matches(a, filter) || !withinTimes(a, filter)) continue;
        if (items.length === limit) return { items, next: cursorOf(sort, positionOf(sort, items[limit - 1])) };
        items.push(a);
      }
      if (entries.length < chunk) return { items };
      below = entries[entries.length - 1];
    }
  }

  /**
   * Delete, with their notes, the alerts retention no longer keeps: resolved ones older than `resolvedMaxAgeMs`, any
   * older than `maxAgeMs`, then the least recently seen past `maxAlerts`. Safe to run on several API replicas at once.
   * A correlator refresh landing between the read and the delete of an alert this old is lost with it; the next
   * occurrence stores it again.
   */
  async prune(retention: AlertRetention, now = Date.now()): Promise<PruneResult> {
    const result: PruneResult = { resolved: 0, stale: 0, overflow: 0 };
    const resolvedCutoff = now - retention.resolvedMaxAgeMs;
    const staleCutoff = now - retention.maxAgeMs;
    // only alerts last seen before the later cutoff can go; those kept (resolved or changed since) are passed over
    const seen = new Set<string>();
    let from = Number.NEGATIVE_INFINITY;
    for (;;) {
      const ids = (
        await this.store.zrange(BY_TIME, from, Math.max(resolvedCutoff, staleCutoff), { limit: SCAN_CHUNK })
      ).filter((id) => !seen.has(id));
      if (ids.length === 0) break;
      const docs = await this.store.mget(ids.map(alertKey));
      for (let i = 0; i < ids.length; i++) {
        seen.add(ids[i]);
        const raw = docs[i];
        if (!raw) {
          await this.store.zrem(BY_TIME, ids[i]); // an index entry without its alert
          continue;
        }
        const a = JSON.parse(raw) as Alert;
        from = Math.max(from, a.lastSeen);
        const age = Math.max(a.lastSeen, a.updatedAt);
        const reason = age < staleCutoff ? 'stale' : a.state === 'resolved' && age < resolvedCutoff ? 'resolved' : null;
        if (!reason) continue;
        await this.remove(a.id);
        result[reason]++;
        pruned.inc({ reason });
      }
    }
    const excess = (await this.store.zcard(BY_TIME)) - retention.maxAlerts;
    if (excess > 0) {
      for (const id of await this.store.zrange(BY_TIME, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, {
        limit: excess,
      })) {
        await this.remove(id);
        result.overflow++;
        pruned.inc({ reason: 'overflow' });
      }
    }
    return result;
  }

  private async remove(id: string): Promise<void> {
    await this.store.zrem(BY_TIME, id);
    await this.store.zrem(LIVE_BY_TIME, id);
    await writeQueueEntries(this.store, id, queueEntries(gone));
    await this.store.del(alertKey(id));
    await this.store.del(notesKey(id));
  }

  /**
   * an analyst's triage action, with a note. `onlyIfChanged`: an alert already in the state the action leads to is
   * refused (CONFLICT) rather than noted again (bulk triage); acknowledging needs an open alert either way
   */
  transition(
    id: string,
    action: 'acknowledge' | 'resolve' | 'reopen',
    actor: string,
    comment?: string,
    options: { onlyIfChanged?: boolean } = {},
  ): Promise<Alert> {
    const next: AlertState = action === 'acknowledge' ? 'acknowledged' : action === 'resolve' ? 'resolved' : 'open';
    return this.analystChange(id, { actor, action, comment }, (current) => {
      if ((action === 'acknowledge' && current.state !== 'open') || (options.onlyIfChanged && current.state === next))
        throw mwError('CONFLICT', `alert is ${current.state}`);
      return { ...current, state: next };
    });
  }

  /**
   * an analyst gives the alert an owner (`assignee`, a principal id) or takes it away (null), with a note; its state
   * is unchanged. An alert another analyst owns (not the actor) is refused with ALERT_OWNED naming them, whether it
   * would get another owner or none, unless `takeover` (the note then says whom it was taken from); an alert that
   * already has that owner is left as it is (a comment sent with it is kept as a note), or, with `onlyIfChanged`
   * (bulk assignment), refused (CONFLICT)
   */
  async assign(
    id: string,
    assignee: string | null,
    actor: string,
    comment?: string,
    options: { onlyIfChanged?: boolean; takeover?: boolean } = {},
  ): Promise<Alert> {
    const note: Omit<AlertNote, 'ts'> = { actor, action: 'assign', comment, assignee };
    const changed = await this.analystChange(id, note, (current) => {
      delete note.takenOverFrom;
      const owner = current.assignee;
      if ((owner ?? null) === assignee) {
        if (options.onlyIfChanged)
          throw mwError('CONFLICT', assignee === null ? 'alert is unassigned' : `alert is assigned to ${assignee}`);
        return undefined;
      }
      if (owner !== undefined && owner !== actor) {
        if (!options.takeover)
          throw mwError(
            'ALERT_OWNED',
            `${owner} (send takeover: true to ${assignee === null ? 'unassign it all the same' : 'take it over'})`,
            { assignee: owner },
          );
        note.takenOverFrom = owner;
      }
      const { assignee: _, ...rest } = current;
      return assignee === null ? rest : { ...rest, assignee };
    });
    if (changed) return changed;
    // the owner it already has: nothing to change, but what the analyst wrote is kept
    if (comment) return this.comment(id, actor, comment);
    const current = await this.get(id);
    if (!current) throw mwError('NOT_FOUND', `alert ${id}`);
    return current;
  }

  /** an analyst's note on the alert (what was checked, who was called), its state and owner unchanged */
  comment(id: string, actor: string, comment: string): Promise<Alert> {
    return this.analystChange(id, { actor, action: 'comment', comment }, (current) => ({ ...current }));
  }

  /**
   * an analyst's change of a stored alert (NOT_FOUND when there is none): `change` gets the stored alert and returns
   * the new one (it may throw to refuse), stamped with the time of the note that records it; undefined when it
   * leaves the alert as it is (nothing is written or noted)
   */
  private async analystChange(
    id: string,
    note: Omit<AlertNote, 'ts'>,
    change: (current: Alert) => Alert,
  ): Promise<Alert>;
  private async analystChange(
    id: string,
    note: Omit<AlertNote, 'ts'>,
    change: (current: Alert) => Alert | undefined,
  ): Promise<Alert | undefined>;
  private async analystChange(
    id: string,
    note: Omit<AlertNote, 'ts'>,
    change: (current: Alert) => Alert | undefined,
  ): Promise<Alert | undefined> {
    const { alert: a, written } = await this.update(id, (current) => {
      if (!current) throw mwError('NOT_FOUND', `alert ${id}`);
      const next = change(current);
      if (next === undefined) return undefined;
      const now = Date.now();
      return { ...next, updatedAt: now, triagedAt: current.triagedAt ?? now };
    });
    if (!written) return undefined;
    await this.indexState(a);
    const { comment, ...rest } = note;
    await this.addNote(id, { ts: a.updatedAt, ...rest, ...(comment ? { comment } : {}) });
    this.changed(a);
    return a;
  }

  /**
   * Folds an alert into its root cause's as its symptom (pipeline/alerts/mesh-folder.ts): the symptom is resolved and
   * names the root (`foldedInto`, a note by meshward), the root lists it (`folded`; not past 100, nor once the root is
   * gone). False when the symptom is gone or was folded already
   */
  async fold(symptomId: string, rootId: string, showing: string): Promise<boolean> {
    const { alert: symptom, written } = await this.update(symptomId, (current) => {
      if (!current || current.foldedInto !== undefined) return undefined;
      return { ...current, foldedInto: rootId, state: 'resolved', updatedAt: Math.max(current.updatedAt, Date.now()) };
    });
    if (!written) return false;
    const entry: FoldedSymptom = {
      id: symptom.id,
      service: symptom.service,
      ...(symptom.endpoint !== undefined ? { endpoint: symptom.endpoint } : {}),
      summary: showing,
    };
    const { alert: root, written: listed } = await this.update(rootId, (current) => {
      if (!current) return undefined;
      const others = (current.folded ?? []).filter((f) => f.id !== symptomId);
      if (others.length >= MAX_FOLDED) return undefined;
      return { ...current, folded: [...others, entry], updatedAt: Math.max(current.updatedAt, Date.now()) };
    });
    await this.indexState(symptom);
    await this.addNote(symptomId, {
      ts: symptom.updatedAt,
      actor: CORRELATOR_ACTOR,
      action: 'resolve',
      comment: `folded into ${rootId}: a symptom of that ${symptom.kind} (root-cause folding across partitions)`,
    });
    this.changed(symptom);
    if (listed) this.changed(root);
    return true;
  }

  async addNote(id: string, note: AlertNote): Promise<void> {
    await this.store.append(notesKey(id), JSON.stringify(note));
  }

  async notes(id: string): Promise<AlertNote[]> {
    return (await this.store.readLog(notesKey(id), undefined, 500)).map((e) => JSON.parse(e.entry) as AlertNote);
  }
}

/** symptoms listed on a root cause's alert at most (`folded`) */
const MAX_FOLDED = 100;

/** who the history names for a state the correlators changed */
export const CORRELATOR_ACTOR = 'meshward';

/** the note of a state change a correlator's refresh made: resolved once the condition was quiet, or fired again */
function correlatorNote(previous: Alert, merged: Alert): AlertNote {
  const ts = Date.now();
  if (merged.state === 'resolved')
    return {
      ts,
      actor: CORRELATOR_ACTOR,
      action: 'resolve',
      comment: 'the condition stopped: no new occurrence for a while',
    };
  const again = merged.count - previous.count;
  return {
    ts,
    actor: CORRELATOR_ACTOR,
    action: 'reopen',
    comment: `fired again after it was resolved (${again} more occurrence${again === 1 ? '' : 's'})`,
  };
}

/** an alert no longer stored, as the indexes of unresolved alerts see it: out of them */
const gone = { state: 'resolved' } as Alert;

/** the lastSeen range of a filter (the time indexes read only that range; the queue's indexes are by other keys) */
const withinTimes = (a: Alert, f: AlertFilter): boolean =>
  (f.from === undefined || a.lastSeen >= f.from) && (f.to === undefined || a.lastSeen <= f.to);

function matches(a: Alert, f: AlertFilter): boolean {
  if (f.kind && a.kind !== f.kind) return false;
  if (f.severity && a.severity !== f.severity) return false;
  if (f.minSeverity && SEVERITY_RANK[a.severity] < SEVERITY_RANK[f.minSeverity]) return false;
  if (f.service && a.service !== f.service) return false;
  if (f.state && a.state !== f.state) return false;
  if (f.subject && a.subject?.value !== f.subject) return false;
  if (f.endpoint && a.endpoint !== f.endpoint) return false;
  if (f.assignee && a.assignee !== f.assignee) return false;
  if (f.unassigned && a.assignee !== undefined) return false;
  if (f.untriaged && a.triagedAt !== undefined) return false;
  return true;
}
