import { type Static, Type } from '@sinclair/typebox';

export const ApiState = Type.Union(
  [
    Type.Literal('new'),
    Type.Literal('catalogued'),
    Type.Literal('shadow'),
    Type.Literal('zombie'),
    Type.Literal('reviewed'),
  ],
  {
    description:
      'new: seen, not yet judged; catalogued: matches a live catalogue entry; shadow: absent from the catalogue; zombie: deprecated in the catalogue but called; reviewed: an analyst confirmed it',
  },
);
export type ApiState = Static<typeof ApiState>;

export const AssociationLabel = Type.Object(
  {
    value: Type.String({
      description: 'predicted class, or `unassigned` below the confidence threshold (needs review)',
    }),
    probability: Type.Number({ minimum: 0, maximum: 1 }),
    neighbours: Type.Array(Type.String(), { maxItems: 200, description: 'catalogue ids of the voting neighbours' }),
    candidate: Type.Optional(
      Type.String({ description: 'the most probable class when value is `unassigned` (for the reviewer)' }),
    ),
    pooled: Type.Optional(
      Type.Integer({
        minimum: 2,
        description:
          'endpoints of the same provider, new to the catalogue (this one included), whose class probabilities were averaged',
      }),
    ),
    because: Type.Optional(
      Type.Array(Type.String({ maxLength: 200 }), {
        maxItems: 8,
        description:
          'why: the known provider or service whose APIs have the class, and the tokens the nearest neighbours of the class share (`word refund`, `host stripe.com`)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AssociationLabel = Static<typeof AssociationLabel>;

/** ApiEntry v1: one endpoint of the inventory, identity = service + method + route template. */
export const ApiEntrySchema = Type.Object(
  {
    id: Type.String({ description: 'stable id derived from service, method and route' }),
    service: Type.String(),
    method: Type.String(),
    route: Type.String({ description: 'route template, e.g. /users/{id}' }),
    hosts: Type.Array(Type.String(), { maxItems: 16 }),
    firstSeen: Type.Number(),
    lastSeen: Type.Number(),
    count: Type.Integer({ minimum: 0 }),
    callers: Type.Array(Type.String(), { maxItems: 256, description: 'bounded set of source services / principals' }),
    params: Type.Array(Type.String(), { maxItems: 256, description: 'parameter names seen (never values)' }),
    statusMix: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
      description: 'calls per status class: 2xx, 4xx, ...',
    }),
    auth: Type.Optional(
      Type.Object(
        {
          token: Type.Integer({ minimum: 0 }),
          mtls: Type.Integer({ minimum: 0 }),
          key: Type.Integer({ minimum: 0 }),
          none: Type.Integer({ minimum: 0 }),
        },
        {
          additionalProperties: false,
          description:
            'accepted calls (status below 400) by the credential they carried: token (an Authorization credential or an identified user or client), mtls (a peer certificate), key (a credential-named parameter such as api_key), none',
        },
      ),
    ),
    catalogueId: Type.Union([Type.String(), Type.Null()], { description: 'id of the matching catalogue entry' }),
    labels: Type.Record(Type.String(), AssociationLabel, { description: 'association per label dimension' }),
    state: ApiState,
  },
  { $id: 'https://meshward.dev/schemas/api-entry-v1.json', title: 'ApiEntry', additionalProperties: false },
);
export type ApiEntry = Static<typeof ApiEntrySchema>;
