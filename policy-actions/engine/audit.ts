import type { Store } from '../../pipeline/store/store.js';

/** One audit entry. `detail` is free text written by the engine and the adapters; it never carries secrets. */
export interface AuditEntry {
  ts: number;
  /** `system` or the user id of the analyst */
  actor: string;
  /** e.g. decision_created, adapter_apply, adapter_revert, approved, lifted, expired, renewed, guardrail_allowlist */
  action: string;
  decisionId: string;
  alertId?: string;
  /** adapter config key, for adapter calls */
  adapter?: string;
  /** ok, error, skipped, held, simulated, ... */
  outcome: string;
  detail: string;
}

export interface AuditQuery {
  /** sequence id to start after (exclusive) */
  after?: string;
  /** newest first, from before this sequence id (exclusive; `next` of the previous page) */
  before?: string;
  /** newest first (then `before` pages) instead of oldest first (`after`) */
  newestFirst?: boolean;
  limit?: number;
  decisionId?: string;
}

export interface AuditPage {
  entries: (AuditEntry & { id: string })[];
  /** pass as `after` (newest first: `before`) for the next page; absent at the end of the log */
  next?: string;
}

export const AUDIT_LOG = 'audit';

/** The audit trail on Store log `audit`: append-only JSON entries, read in pages. */
export class AuditLog {
  constructor(private readonly store: Store) {}

  async write(entry: AuditEntry): Promise<string> {
    return this.store.append(AUDIT_LOG, JSON.stringify(entry));
  }

  async query(q: AuditQuery = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    const entries: AuditPage['entries'] = [];
    let cursor = q.newestFirst ? q.before : q.after;
    // a decision filter scans in pages; bound the scan so one query cannot walk an unbounded log
    const maxScanned = q.decisionId ? limit * 50 + 1000 : limit;
    let scanned = 0;
    while (entries.length < limit && scanned < maxScanned) {
      const n = q.decisionId ? 500 : limit - entries.length;
      const page = q.newestFirst
        ? await this.store.readLogBackwards(AUDIT_LOG, cursor, n)
        : await this.store.readLog(AUDIT_LOG, cursor, n);
      if (page.length === 0) return { entries };
      for (const { id, entry } of page) {
        scanned++;
        cursor = id;
        const parsed = JSON.parse(entry) as AuditEntry;
        if (q.decisionId && parsed.decisionId !== q.decisionId) continue;
        entries.push({ id, ...parsed });
        if (entries.length >= limit) break;
      }
    }
    return { entries, next: cursor };
  }
}
