import { type Static, Type } from '@sinclair/typebox';
import type { AlertKind } from './alert-kinds.js';

export const Severity = Type.Union([
  Type.Literal('info'),
  Type.Literal('low'),
  Type.Literal('medium'),
  Type.Literal('high'),
  Type.Literal('critical'),
]);
export type Severity = Static<typeof Severity>;

/** severities in order, for comparisons (`SEVERITY_RANK[a] >= SEVERITY_RANK[b]`) */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export const AlertState = Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')]);
export type AlertState = Static<typeof AlertState>;

export const AlertSubject = Type.Object(
  {
    type: Type.String({ description: 'user | token | ip | principal | session | service | endpoint | api | sensor' }),
    value: Type.String(),
  },
  { additionalProperties: false },
);

/** an alert folded into another as its symptom: its id, place, and how it showed (the head of its summary) */
export const FoldedSymptom = Type.Object(
  {
    id: Type.String(),
    service: Type.String(),
    endpoint: Type.Optional(Type.String()),
    summary: Type.String(),
  },
  { additionalProperties: false },
);
export type FoldedSymptom = Static<typeof FoldedSymptom>;

/** Alert v1. The id is derived from (kind, service, endpoint, subject, window start) so replays never duplicate. */
export const AlertSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: Type.String(),
    kind: Type.String({ description: 'lower_snake_case alert kind, e.g. error_burst, enumeration' }),
    severity: Severity,
    state: AlertState,
    service: Type.String(),
    endpoint: Type.Optional(Type.String({ description: 'METHOD /route/template' })),
    subject: Type.Optional(AlertSubject),
    firstSeen: Type.Number(),
    lastSeen: Type.Number(),
    count: Type.Integer({ minimum: 1, description: 'how many times the condition fired into this alert' }),
    summary: Type.String(),
    expected: Type.Optional(Type.String()),
    observed: Type.Optional(Type.String()),
    evidence: Type.Object({
      recordIds: Type.Array(Type.String(), { maxItems: 50 }),
      metrics: Type.Record(Type.String(), Type.Number()),
    }),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    assignee: Type.Optional(
      Type.String({
        description: 'the analyst who owns it (principal id); set in the analyst API, never by detectors',
      }),
    ),
    triagedAt: Type.Optional(
      Type.Number({
        description:
          'when an analyst first acted on it (acknowledge, resolve, reopen, assign, note); absent: nobody has, even if the correlators resolved it',
      }),
    ),
    foldedInto: Type.Optional(
      Type.String({
        description:
          'the alert this one was folded into as a symptom of its root cause across partitions (it is resolved); set by the API, never by detectors',
      }),
    ),
    folded: Type.Optional(
      Type.Array(FoldedSymptom, {
        maxItems: 100,
        description: 'the alerts folded into this one as its symptoms across partitions (root-cause folding)',
      }),
    ),
    updatedAt: Type.Number(),
  },
  { $id: 'https://meshward.dev/schemas/alert-v1.json', title: 'Alert', additionalProperties: false },
);
export type Alert = Static<typeof AlertSchema>;
export type AlertSubject = Static<typeof AlertSubject>;

/** What a detector emits; the alert manager turns it into (or merges it into) an Alert. */
export interface AlertSignal {
  kind: AlertKind;
  severity: Severity;
  service: string;
  endpoint?: string;
  subject?: AlertSubject;
  /** event time (record ts) at which the condition was seen */
  at: number;
  /**
   * event time the finding began, when a detector signals it later than that (a count shared across partitions is
   * read after its matches): a new alert's first seen and id, so a replay that signals at another moment gives the
   * same alert. Default `at`
   */
  since?: number;
  summary: string;
  expected?: string;
  observed?: string;
  recordIds: string[];
  metrics: Record<string, number>;
  labels?: Record<string, string>;
}
