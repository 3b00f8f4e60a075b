import type { Alert } from '../../pipeline/core/alert.js';
import type { AnomalyLabel, LabelPlace } from '../../pipeline/simulate/labels.js';

/** an alert after the end of its anomaly still counts within this grace (windows close late, traces close late) */
export const GRACE_MS = 3 * 60_000;
/** window-based alerts are stamped with their window's start, which may precede the anomaly by up to one window */
export const LEAD_MS = 60_000;

type AlertLike = Pick<Alert, 'kind' | 'service' | 'endpoint' | 'subject' | 'firstSeen'>;

const inTime = (a: AlertLike, l: AnomalyLabel) => a.firstSeen >= l.start - LEAD_MS && a.firstSeen <= l.end + GRACE_MS;
/** a service-level alert (no endpoint) matches a label on any endpoint of that service */
const samePlace = (a: AlertLike, p: LabelPlace) =>
  a.service === p.service && (!p.endpoint || !a.endpoint || a.endpoint === p.endpoint);
/** the alert is on the label's subject, where the label has one */
const sameSubject = (a: AlertLike, l: AnomalyLabel) =>
  !l.subject || (a.subject?.type === l.subject.type && a.subject.value === l.subject.value);

/** the alert is the label's primary manifestation: kind, place, subject (where the label has one) and time */
export function matchesPrimary(a: AlertLike, l: AnomalyLabel): boolean {
  return a.kind === l.kind && inTime(a, l) && samePlace(a, l) && sameSubject(a, l);
}

/** the alert is one of the label's secondary manifestations (callers of a failing hop, callees of a probed endpoint) */
export function matchesSecondary(a: AlertLike, l: AnomalyLabel): boolean {
  return a.kind === l.kind && inTime(a, l) && (l.alsoAt ?? []).some((p) => samePlace(a, p));
}

/**
 * the alert is of another kind the label's anomaly legitimately raises (`alsoKinds`), at one of its places, on its
 * subject, in its time: a walk of 200 order ids is also `excessive_calls`
 */
export function matchesAlsoKind(a: AlertLike, l: AnomalyLabel): boolean {
  if (!l.alsoKinds?.includes(a.kind) || !inTime(a, l) || !sameSubject(a, l)) return false;
  return samePlace(a, l) || (l.alsoAt ?? []).some((p) => samePlace(a, p));
}

export interface KindScore {
  kind: string;
  labels: number;
  found: number;
  alerts: number;
  truePositives: number;
  recall: number;
  precision: number;
  /** alerts that matched no label, for diagnosis */
  falsePositives: AlertLike[];
  /** labels no alert found */
  missed: AnomalyLabel[];
}

/**
 * per-kind recall (labels found by a primary match) and precision (alerts matching any label's place, or another
 * label's `alsoKinds`)
 */
export function score(
  kinds: readonly string[],
  labels: readonly AnomalyLabel[],
  alerts: readonly AlertLike[],
): KindScore[] {
  return kinds.map((kind) => {
    const ls = labels.filter((l) => l.kind === kind);
    const as = alerts.filter((a) => a.kind === kind);
    const missed = ls.filter((l) => !as.some((a) => matchesPrimary(a, l)));
    const others = labels.filter((l) => l.kind !== kind && l.alsoKinds?.includes(kind));
    const falsePositives = as.filter(
      (a) =>
        !ls.some((l) => matchesPrimary(a, l) || matchesSecondary(a, l)) && !others.some((l) => matchesAlsoKind(a, l)),
    );
    const truePositives = as.length - falsePositives.length;
    return {
      kind,
      labels: ls.length,
      found: ls.length - missed.length,
      alerts: as.length,
      truePositives,
      recall: ls.length === 0 ? Number.NaN : (ls.length - missed.length) / ls.length,
      precision: as.length === 0 ? Number.NaN : truePositives / as.length,
      falsePositives,
      missed,
    };
  });
}
