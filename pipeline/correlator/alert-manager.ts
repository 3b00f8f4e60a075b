import { type Alert, type AlertSignal, type AlertSubject, SEVERITY_RANK } from '../core/alert.js';
import { KINDS_KEYED_BY_RULE } from '../core/alert-kinds.js';
import { stableId } from '../core/ids.js';
import { subjectKey } from '../detectors/shared/record-fields.js';

const MAX_EVIDENCE = 50;

export interface AlertManagerOptions {
  /** an open alert not refreshed for this long (event time) is resolved (default 10 min) */
  resolveAfterMs?: number;
  /** cap on open alerts per shard; past it the one refreshed least recently is resolved early (default 10,000) */
  maxOpen?: number;
}

/**
 * an alert's labels refreshed by a signal: the signal's values win, but `rule` lists every rule that fired into the
 * alert, first first (`documented,open_endpoint`: the catalogue's security and the unauthenticated_access tracker
 * found the same endpoint), so no finding hides the other
 */
function mergeLabels(
  current: Record<string, string> | undefined,
  next: Record<string, string>,
): Record<string, string> {
  const merged = { ...current, ...next };
  const before = current?.rule;
  if (before !== undefined && next.rule !== undefined) {
    const rules = before.split(',');
    if (!rules.includes(next.rule)) merged.rule = [...rules, next.rule].join(',');
    else merged.rule = before;
  }
  return merged;
}

/**
 * Groups detector signals into alerts: one open alert per (kind, service, endpoint, subject), and per `rule` label for
 * the kinds keyed by it (custom_rule), refreshed by repeated firing, resolved when the condition has been quiet long
 * enough. Ids derive from the grouping key and the first firing's event time, so a replay of the same records yields
 * the same alerts (no duplicates after a crash).
 */
export class AlertManager {
  /** open alerts by group key, least recently refreshed first (a refresh moves its alert to the end) */
  private readonly open = new Map<string, Alert>();
  private readonly changed = new Map<string, Alert>();
  /** group keys of the open alerts with a subject, by subject (`type:value`), for subject folding */
  private readonly bySubject = new Map<string, Set<string>>();
  /** an open alert not refreshed for this long (event time) is resolved */
  readonly resolveAfterMs: number;
  private readonly maxOpen: number;

  constructor(opts: AlertManagerOptions = {}) {
    this.resolveAfterMs = opts.resolveAfterMs ?? 10 * 60_000;
    this.maxOpen = opts.maxOpen ?? 10_000;
  }

  static groupKey(s: {
    kind: string;
    service: string;
    endpoint?: string;
    subject?: { type: string; value: string };
    labels?: Record<string, string>;
  }): string {
    const key = `${s.kind}\u0000${s.service}\u0000${s.endpoint ?? ''}\u0000${s.subject?.type ?? ''}\u0000${s.subject?.value ?? ''}`;
    return KINDS_KEYED_BY_RULE.has(s.kind) ? `${key}\u0000${s.labels?.rule ?? ''}` : key;
  }

  signal(s: AlertSignal): void {
    const key = AlertManager.groupKey(s);
    const existing = this.open.get(key);
    if (existing) {
      existing.lastSeen = Math.max(existing.lastSeen, s.at);
      existing.updatedAt = existing.lastSeen;
      existing.count++;
      if (SEVERITY_RANK[s.severity] > SEVERITY_RANK[existing.severity]) existing.severity = s.severity;
      existing.summary = s.summary;
      if (s.expected !== undefined) existing.expected = s.expected;
      if (s.observed !== undefined) existing.observed = s.observed;
      const ids = existing.evidence.recordIds;
      for (const id of s.recordIds) {
        if (ids.length >= MAX_EVIDENCE) break;
        if (!ids.includes(id)) ids.push(id);
      }
      if (s.labels) existing.labels = mergeLabels(existing.labels, s.labels);
      // an alert several rules fire into keeps the figures each one names (the last signal's win where both do); one
      // rule's signal says all there is to say
      existing.evidence.metrics = existing.labels?.rule?.includes(',')
        ? { ...existing.evidence.metrics, ...s.metrics }
        : { ...s.metrics };
      this.changed.set(existing.id, existing);
      this.open.delete(key);
      this.open.set(key, existing);
      return;
    }
    if (this.open.size >= this.maxOpen) this.evictOldest();
    const since = Math.min(s.since ?? s.at, s.at);
    const alert: Alert = {
      v: 1,
      id: KINDS_KEYED_BY_RULE.has(s.kind)
        ? stableId('alr', s.kind, s.service, s.endpoint, s.subject?.type, s.subject?.value, since, s.labels?.rule)
        : stableId('alr', s.kind, s.service, s.endpoint, s.subject?.type, s.subject?.value, since),
      kind: s.kind,
      severity: s.severity,
      state: 'open',
      service: s.service,
      ...(s.endpoint !== undefined ? { endpoint: s.endpoint } : {}),
      ...(s.subject ? { subject: { ...s.subject } } : {}),
      firstSeen: since,
      lastSeen: s.at,
      count: 1,
      summary: s.summary,
      ...(s.expected !== undefined ? { expected: s.expected } : {}),
      ...(s.observed !== undefined ? { observed: s.observed } : {}),
      evidence: { recordIds: s.recordIds.slice(0, MAX_EVIDENCE), metrics: { ...s.metrics } },
      ...(s.labels ? { labels: { ...s.labels } } : {}),
      updatedAt: s.at,
    };
    this.open.set(key, alert);
    this.index(key, alert);
    this.changed.set(alert.id, alert);
  }

  /** the open alert of a group key */
  peek(key: string): Alert | undefined {
    return this.open.get(key);
  }

  /** group keys of the open alerts of a subject, oldest first */
  openOfSubject(subject: AlertSubject): Iterable<string> {
    return this.bySubject.get(subjectKey(subject)) ?? [];
  }

  /**
   * records on an open alert what was folded into it (summary, labels, figures, a few records) without refreshing
   * it: its lastSeen and count stay the detector's, so it resolves when its own condition is quiet. false when the
   * alert is not open
   */
  amend(key: string, s: AlertSignal): boolean {
    const existing = this.open.get(key);
    if (!existing) return false;
    existing.summary = s.summary;
    existing.updatedAt = Math.max(existing.updatedAt, s.at);
    const ids = existing.evidence.recordIds;
    for (const id of s.recordIds) {
      if (ids.length >= MAX_EVIDENCE) break;
      if (!ids.includes(id)) ids.push(id);
    }
    if (s.labels) existing.labels = mergeLabels(existing.labels, s.labels);
    existing.evidence.metrics = { ...existing.evidence.metrics, ...s.metrics };
    this.changed.set(existing.id, existing);
    return true;
  }

  private index(key: string, a: Alert): void {
    if (!a.subject) return;
    const sk = subjectKey(a.subject);
    let keys = this.bySubject.get(sk);
    if (!keys) {
      keys = new Set();
      this.bySubject.set(sk, keys);
    }
    keys.add(key);
  }

  private unindex(key: string, a: Alert): void {
    if (!a.subject) return;
    const sk = subjectKey(a.subject);
    const keys = this.bySubject.get(sk);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.bySubject.delete(sk);
  }

  /** resolves alerts quiet since before `watermark - resolveAfter` */
  sweep(watermark: number): void {
    for (const [key, a] of this.open) {
      if (a.lastSeen < watermark - this.resolveAfterMs) this.resolve(key, a, watermark);
    }
  }

  private resolve(key: string, a: Alert, at: number): void {
    a.state = 'resolved';
    a.updatedAt = Math.max(at, a.lastSeen);
    this.open.delete(key);
    this.unindex(key, a);
    this.changed.set(a.id, a);
  }

  /** resolves the alert refreshed least recently (the first in `open`) */
  private evictOldest(): void {
    const first = this.open.entries().next();
    if (!first.done) this.resolve(first.value[0], first.value[1], first.value[1].lastSeen);
  }

  /** alerts created or changed since the last call (copies, safe to serialise later) */
  drain(): Alert[] {
    const out = [...this.changed.values()].map((a) => structuredClone(a));
    this.changed.clear();
    return out;
  }

  get openCount(): number {
    return this.open.size;
  }

  snapshot(): Alert[] {
    return [...this.open.values()].map((a) => structuredClone(a));
  }

  restore(alerts: Alert[]): void {
    this.open.clear();
    this.changed.clear();
    this.bySubject.clear();
    for (const a of alerts) {
      const key = AlertManager.groupKey(a);
      this.open.set(key, structuredClone(a));
      this.index(key, a);
    }
  }
}
