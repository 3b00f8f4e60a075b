import { type Static, Type } from '@sinclair/typebox';

export const DecisionType = Type.Union([
  Type.Literal('revoke_session'),
  Type.Literal('revoke_token'),
  Type.Literal('step_up'),
  Type.Literal('deny'),
  Type.Literal('rate_limit'),
]);
export const DecisionScope = Type.Union([
  Type.Literal('user'),
  Type.Literal('session'),
  Type.Literal('token'),
  Type.Literal('ip'),
  Type.Literal('principal'),
  Type.Literal('service'),
  Type.Literal('route'),
]);
export const DecisionState = Type.Union([
  Type.Literal('pending_approval'),
  Type.Literal('active'),
  Type.Literal('expired'),
  Type.Literal('lifted'),
  Type.Literal('failed'),
]);

/**
 * Decision v1. The id is derived from (alert id, rule name) so one alert never causes the same action twice; a renewal's
 * from (alert id, rule name, generation).
 */
export const DecisionSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: Type.String(),
    type: DecisionType,
    scope: DecisionScope,
    value: Type.String(),
    route: Type.Optional(Type.String({ description: 'restrict the decision to one METHOD /route' })),
    service: Type.Optional(Type.String()),
    until: Type.Optional(
      Type.Number({
        description:
          'epoch ms when its enforcement ends: set when it becomes active (at creation, or when approved, for ttlMs from then); absent while pending_approval, and on a decision never enforced (expired unapproved, lifted while pending)',
      }),
    ),
    ttlMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "how long it is enforced once active, ms (the rule's ttl, or its escalation step's)",
      }),
    ),
    approvalDeadline: Type.Optional(
      Type.Number({
        description:
          'epoch ms: a decision held for approval (pending_approval) not approved by then expires unapproved (its ttl after it was made); kept once it is decided',
      }),
    ),
    reason: Type.String(),
    alertId: Type.Optional(Type.String()),
    rule: Type.Optional(Type.String()),
    renews: Type.Optional(
      Type.String({
        description:
          "the id of the decision this one renews: the rule's decision on the same alert, which expired while the alert went on",
      }),
    ),
    simulated: Type.Boolean(),
    state: DecisionState,
    createdAt: Type.Number(),
    updatedAt: Type.Number(),
    acr: Type.Optional(Type.String({ description: 'for step_up: the acr value required' })),
  },
  { $id: 'https://meshward.dev/schemas/decision-v1.json', title: 'Decision', additionalProperties: false },
);
export type Decision = Static<typeof DecisionSchema>;
export type DecisionType = Static<typeof DecisionType>;
export type DecisionScope = Static<typeof DecisionScope>;
export type DecisionState = Static<typeof DecisionState>;
/** a decision being enforced (active): the enforcement feed and the adapters only ever see these, with their end */
export type EnforcedDecision = Decision & { until: number };
