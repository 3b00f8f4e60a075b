import { type Static, Type } from '@sinclair/typebox';

/** Where else an injected anomaly legitimately shows (callers of a failing hop, callees of a flooded endpoint). */
export const LabelPlace = Type.Object(
  { service: Type.String(), endpoint: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

/**
 * The ground truth of one injected anomaly. An alert matches when its kind is `kind`, its service (and endpoint and
 * subject, where the label has them) match, and it was first seen within [start, end + grace]. An alert that matches
 * a place in `alsoAt` (same kind and time) is not a false positive, but recall only counts the primary place.
 */
export const AnomalyLabelSchema = Type.Object(
  {
    kind: Type.String(),
    service: Type.String(),
    endpoint: Type.Optional(Type.String()),
    subject: Type.Optional(Type.Object({ type: Type.String(), value: Type.String() }, { additionalProperties: false })),
    start: Type.Number(),
    end: Type.Number(),
    alsoAt: Type.Optional(Type.Array(LabelPlace)),
    /**
     * other alert kinds the anomaly legitimately raises at its place (or an `alsoAt` one) and subject: a walk of 200
     * order ids is also 40x the calls the endpoint's callers make (`excessive_calls`). Not a false positive; recall
     * counts only `kind`
     */
    alsoKinds: Type.Optional(Type.Array(Type.String())),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type AnomalyLabel = Static<typeof AnomalyLabelSchema>;
export type LabelPlace = Static<typeof LabelPlace>;
